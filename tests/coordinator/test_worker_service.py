from __future__ import annotations

from pathlib import Path

import pytest

from coordinator.clock import FakeClock
from coordinator.engine import Engine
from coordinator.logs import LogStore
from coordinator.metastore.db import connect
from coordinator.metastore.store import Store
from coordinator.sessions import WorkerSession
from coordinator.worker_service import WorkerService, session_from_hello
from tradewind.exceptions import InvalidArgument
from tradewind.v1 import common_pb2, worker_pb2


class CountingStore(Store):
    commits = 0

    def commit(self, changes):  # type: ignore[no-untyped-def]
        CountingStore.commits += 1
        super().commit(changes)


def test_a_heartbeat_costs_no_metastore_write_and_no_scheduler_event(tmp_path: Path) -> None:
    store = CountingStore(connect(f"sqlite:///{tmp_path / 'm.db'}"))
    engine = Engine(
        store,
        FakeClock(),
        LogStore(tmp_path),
        sequential=False,
        ack_timeout=5,
        heartbeat_timeout=10,
        default_pool_slots=8,
    )
    service = WorkerService(engine, 10.0)
    session = WorkerSession("w", ("default",), frozenset({"bash"}), 2)
    before = CountingStore.commits
    for _ in range(100):
        service._handle(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat(cpu_percent=12.5)), session)
    assert CountingStore.commits == before
    assert engine.inbox.empty()
    assert session.cpu_percent == 12.5


def test_hello_is_validated_field_by_field() -> None:
    good = worker_pb2.Hello(name="w-1", slots=2, queues=["a"], kinds=[common_pb2.TASK_KIND_BASH])
    assert session_from_hello(good, None).kinds == frozenset({"bash"})
    for bad, message in [
        (worker_pb2.Hello(name="", slots=1, kinds=[1]), "worker name must be"),
        (worker_pb2.Hello(name="w", slots=99999, kinds=[1]), "slots must be between 1 and 10000"),
        (worker_pb2.Hello(name="w", slots=1, queues=["bad queue"], kinds=[1]), "invalid queue name 'bad queue'"),
        (worker_pb2.Hello(name="w", slots=1, kinds=[42]), "must declare known task kinds"),
    ]:
        with pytest.raises(InvalidArgument, match=message):
            session_from_hello(bad, None)
