"""`dag.test()`: one run of a DAG, here and now, on a throwaway metastore, with Tradewind's own parts.

The DAG's file is loaded as the DAG processor loads it and stored with its folder as the
bundle; a real engine (the scheduling core and its group commit, on a temporary SQLite file)
serves one worker child process over loopback gRPC, which runs the tasks as every worker does.
So the trigger rules, branching, XComs, templates and retries are the ones a coordinator
applies. Each task's log is printed to stdout when its try ends. The test run is the DAG's only
run: no scheduled run is made, and it runs even if the DAG is paused upon creation.

`python -m coordinator.dag_test dags/x.py` runs a DAG file as `__main__` with its `airflow.*`
imports answered by Tradewind, so an Airflow DAG file's `if __name__ == "__main__": dag.test()`
works without Airflow installed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import runpy
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coordinator.app import dag_fields
from coordinator.clock import SystemClock
from coordinator.dagspec import DagSpec
from coordinator.engine import Engine
from coordinator.events import DagVersionStored
from coordinator.logs import LogKey, LogStore
from coordinator.metastore.db import connect
from coordinator.metastore.store import Store, aware
from coordinator.server import bind, create_server
from coordinator.worker_service import WorkerService
from tradewind import xcom_codec
from tradewind.bundles import build_bundle
from tradewind.compat.airflow import airflow_imports
from tradewind.dag import DAG
from tradewind.dagbag import load_dag_file
from tradewind.exceptions import DagDefinitionError, TradewindError
from tradewind.serialization import dag_hash, serialize_dag
from tradewind.states import RunState, TaskState
from tradewind.v1 import worker_pb2_grpc
from tradewind.wire import MAX_TIMESTAMP, run_state_to_pb, task_state_from_pb

#: Told to the timetable as the latest scheduled run, so it makes none: the test run is the only one.
_NO_SCHEDULED_RUNS = MAX_TIMESTAMP
#: Task instance states in which a try has ended and its log is complete.
_TRY_ENDED = frozenset({TaskState.SUCCESS, TaskState.FAILED, TaskState.UP_FOR_RETRY})
_SETTLED = frozenset({TaskState.SKIPPED, TaskState.UPSTREAM_FAILED})
_RUN_ENDED = frozenset({run_state_to_pb(RunState.SUCCESS), run_state_to_pb(RunState.FAILED)})


@dataclass
class DagTestTaskInstance:
    task_id: str
    state: TaskState
    try_number: int
    map_index: int = -1
    start_date: datetime | None = None
    end_date: datetime | None = None
    #: Its XComs by key, decoded.
    xcoms: dict[str, Any] = field(default_factory=dict)


@dataclass
class DagTestRun:
    """The run `dag.test()` made, as the metastore holds it once it finished."""

    dag_id: str
    run_id: str
    run_type: str
    state: RunState
    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    conf: dict[str, Any]
    start_date: datetime | None
    end_date: datetime | None
    task_instances: list[DagTestTaskInstance]

    def get_task_instances(self) -> list[DagTestTaskInstance]:
        return list(self.task_instances)

    def get_task_instance(self, task_id: str, map_index: int = -1) -> DagTestTaskInstance | None:
        return next((t for t in self.task_instances if (t.task_id, t.map_index) == (task_id, map_index)), None)


def run_dag_test(dag: DAG, logical_date: datetime | None, run_conf: dict[str, Any]) -> DagTestRun:
    """Run `dag` once and return its run; blocks until the run has finished."""
    path = _dag_file(dag)
    if logical_date is not None and logical_date.tzinfo is None:
        logical_date = logical_date.replace(tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="tradewind-dag-test-") as home:
        test = _DagTest(dag.dag_id, path, Path(home))
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(test.run(logical_date, run_conf))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # called from a running event loop
            return pool.submit(asyncio.run, test.run(logical_date, run_conf)).result()


def _dag_file(dag: DAG) -> Path:
    """The file that defines `dag`: its fileloc when a DAG folder loaded it, else the module that
    holds it as a global, else the script being run."""
    if dag.fileloc and Path(dag.fileloc).is_absolute():
        return Path(dag.fileloc)
    for module in list(sys.modules.values()):
        if any(value is dag for value in list(vars(module).values())) and getattr(module, "__file__", None):
            return Path(module.__file__).resolve()  # type: ignore[arg-type]
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main is None:
        raise DagDefinitionError(f"{dag.label}: dag.test() cannot find the file that defines it; run that file")
    return Path(main).resolve()


class _DagTest:
    def __init__(self, dag_id: str, path: Path, home: Path) -> None:
        self.dag_id, self.path, self.home = dag_id, path, home
        self.folder = path.parent
        #: The last try printed of each task instance (task_id, map_index); -1 once settled without one.
        self.printed: dict[tuple[str, int], int] = {}

    async def run(self, logical_date: datetime | None, conf: dict[str, Any]) -> DagTestRun:
        store = Store(connect(f"sqlite:///{self.home / 'metastore.db'}"))
        logs = LogStore(self.home / "logs")
        engine = Engine(
            store,
            SystemClock(),
            logs,
            sequential=False,
            ack_timeout=5.0,
            heartbeat_timeout=10.0,
            default_pool_slots=128,
        )
        server = create_server()
        port = bind(server, "127.0.0.1:0")
        worker_pb2_grpc.add_WorkerServiceServicer_to_server(WorkerService(engine, 10.0), server)
        loop: asyncio.Task[None] | None = None
        worker: asyncio.subprocess.Process | None = None
        try:
            engine.start()
            engine.submit(await asyncio.to_thread(self._store_dag, store))
            await server.start()
            loop = asyncio.create_task(engine.run(), name="engine")
            worker = await asyncio.create_subprocess_exec(*self._worker_command(port))
            subscriber = engine.watchers.subscribe(self.dag_id)
            run = await engine.command(
                "trigger", dag_id=self.dag_id, conf=conf, run_id="", logical_date=logical_date
            )
            await self._follow(engine, subscriber, run.run_id, worker, loop)
            return await asyncio.to_thread(self._result, store, run.run_id)
        finally:
            await self._stop(server, worker, loop)
            logs.close_all()
            store.db.close()

    def _store_dag(self, store: Store) -> DagVersionStored:
        """Load the file as the DAG processor does and store the DAG and its folder's bundle."""
        found = [d for d in load_dag_file(self.path, self.folder) if d.dag_id == self.dag_id]
        if not found:
            raise DagDefinitionError(f"DAG {self.dag_id!r} is not one of the DAGs {self.path} defines when imported")
        data = serialize_dag(found[0], found[0].fileloc)
        bundle = build_bundle(self.folder)
        now = datetime.now(UTC)
        store.save_bundle(bundle.hash, bundle.data, now)
        version, _ = store.save_dag_version(data, dag_hash(data), bundle.hash, now, dag_fields(data, False))
        assert version is not None
        DagSpec.build(version.id, data, bundle.hash)  # a DAG the scheduler cannot build fails here, named
        return DagVersionStored(version.id, data, bundle.hash, False, _NO_SCHEDULED_RUNS)

    def _worker_command(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "worker",
            "join",
            "--host",
            f"127.0.0.1:{port}",
            "--home",
            str(self.home / "worker"),
            "--name",
            "dag-test",
            "--log-level",
            "WARNING",
            "--parent-pid",
            str(os.getpid()),
        ]

    async def _follow(
        self, engine: Engine, subscriber: Any, run_id: str, worker: asyncio.subprocess.Process, loop: asyncio.Task[None]
    ) -> None:
        """Print each try's log as it ends, until the run finishes."""
        while True:
            if worker.returncode is not None:
                raise TradewindError(f"dag.test(): the worker process exited with code {worker.returncode}")
            if loop.done():
                loop.result()
                raise TradewindError("dag.test(): scheduling stopped")
            try:
                change = await asyncio.wait_for(subscriber.next(), 0.5)
            except TimeoutError:
                continue
            kind = change.WhichOneof("change") if change is not None else None
            if kind == "task_instance" and change.task_instance.run_id == run_id:
                self._show(engine, change.task_instance)
            elif kind == "dag_run" and change.dag_run.run_id == run_id and change.dag_run.state in _RUN_ENDED:
                return

    def _show(self, engine: Engine, ti: Any) -> None:
        """Print every try of the task instance that has ended and is not printed yet. A try that
        ended and was followed by the next in one turn (a retry without delay) is only seen as
        the next try: its state is its attempt's."""
        state = task_state_from_pb(ti.state)
        instance = (ti.task_id, ti.map_index)
        done = self.printed.get(instance, 0)
        label = ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")
        if state in _SETTLED and ti.try_number == 0:
            if done == 0:
                self.printed[instance] = -1
                print(f"[{self.dag_id}] {label}: {state.value}", flush=True)
            return
        last = ti.try_number if state in _TRY_ENDED | _SETTLED else ti.try_number - 1
        if last <= done:
            return
        earlier = {a.try_number: a.state for a in engine.store.attempts(ti.id)} if done + 1 < ti.try_number else {}
        for number in range(max(done, 0) + 1, last + 1):
            ended = state.value if number == ti.try_number else earlier.get(number, "ended")
            print(f"[{self.dag_id}] {label} try {number}: {ended}", flush=True)
            text = engine.logs.read(LogKey(self.dag_id, ti.run_id, ti.task_id, number, ti.map_index))
            if text:
                sys.stdout.write(text.decode(errors="replace").rstrip("\n") + "\n")
                sys.stdout.flush()
        self.printed[instance] = last

    def _result(self, store: Store, run_id: str) -> DagTestRun:
        rows = store.load_run(self.dag_id, run_id)
        assert rows is not None
        run, tis, xcoms = rows
        values: dict[str, dict[str, Any]] = {}
        for x in xcoms:
            values.setdefault(x.task_id, {})[x.key] = xcom_codec.loads(x.value)
        return DagTestRun(
            dag_id=run.dag_id,
            run_id=run.run_id,
            run_type=run.run_type,
            state=RunState(run.state),
            logical_date=aware(run.logical_date),
            data_interval_start=aware(run.data_interval_start),
            data_interval_end=aware(run.data_interval_end),
            conf=json.loads(run.conf) if run.conf else {},
            start_date=aware(run.start_date),
            end_date=aware(run.end_date),
            task_instances=[
                DagTestTaskInstance(
                    t.task_id,
                    TaskState(t.state),
                    t.try_number,
                    t.map_index,
                    aware(t.start_date),
                    aware(t.end_date),
                    values.get(t.task_id, {}) if t.map_index < 0 else {},
                )
                for t in tis
            ],
        )

    async def _stop(
        self, server: Any, worker: asyncio.subprocess.Process | None, loop: asyncio.Task[None] | None
    ) -> None:
        if worker is not None and worker.returncode is None:
            worker.terminate()
            try:
                await asyncio.wait_for(worker.wait(), 10)
            except TimeoutError:
                worker.kill()
                await worker.wait()
        await server.stop(grace=None)
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await loop


def main(argv: list[str] | None = None) -> int:
    """Run a DAG file as `__main__` with its `airflow.*` imports answered by Tradewind."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m coordinator.dag_test DAG_FILE [ARGS...]", file=sys.stderr)
        return 2
    sys.argv = args
    with airflow_imports():
        runpy.run_path(args[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
