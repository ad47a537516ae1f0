"""DAG run callbacks: on_success_callback / on_failure_callback, run when a run ends.

As in Airflow, where the DAG processor runs them, each runs from the DAG's file in the DAG
folder, in a child of the DAG processor's fork server (never in the coordinator's own process
or event loop), under a time limit. Its output, and the traceback of a callback that raises,
go to one log file per run under the log folder (`path`), which `GetDagRunCallbackLog` (the
CLI's `tradewind runs callback-log`) reads. Nothing a callback does changes the run's state.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coordinator.scheduling.effects import RunCallback
from tradewind.forkserver import ForkServer

log = logging.getLogger("tradewind.coordinator")
#: The most of a callback log a reader gets: its end.
MAX_READ = 1 << 20


def callback_log_path(log_root: Path, dag_id: str, run_id: str) -> Path:
    return log_root / f"dag_id={dag_id}" / f"run_id={run_id}" / "dag_run_callbacks.log"


def read_callback_log(log_root: Path, dag_id: str, run_id: str) -> bytes:
    path = callback_log_path(log_root, dag_id, run_id)
    try:
        with open(path, "rb") as handle:
            handle.seek(max(path.stat().st_size - MAX_READ, 0))
            return handle.read()
    except FileNotFoundError:
        return b""


class DagCallbacks:
    """Runs each callback on a thread of its own pool, which waits for its child with a limit."""

    def __init__(self, forkserver: ForkServer, dags_folder: Path, log_root: Path, timeout: float) -> None:
        self.forkserver = forkserver
        self.dags_folder = dags_folder
        self.log_root = log_root
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dag-callback")
        self._lock = threading.Lock()

    def submit(self, callback: RunCallback) -> None:
        self._pool.submit(self._run, callback)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, callback: RunCallback) -> None:
        path = callback_log_path(self.log_root, callback.dag_id, callback.run_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "ab", buffering=0) as out:
                now = datetime.now(UTC).isoformat(timespec="seconds")
                out.write(f"[{now}] {callback.kind} of DAG run {callback.run_id} ({callback.reason})\n".encode())
                with self._lock:
                    self.forkserver.ensure_running()
                child = self.forkserver.spawn(
                    "coordinator.dag_callbacks:run_in_child",
                    {
                        "path": str(self.dags_folder / callback.fileloc),
                        "dags_folder": str(self.dags_folder),
                        "dag_id": callback.dag_id,
                        "kind": callback.kind,
                        "reason": callback.reason,
                        "run_json": json.dumps(callback.run),
                    },
                    stdout=out.fileno(),
                )
                try:
                    child.exit.result(timeout=self.timeout)
                except FutureTimeout:
                    child.kill()
                    child.exit.result(timeout=10)
                    out.write(f"{callback.kind} was stopped after {self.timeout:g}s (its time limit)\n".encode())
        except Exception:  # noqa: BLE001 - a callback that cannot run is logged, the run is unchanged
            log.exception("DAG %s run %s: %s could not run", callback.dag_id, callback.run_id, callback.kind)


class DagRunView:
    """The `dag_run` a DAG callback's context holds: the run's fields as attributes."""

    def __init__(self, data: dict[str, Any]) -> None:
        for name, value in data.items():
            if name.endswith("_date") or name.startswith("data_interval_"):
                value = datetime.fromisoformat(value) if value else None
            setattr(self, name, value)

    def __repr__(self) -> str:
        names = (getattr(self, "dag_id", ""), getattr(self, "logical_date", ""), getattr(self, "run_id", ""))
        return "<DagRun {} @ {}: {}>".format(*names)


def run_in_child(path: str, dags_folder: str, dag_id: str, kind: str, reason: str, run_json: str) -> None:
    """Runs in a forked child: load the DAG file, call each callback of `kind` with the context."""
    import sys

    from tradewind.compat.airflow import airflow_imports
    from tradewind.dagbag import load_dag_file

    sys.stderr = sys.stdout
    try:
        dags = {d.dag_id: d for d in load_dag_file(Path(path), Path(dags_folder))}
    except BaseException:  # noqa: BLE001 - a DAG file that no longer loads is written to the log
        print(f"the DAG file {path} does not load, so {kind} cannot run:\n{traceback.format_exc()}", flush=True)
        return
    dag = dags.get(dag_id)
    if dag is None:
        print(f"{path} no longer defines DAG {dag_id!r}, so {kind} cannot run", flush=True)
        return
    dag_run = DagRunView(json.loads(run_json))
    logical = dag_run.logical_date  # type: ignore[attr-defined]
    context = {
        "dag": dag,
        "dag_run": dag_run,
        "reason": reason,
        "run_id": dag_run.run_id,  # type: ignore[attr-defined]
        "logical_date": logical,
        "ds": logical.strftime("%Y-%m-%d") if logical else None,
        "params": {**dag.params, **dag_run.conf},  # type: ignore[attr-defined]
    }
    for callback in getattr(dag, kind):
        name = getattr(callback, "__qualname__", repr(callback))
        try:
            with airflow_imports():
                callback(context)
        except Exception:  # noqa: BLE001 - written to the log; the run's state never changes
            print(f"{kind} {name} failed; the run's state is unchanged:\n{traceback.format_exc()}", flush=True)
        sys.stdout.flush()
