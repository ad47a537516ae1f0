"""Python payloads: the callable is imported from the DAG bundle inside a forked child."""

from __future__ import annotations

import contextlib
import json
import os
import resource
from datetime import datetime
from pathlib import Path
from typing import Any

from tradewind.forkserver import ChildExit
from tradewind.skipping import FollowTasks
from tradewind.v1 import payload_pb2, worker_pb2
from worker.payloads import (
    DEFERRED,
    FAILED,
    FAILED_NO_RETRY,
    SKIPPED,
    SUCCESS,
    UP_FOR_RESCHEDULE,
    Launch,
    Result,
    describe_exit,
)

OUTCOMES = {
    "success": SUCCESS,
    "skipped": SKIPPED,
    "failed_no_retry": FAILED_NO_RETRY,
    "failed": FAILED,
    "up_for_reschedule": UP_FOR_RESCHEDULE,
    "deferred": DEFERRED,
}

#: The outcomes a task process exits 1 with; every other outcome exits 0.
EXITS_1 = ("failed", "failed_no_retry")


def prepare(
    payload: payload_pb2.PythonPayload,
    bundle_dir: Path,
    workdir: Path,
    channel: Path | None,
    map_index: int,
    callbacks: worker_pb2.TaskCallbacks | None = None,
    reschedule: tuple[datetime | None, int] = (None, 0),
    resume: worker_pb2.Resume | None = None,
) -> Launch:
    """`channel` is the path of the attempt's task runtime channel, None for a task without one;
    `reschedule` is when a rescheduled try started and how often it was rescheduled; `resume`,
    where a deferred task resumes."""
    return Launch(
        "worker.payloads.python:run",
        {
            "bundle_dir": str(bundle_dir),
            "dag_file": payload.dag_file,
            "dag_id": payload.dag_id,
            "task_id": payload.task_id,
            "xcom_inputs_json": payload.xcom_inputs_json or "{}",
            "mapped_kwargs_json": payload.mapped_kwargs_json,
            "context_json": payload.context_json,
            "result_path": str(workdir / "result.json"),
            "channel": str(channel) if channel is not None else "",
            "map_index": map_index,
            "callbacks_json": callbacks_json(callbacks),
            "reschedule_started_at": reschedule[0].isoformat() if reschedule[0] is not None else "",
            "reschedule_count": reschedule[1],
            "next_method": resume.next_method if resume is not None else "",
            "next_kwargs_json": resume.next_kwargs_json if resume is not None else "",
        },
        str(workdir),
        None,
        ("tradewind.execution:warm_dag_file", {"bundle_dir": str(bundle_dir), "dag_file": payload.dag_file}),
    )


def run(
    bundle_dir: str,
    dag_file: str,
    dag_id: str,
    task_id: str,
    xcom_inputs_json: str,
    mapped_kwargs_json: str,
    context_json: str,
    result_path: str,
    channel: str,
    map_index: int,
    callbacks_json: str = "",
    reschedule_started_at: str = "",
    reschedule_count: int = 0,
    next_method: str = "",
    next_kwargs_json: str = "",
) -> None:
    """Runs in the forked child: the task's own output goes to the log, the outcome to result_path.

    A failed task exits 1, so its attempt shows a real exit code; `logging.info()` reaches the
    log as it does in Airflow's task logs."""
    import logging
    import sys
    import traceback

    from tradewind import xcom_codec
    from tradewind.callbacks import Stopped, kind_for, mark_ran, raise_on_sigterm, run_callbacks
    from tradewind.exceptions import TaskDeferred, TaskRescheduled
    from tradewind.execution import (
        deferral_of,
        encode_return_value,
        load_task,
        outcome_of,
        rendered_map_index,
        run_python_task,
    )
    from tradewind.runtime import CHANNEL_ENV, RuntimeTaskInstance, set_current_context
    from tradewind.secrets_masker import MaskingStream, redact
    from tradewind.skipping import take_decision
    from tradewind.templates import context_from_json

    sys.stdout = MaskingStream(sys.stdout)  # type: ignore[assignment]
    sys.stderr = MaskingStream(sys.stderr)  # type: ignore[assignment]
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s",
        force=True,
    )
    if channel:
        os.environ[CHANNEL_ENV] = channel  # the task's own child processes may use it too
    value_json, extras, alias_events, failure, task = "", "", "", None, None
    reschedule_date, deferral = "", None
    callbacks = json.loads(callbacks_json) if callbacks_json else None
    context: dict[str, Any] = {}
    try:
        context = context_from_json(context_json)
        ti = context["ti"]
        context["ti"] = context["task_instance"] = RuntimeTaskInstance(
            ti.dag_id,
            ti.task_id,
            ti.run_id,
            ti.try_number,
            map_index,
            None,
            datetime.fromisoformat(reschedule_started_at) if reschedule_started_at else None,
            reschedule_count,
        )
        set_current_context(context)
        if callbacks is not None:
            raise_on_sigterm(Path(result_path).parent)
            task = load_task(Path(bundle_dir), dag_file, dag_id, task_id)
            run_callbacks(task, "on_execute_callback", context)
        inputs = xcom_codec.loads(xcom_inputs_json)
        resume = (next_method, xcom_codec.loads(next_kwargs_json or "{}")) if next_method else None
        mapped = xcom_codec.loads(mapped_kwargs_json) if mapped_kwargs_json else None
        value = run_python_task(Path(bundle_dir), dag_file, dag_id, task_id, inputs, context, resume, mapped)
        value_json = encode_return_value(value, task_id)
        extras = context["outlet_events"].extras_json()
        alias_events = context["outlet_events"].alias_events_json()
    except BaseException as exc:  # noqa: BLE001 - every way a task ends becomes an outcome
        failure = exc
        if isinstance(exc, TaskRescheduled):
            reschedule_date = exc.reschedule_date.isoformat()
        elif isinstance(exc, TaskDeferred):
            try:
                deferral = deferral_of(exc)
            except Exception as broken:  # noqa: BLE001 - a trigger that cannot travel fails the task
                failure = broken
                traceback.print_exc()
        elif not isinstance(exc, SystemExit):
            traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    outcome, error = outcome_of(failure)
    error = redact(error)
    if task is not None and callbacks is not None:
        ended = failure.outcome if isinstance(failure, Stopped) else outcome
        kind = kind_for(ended, bool(callbacks["retry_left"]))
        if kind is not None:
            run_callbacks(task, kind, context, failure)
        mark_ran(Path(result_path).parent)
    name = rendered_map_index(context, map_index)
    decision = take_decision()
    follow = decision.to_json() if decision is not None and outcome == "success" else None
    tmp = result_path + ".tmp"
    own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(tmp, "w") as handle:
        json.dump(
            {
                "usage": [
                    own.ru_utime + waited.ru_utime,
                    own.ru_stime + waited.ru_stime,
                    max(own.ru_maxrss, waited.ru_maxrss) * 1024,
                ],
                "outcome": outcome,
                "error": error,
                "return_value_json": value_json,
                "follow": follow,
                "outlet_extra_json": extras,
                "outlet_alias_events_json": alias_events,
                "reschedule_date": reschedule_date,
                "deferral": deferral,
                "rendered_map_index": name,
            },
            handle,
        )
    os.replace(tmp, result_path)
    # The end of the output tells the worker the task is done, without waiting for the exit to be reaped.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            os.close(fd)
    if outcome in EXITS_1:
        raise SystemExit(1)


def callbacks_json(callbacks: worker_pb2.TaskCallbacks | None) -> str:
    """What the task process needs to run its callbacks; empty when the task has none."""
    if callbacks is None or not callbacks.kinds:
        return ""
    return json.dumps({"kinds": list(callbacks.kinds), "retry_left": callbacks.retry_left})


def ended(workdir: Path) -> ChildExit | None:
    """How the task process ended, from its own result, once its output has closed; None when it
    closed its output without a result (the worker then waits for its exit)."""
    try:
        data = json.loads((workdir / "result.json").read_text())
        utime, stime, maxrss = data["usage"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    code = 1 if data.get("outcome") in EXITS_1 else 0
    return ChildExit(code, float(utime), float(stime), int(maxrss))


def interpret(workdir: Path, returncode: int) -> Result:
    path = workdir / "result.json"
    if not path.exists():
        return Result(FAILED, f"Python task process ended without a result ({describe_exit(returncode)})")
    data = json.loads(path.read_text())
    follow = FollowTasks.from_json(data["follow"]) if data.get("follow") is not None else None
    outcome = OUTCOMES.get(data["outcome"], FAILED)
    reschedule_date = datetime.fromisoformat(data["reschedule_date"]) if data.get("reschedule_date") else None
    if outcome == UP_FOR_RESCHEDULE and reschedule_date is None:
        return Result(FAILED, "the task was rescheduled without a reschedule date")
    deferral = worker_pb2.Deferral(**data["deferral"]) if data.get("deferral") else None
    if outcome == DEFERRED and deferral is None:
        return Result(FAILED, "the task deferred without a trigger")
    return Result(
        outcome,
        data.get("error", ""),
        data.get("return_value_json", ""),
        follow,
        outlet_extra_json=data.get("outlet_extra_json", ""),
        outlet_alias_events_json=data.get("outlet_alias_events_json", ""),
        reschedule_date=reschedule_date,
        deferral=deferral,
        rendered_map_index=data.get("rendered_map_index", ""),
    )
