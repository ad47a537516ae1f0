"""TriggererService's door: a hello breaking a rule is refused naming the field and value, a
second live triggerer cannot take a name in use, and an asset watcher's report carries its
watcher and a valid event id."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from coordinator.clock import FakeClock
from coordinator.events import TriggererJoined
from coordinator.sessions import TriggererSession
from coordinator.triggerer_service import TriggererService, triggerer_from_hello
from tests.coordinator.engine_kit import make_engine
from tradewind.exceptions import AlreadyExists, InvalidArgument
from tradewind.v1 import triggerer_pb2


@pytest.mark.parametrize(
    ("hello", "message"),
    [
        (dict(name="bad name", instance_id="i1", capacity=5), "hello.name: triggerer name must be"),
        (dict(name="t1", instance_id="", capacity=5), "hello.instance_id: triggerer 't1' instance_id must be"),
        (dict(name="t1", instance_id="i1", capacity=0), "hello.capacity: triggerer 't1' capacity must be 1 to"),
    ],
)
def test_a_hello_breaking_a_rule_is_refused_naming_the_field(
    tmp_path: Path, hello: dict[str, Any], message: str
) -> None:
    engine = make_engine(tmp_path, FakeClock())
    with pytest.raises(InvalidArgument, match=message):
        triggerer_from_hello(triggerer_pb2.TriggererHello(**hello), engine)


def test_a_live_triggerers_name_is_refused_to_another_instance_and_given_to_a_reconnect(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, FakeClock())

        async def join(instance_id: str) -> Any:
            reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            await engine.turn([TriggererJoined(TriggererSession("t1", instance_id, 10), reply)])
            return await reply

        first = await join("a1")
        with pytest.raises(AlreadyExists, match="triggerer name 't1' is in use"):
            await join("b2")
        assert await join("a1") > first  # the same process reconnecting takes its session over

    asyncio.run(scenario())


def test_an_asset_watchers_report_carries_its_watcher_and_a_bad_event_id_is_refused(tmp_path: Path) -> None:
    engine = make_engine(tmp_path, FakeClock())
    service = TriggererService(engine, 10)
    session = TriggererSession("t1", "a1", 10)
    ref = triggerer_pb2.AssetWatcherRef(asset_uri="file:///in", name="files")
    fired = triggerer_pb2.TriggerFired(trigger_id=3, event_json='"x"', asset_watcher=ref, event_id="e-1")
    service._handle(triggerer_pb2.TriggererMessage(fired=fired), session)
    failed = triggerer_pb2.TriggerFailed(trigger_id=3, error="boom", asset_watcher=ref)
    service._handle(triggerer_pb2.TriggererMessage(failed=failed), session)
    reports = [engine.inbox.get_nowait() for _ in range(engine.inbox.qsize())]
    assert [(r.asset_watcher, r.event_id, r.error) for r in reports] == [
        (("file:///in", "files"), "e-1", ""),
        (("file:///in", "files"), "", "boom"),
    ]
    fired.event_id = "not an id!"
    with pytest.raises(InvalidArgument, match="fired.event_id: triggerer 't1': an asset watcher's event id must be"):
        service._handle(triggerer_pb2.TriggererMessage(fired=fired), session)
