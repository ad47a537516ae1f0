"""A failure's callback for a task process that ended without running it (killed by SIGKILL, out
of memory, past its kill grace): the worker forks this from the DAG bundle right after, with its
output in the same attempt's log, so on_failure_callback (or on_retry_callback) still runs."""

from __future__ import annotations

from pathlib import Path

from tradewind.v1 import worker_pb2
from worker.payloads import FAILED, FAILED_NO_RETRY, Launch

#: How long the late callback may take before it is killed.
LATE_SECONDS = 60.0
_TIMED_OUT = worker_pb2.TASK_OUTCOME_TIMED_OUT


def kind_after(outcome: worker_pb2.TaskOutcome, callbacks: worker_pb2.TaskCallbacks) -> str | None:
    """The callback a try that ended with `outcome` should have run, when it is a failure."""
    if outcome == FAILED_NO_RETRY:
        kind = "on_failure_callback"
    elif outcome in (FAILED, _TIMED_OUT):
        kind = "on_retry_callback" if callbacks.retry_left else "on_failure_callback"
    else:
        return None
    return kind if kind in callbacks.kinds else None


def prepare(
    bundle_dir: Path, callbacks: worker_pb2.TaskCallbacks, dag_id: str, task_id: str, kind: str, error: str
) -> Launch:
    return Launch(
        "worker.payloads.late_callbacks:run",
        {
            "bundle_dir": str(bundle_dir),
            "dag_file": callbacks.dag_file,
            "dag_id": dag_id,
            "task_id": task_id,
            "context_json": callbacks.context_json,
            "kind": kind,
            "error": error,
        },
        None,
        None,
        ("tradewind.execution:warm_dag_file", {"bundle_dir": str(bundle_dir), "dag_file": callbacks.dag_file}),
    )


def run(bundle_dir: str, dag_file: str, dag_id: str, task_id: str, context_json: str, kind: str, error: str) -> None:
    """Runs in the forked child."""
    import logging
    import sys

    from tradewind.callbacks import run_callbacks
    from tradewind.execution import load_task
    from tradewind.templates import context_from_json

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="[%(asctime)s] %(levelname)s - %(message)s")
    print(f"the task process ended without running its {kind} ({error}); running it now", flush=True)
    task = load_task(Path(bundle_dir), dag_file, dag_id, task_id)
    run_callbacks(task, kind, context_from_json(context_json), RuntimeError(error))
    sys.stdout.flush()
