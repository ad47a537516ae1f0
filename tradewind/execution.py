"""Running one Python task inside a worker's child process, and turning its end into an outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tradewind.dagbag import load_dag_file
from tradewind.decorators import resolve
from tradewind.exceptions import SerializationError, TaskFailedNoRetry, TaskSkipped
from tradewind.operators.python import PythonOperator
from tradewind.templates import render

_LOADED: dict[tuple[str, str], dict[str, Any]] = {}


def warm_dag_file(bundle_dir: str, dag_file: str) -> None:
    """Import a DAG file ahead of time (in a fork server), so the tasks forked after it skip the import."""
    _LOADED[(bundle_dir, dag_file)] = {
        d.dag_id: d for d in load_dag_file(Path(bundle_dir) / dag_file, Path(bundle_dir))
    }


def run_python_task(
    bundle_dir: Path, dag_file: str, dag_id: str, task_id: str, xcom_inputs: dict[str, Any], context: dict[str, Any]
) -> Any:
    """Import the DAG file from the bundle, find the task and run it; returns its value."""
    dags = _LOADED.get((str(bundle_dir), dag_file))
    if dags is None:
        dags = {d.dag_id: d for d in load_dag_file(bundle_dir / dag_file, bundle_dir)}
    if dag_id not in dags:
        raise TaskFailedNoRetry(f"{dag_file} no longer defines DAG {dag_id!r}")
    task = dags[dag_id].task_dict.get(task_id)
    if task is None:
        raise TaskFailedNoRetry(f"DAG {dag_id!r} in {dag_file} no longer has task {task_id!r}")
    if isinstance(task, PythonOperator):
        task.op_args = render(resolve(task.op_args, xcom_inputs), context)
        task.op_kwargs = render(resolve(task.op_kwargs, xcom_inputs), context)
    return task.execute(context)


def encode_return_value(value: Any, task_id: str = "") -> str:
    """JSON of a task's return value; empty for None."""
    if value is None:
        return ""
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise SerializationError(
            f"task {task_id!r} returned a {type(value).__name__}, which cannot be stored as an XCom: {exc}"
        ) from None


def outcome_of(exc: BaseException | None) -> tuple[str, str]:
    """The outcome ("success", "skipped", "failed_no_retry" or "failed") and a one-line reason."""
    if exc is None:
        return "success", ""
    if isinstance(exc, TaskSkipped):
        return "skipped", str(exc) or "skipped"
    if isinstance(exc, TaskFailedNoRetry):
        return "failed_no_retry", str(exc) or "failed without retry"
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return "failed", f"{type(exc).__name__}: {message}" if message else type(exc).__name__
