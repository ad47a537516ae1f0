from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.css.query import NoMatches
from textual.pilot import Pilot

from tests.conftest import failed
from tests.harness import Cluster, cluster_in
from tests.tui.fixture_service import NOW, serve
from tui.app import TradewindApp

T = TypeVar("T")


@pytest.fixture
def cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    yield from cluster_in(tmp_path, lambda: failed(request))


def drive(script: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run one async test body: the app under test and the test share one event loop."""
    asyncio.run(script())


async def until(pilot: Pilot[Any], condition: Callable[[], T], timeout: float = 20.0, message: str = "") -> T:
    """Let the app run until `condition` returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = condition()
        except (AssertionError, NoMatches, IndexError, KeyError, LookupError) as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {message or condition} (last: {last!r})")
        await pilot.pause(0.05)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TradewindApp]:
    """The monitor against the fixed-data ControlService, at a fixed time, on a unix socket named the same every run."""
    monkeypatch.chdir(tmp_path)
    server, service = serve("unix:tradewind.sock")
    try:
        yield TradewindApp("unix:tradewind.sock", now=lambda: NOW)
    finally:
        service.stopped.set()
        server.stop(grace=None)
