"""ControlService reads the metastore on worker threads, never on the loop that serves worker streams."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from coordinator.clock import FakeClock
from coordinator.control_service import ControlService
from coordinator.metastore.db import connect
from coordinator.metastore.store import Store
from coordinator.records import Changes
from tests.coordinator.engine_kit import make_engine
from tradewind.exceptions import NotFound
from tradewind.v1 import control_pb2

READS = {
    "list_dags",
    "recent_run_states",
    "running_task_counts",
    "get_dag",
    "get_run",
    "list_runs",
    "list_tis",
    "grid_cells",
    "mapped_count",
    "get_ti",
    "attempts",
    "list_workers",
    "import_errors",
    "pools",
}


class ThreadRecordingStore(Store):
    """Notes the thread of every read, so the test sees where each one ran."""

    threads: list[tuple[str, int]]

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if name not in READS:
            return value
        threads = super().__getattribute__("threads")

        def read(*args: Any) -> Any:
            threads.append((name, threading.get_ident()))
            return value(*args)

        return read


def test_every_metastore_read_of_a_control_call_runs_off_the_event_loop(tmp_path: Path) -> None:
    store = ThreadRecordingStore(connect(f"sqlite:///{tmp_path / 'm.db'}"))
    store.threads = []
    engine = make_engine(tmp_path, store=store)
    service = ControlService(engine)
    c = control_pb2

    async def calls() -> int:
        loop_thread = threading.get_ident()
        store.threads.clear()
        await service.ListDags(c.ListDagsRequest(), None)  # type: ignore[arg-type]
        await service.ListDagRuns(c.ListDagRunsRequest(), None)  # type: ignore[arg-type]
        await service.ListWorkers(c.ListWorkersRequest(), None)  # type: ignore[arg-type]
        await service.ListImportErrors(c.ListImportErrorsRequest(), None)  # type: ignore[arg-type]
        await service.ListPools(c.ListPoolsRequest(), None)  # type: ignore[arg-type]
        for missing in (
            service.GetDagGrid(c.GetDagGridRequest(dag_id="d"), None),  # type: ignore[arg-type]
            service.ListTaskInstances(c.ListTaskInstancesRequest(dag_id="d", run_id="r"), None),  # type: ignore[arg-type]
            service.GetTaskInstance(c.GetTaskInstanceRequest(dag_id="d", run_id="r", task_id="t"), None),  # type: ignore[arg-type]
            service.ExplainTaskInstance(c.ExplainTaskInstanceRequest(dag_id="d", run_id="r", task_id="t"), None),  # type: ignore[arg-type]
        ):
            with pytest.raises(NotFound):
                await missing
        return loop_thread

    loop_thread = asyncio.run(calls())
    names = {name for name, _ in store.threads}
    assert {"list_dags", "list_runs", "list_workers", "import_errors", "pools", "get_run", "get_dag"} <= names
    on_loop = sorted({name for name, thread in store.threads if thread == loop_thread})
    assert on_loop == [], f"read on the event loop: {on_loop}"


def test_workers_list_forgets_workers_gone_past_the_retention_at_most_once_a_minute(tmp_path: Path) -> None:
    clock = FakeClock()
    engine = make_engine(tmp_path, clock=clock)
    service = ControlService(engine, worker_retention=3600)

    def gone(name: str, hours_ago: float = 0) -> None:
        seen = clock.now() - timedelta(hours=hours_ago)
        engine.store.commit(Changes(workers={name: {"state": "lost", "reason": "", "last_seen_at": seen}}))

    async def names() -> list[str]:
        response = await service.ListWorkers(control_pb2.ListWorkersRequest(), None)  # type: ignore[arg-type]
        return [w.name for w in response.workers]

    async def scenario() -> None:
        gone("old", hours_ago=2)
        gone("recent")
        assert await names() == ["recent"]
        gone("stale", hours_ago=2)
        clock.advance(30)
        assert await names() == ["recent", "stale"], "forgotten again within a minute of the last time"
        clock.advance(30)
        assert await names() == ["recent"]

    asyncio.run(scenario())
