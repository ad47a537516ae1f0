"""DAG -> versioned JSON, the form the coordinator stores and schedules from, and its hash."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from tradewind.dag import DAG
from tradewind.exceptions import SerializationError

FORMAT = 1


def serialize_dag(dag: DAG, fileloc: str) -> dict[str, Any]:
    """Raise SerializationError when a param cannot be JSON."""
    for name, value in dag.params.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"DAG {dag.dag_id!r} in {fileloc}: param {name!r} is not JSON: {exc}") from None
    return {
        "format": FORMAT,
        "dag_id": dag.dag_id,
        "fileloc": fileloc,
        "description": dag.description,
        "owner": dag.owner,
        "schedule": _schedule(dag.schedule),
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "end_date": dag.end_date.isoformat() if dag.end_date else None,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "tags": dag.tags,
        "params": dag.params,
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "tasks": [_task(task) for task in dag.tasks],
    }


def _schedule(schedule: Any) -> dict[str, Any] | None:
    if schedule is None:
        return None
    if isinstance(schedule, timedelta):
        return {"kind": "delta", "seconds": schedule.total_seconds()}
    if schedule == "@once":
        return {"kind": "once"}
    if schedule.startswith("@"):
        return {"kind": "preset", "expr": schedule}
    return {"kind": "cron", "expr": schedule}


def _task(task: Any) -> dict[str, Any]:
    data = {
        "task_id": task.task_id,
        "operator": type(task).__name__,
        "kind": task.kind,
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": task.trigger_rule.value,
        "retries": task.retries,
        "retry_delay": task.retry_delay,
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": task.max_retry_delay,
        "queue": task.queue,
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "priority_weight": task.priority_weight,
        "weight_rule": task.weight_rule,
        "execution_timeout": task.execution_timeout,
        "do_xcom_push": task.do_xcom_push,
    }
    if task.kind in ("bash", "python"):
        data[task.kind] = task.describe()
    return data


def dag_hash(serialized: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(serialized, sort_keys=True).encode()).hexdigest()
