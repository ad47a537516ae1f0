"""Python payloads: the callable is imported from the DAG bundle inside a forked child."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tradewind.skipping import FollowTasks
from tradewind.v1 import payload_pb2
from worker.payloads import FAILED, FAILED_NO_RETRY, SKIPPED, SUCCESS, Launch, Result, describe_exit

OUTCOMES = {"success": SUCCESS, "skipped": SKIPPED, "failed_no_retry": FAILED_NO_RETRY, "failed": FAILED}


def prepare(
    payload: payload_pb2.PythonPayload, bundle_dir: Path, workdir: Path, channel: Path | None, map_index: int
) -> Launch:
    """`channel` is the path of the attempt's task runtime channel, None for a task without one."""
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
) -> None:
    """Runs in the forked child: the task's own output goes to the log, the outcome to result_path.

    A failed task exits 1, so its attempt shows a real exit code; `logging.info()` reaches the
    log as it does in Airflow's task logs."""
    import logging
    import sys
    import traceback

    from tradewind import xcom_codec
    from tradewind.execution import encode_return_value, outcome_of, rendered_map_index, run_python_task
    from tradewind.runtime import CHANNEL_ENV, RuntimeTaskInstance, set_current_context
    from tradewind.skipping import take_decision
    from tradewind.templates import context_from_json

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s",
        force=True,
    )
    if channel:
        os.environ[CHANNEL_ENV] = channel  # the task's own child processes may use it too
    value_json, failure = "", None
    context: dict[str, Any] = {}
    try:
        context = context_from_json(context_json)
        ti = context["ti"]
        context["ti"] = context["task_instance"] = RuntimeTaskInstance(
            ti.dag_id, ti.task_id, ti.run_id, ti.try_number, map_index, None
        )
        set_current_context(context)
        inputs = xcom_codec.loads(xcom_inputs_json)
        mapped = xcom_codec.loads(mapped_kwargs_json) if mapped_kwargs_json else None
        value = run_python_task(Path(bundle_dir), dag_file, dag_id, task_id, inputs, context, mapped)
        value_json = encode_return_value(value, task_id)
    except BaseException as exc:  # noqa: BLE001 - every way a task ends becomes an outcome
        failure = exc
        if not isinstance(exc, SystemExit):
            traceback.print_exc()
    outcome, error = outcome_of(failure)
    name = rendered_map_index(context, map_index)
    decision = take_decision()
    follow = decision.to_json() if decision is not None and outcome == "success" else None
    tmp = result_path + ".tmp"
    with open(tmp, "w") as handle:
        result = {"outcome": outcome, "error": error, "return_value_json": value_json, "follow": follow}
        json.dump({**result, "rendered_map_index": name}, handle)
    os.replace(tmp, result_path)
    if outcome in ("failed", "failed_no_retry"):
        raise SystemExit(1)


def interpret(workdir: Path, returncode: int) -> Result:
    path = workdir / "result.json"
    if not path.exists():
        return Result(FAILED, f"Python task process ended without a result ({describe_exit(returncode)})")
    data = json.loads(path.read_text())
    follow = FollowTasks.from_json(data["follow"]) if data.get("follow") is not None else None
    return Result(
        OUTCOMES.get(data["outcome"], FAILED),
        data.get("error", ""),
        data.get("return_value_json", ""),
        follow,
        data.get("rendered_map_index", ""),
    )
