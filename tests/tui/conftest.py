from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from tests.conftest import failed
from tests.harness import Cluster, Deadline, cluster_in
from tests.tui.fixture_service import NOW, FixtureControlService, serve
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
    # Textual's missing-row and missing-cell errors are plain Exceptions, not LookupErrors.
    errors = (AssertionError, NoMatches, LookupError, RowDoesNotExist, CellDoesNotExist)
    deadline = Deadline(condition, timeout, message, errors)
    while (value := deadline.poll()) is None:
        await pilot.pause(0.05)
    return value


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TradewindApp, FixtureControlService]]:
    """The monitor against the fixed-data ControlService, at a fixed time, on a unix socket named the same every run."""
    monkeypatch.chdir(tmp_path)
    server, service = serve("unix:tradewind.sock")
    try:
        yield TradewindApp("unix:tradewind.sock", now=lambda: NOW), service
    finally:
        service.stopped.set()
        server.stop(grace=None)


@pytest.fixture
def app(served: tuple[TradewindApp, FixtureControlService]) -> TradewindApp:
    return served[0]
