"""Coordinator records and metastore rows -> protobuf messages; the one place they are built.

Shared conversions (enums, timestamps) live in tradewind.wire; this module adds the ones that
need coordinator types, so the tradewind package never imports the coordinator.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from coordinator.metastore import models as m
from coordinator.metastore.store import aware
from coordinator.payloads import Payload
from coordinator.records import AssetEvent, Run, TaskInstance, WatcherTrigger
from coordinator.sessions import TriggererSession, WorkerSession
from tradewind.states import RunState, TaskState
from tradewind.v1 import common_pb2, control_pb2, payload_pb2, worker_pb2
from tradewind.wire import (
    backfill_state_to_pb,
    reprocess_to_pb,
    run_state_to_pb,
    task_kind_to_pb,
    task_state_to_pb,
    to_timestamp,
)


def _set_time(message: Any, name: str, value: Any) -> None:
    stamp = to_timestamp(aware(value))
    if stamp is not None:
        getattr(message, name).CopyFrom(stamp)


def attempt_pb(ti_id: int, try_number: int, token: str) -> common_pb2.Attempt:
    return common_pb2.Attempt(task_instance_id=ti_id, try_number=try_number, attempt_token=token)


def assignment_pb(ti: TaskInstance, payload: Payload) -> worker_pb2.CoordinatorMessage:
    spec = ti.spec
    assert ti.attempt is not None
    task_payload = payload_pb2.TaskPayload()
    if payload.kind == "bash":
        task_payload.bash.CopyFrom(payload_pb2.BashPayload(**payload.fields))
    else:
        task_payload.python.CopyFrom(payload_pb2.PythonPayload(**payload.fields))
    assignment = worker_pb2.Assignment(
        attempt=attempt_pb(ti.id, ti.try_number, ti.attempt.token),
        dag_id=ti.run.dag_id,
        run_id=ti.run.run_id,
        task_id=ti.task_id,
        map_index=ti.map_index,
        execution_timeout_ms=int((spec.execution_timeout or 0) * 1000),
        payload=task_payload,
        queue=spec.queue,
        callbacks=worker_pb2.TaskCallbacks(**payload.callbacks) if payload.callbacks else None,
    )
    reschedules = ti.reschedules
    if reschedules is not None and reschedules.try_number == ti.try_number:
        _set_time(assignment, "reschedule_started_at", reschedules.started_at)
        assignment.reschedule_count = reschedules.count
    trigger = ti.trigger
    if trigger is not None and trigger.fired and trigger.try_number == ti.try_number:
        assignment.resume.CopyFrom(
            worker_pb2.Resume(next_method=trigger.next_method, next_kwargs_json=trigger.next_kwargs_json)
        )
    return worker_pb2.CoordinatorMessage(assignment=assignment)


def dag_pb(row: m.Dag, running: int = 0, recent: list[str] | None = None) -> control_pb2.Dag:
    message = control_pb2.Dag(
        dag_id=row.dag_id,
        description=row.description,
        fileloc=row.fileloc,
        schedule=row.schedule,
        paused=row.paused,
        active=row.active,
        tags=json.loads(row.tags),
        max_active_runs=row.max_active_runs,
        max_active_tasks=row.max_active_tasks,
        catchup=row.catchup,
        version=row.latest_version,
        task_count=row.task_count,
        running_tasks=running,
        owner=row.owner,
        display_name=row.display_name,
        recent_run_states=[run_state_to_pb(s) for s in recent or []],
    )
    _set_time(message, "next_run_at", row.next_run_at if not row.paused and row.active else None)
    _set_time(message, "last_parsed_at", row.last_parsed_at)
    return message


def task_pb(task: dict[str, Any], downstream: list[str]) -> control_pb2.Task:
    return control_pb2.Task(
        task_id=task["task_id"],
        operator=task.get("operator", ""),
        upstream_task_ids=task["upstream"],
        downstream_task_ids=downstream,
        trigger_rule=task.get("trigger_rule", "all_success"),
        retries=int(task.get("retries", 0)),
        queue=task.get("queue", "default"),
        pool=task.get("pool", "default_pool"),
        priority_weight=int(task.get("priority_weight", 1)),
        group_id=task.get("group_id", ""),
        display_name=task.get("task_display_name") or "",
        is_setup=bool(task.get("is_setup")),
        is_teardown=bool(task.get("is_teardown")),
    )


def run_pb(run: Run | m.DagRun) -> control_pb2.DagRun:
    if isinstance(run, Run):
        conf, state, version = json.dumps(run.conf), run.state, run.dag.version_id
    else:
        conf, state, version = run.conf, RunState(run.state), run.dag_version_id
    message = control_pb2.DagRun(
        dag_id=run.dag_id,
        run_id=run.run_id,
        state=run_state_to_pb(state),
        run_type=run.run_type,
        conf_json=conf,
        dag_version=version,
        backfill_id=run.backfill_id or 0,
    )
    for name in ("logical_date", "data_interval_start", "data_interval_end", "queued_at", "start_date", "end_date"):
        _set_time(message, name, getattr(run, name))
    return message


def ti_pb(ti: TaskInstance | m.TaskInstance) -> control_pb2.TaskInstance:
    if isinstance(ti, TaskInstance):
        spec = ti.spec
        message = control_pb2.TaskInstance(
            id=ti.id,
            dag_id=ti.run.dag_id,
            run_id=ti.run.run_id,
            task_id=ti.task_id,
            map_index=ti.map_index,
            state=task_state_to_pb(ti.state),
            try_number=ti.try_number,
            max_tries=ti.max_tries,
            operator=spec.operator,
            queue=spec.queue,
            pool=spec.pool,
            priority_weight=spec.priority,
            worker=ti.worker,
            rendered_map_index=ti.rendered_map_index,
        )
    else:
        message = control_pb2.TaskInstance(
            id=ti.id,
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            map_index=ti.map_index,
            state=task_state_to_pb(TaskState(ti.state)),
            try_number=ti.try_number,
            max_tries=ti.max_tries,
            operator=ti.operator,
            queue=ti.queue,
            pool=ti.pool,
            priority_weight=ti.priority_weight,
            worker=ti.worker,
            rendered_map_index=ti.rendered_map_index,
        )
    for name in ("start_date", "end_date", "next_retry_at"):
        _set_time(message, name, getattr(ti, name))
    return message


def attempt_row_pb(row: m.TaskAttempt) -> control_pb2.TaskAttempt:
    message = control_pb2.TaskAttempt(
        attempt_id=row.id,
        try_number=row.try_number,
        lost=row.lost,
        state=task_state_to_pb(TaskState(row.state)),
        worker=row.worker,
        exit_code=row.exit_code,
        error=row.error,
        usage=common_pb2.ResourceUsage(
            cpu_user_seconds=row.cpu_user, cpu_system_seconds=row.cpu_system, max_rss_bytes=row.max_rss_bytes
        ),
        rendered=row.rendered,
    )
    for name in ("ready_at", "queued_at", "sent_at", "acked_at", "started_at", "ended_at"):
        _set_time(message, name, getattr(row, name))
    return message


def triggerer_pb(triggerer: TriggererSession) -> control_pb2.Triggerer:
    message = control_pb2.Triggerer(
        name=triggerer.name,
        host=triggerer.host,
        pid=triggerer.pid,
        triggers=len(triggerer.triggers),
        capacity=triggerer.capacity,
        rss_bytes=triggerer.rss_bytes,
        cpu_percent=triggerer.cpu_percent,
    )
    _set_time(message, "connected_at", triggerer.connected_at)
    return message


def worker_pb(worker: WorkerSession) -> control_pb2.Worker:
    message = control_pb2.Worker(
        name=worker.name,
        host=worker.host,
        pid=worker.pid,
        queues=list(worker.queues),
        slots=worker.slots,
        running=len(worker.running),
        state=worker.state,
        labels=worker.labels,
        kinds=[task_kind_to_pb(k) for k in sorted(worker.kinds)],
        cpu_percent=worker.cpu_percent,
        memory_percent=worker.memory_percent,
        rss_bytes=worker.rss_bytes,
        version=worker.version,
        cpu_history=[cpu for cpu, _ in worker.history],
        memory_history=[memory for _, memory in worker.history],
    )
    _set_time(message, "connected_at", worker.connected_at)
    _set_time(message, "last_heartbeat_at", worker.last_heartbeat_at)
    return message


def worker_row_pb(row: m.Worker) -> control_pb2.Worker:
    message = control_pb2.Worker(
        name=row.name,
        host=row.host,
        pid=row.pid,
        queues=json.loads(row.queues),
        slots=row.slots,
        state=row.state,
        labels=json.loads(row.labels),
        kinds=[task_kind_to_pb(k) for k in json.loads(row.kinds)],
        version=row.version,
        reason=row.reason,
    )
    _set_time(message, "connected_at", row.connected_at)
    _set_time(message, "last_heartbeat_at", row.last_heartbeat_at)
    return message


def import_error_pb(row: m.ImportError) -> control_pb2.ImportError:
    message = control_pb2.ImportError(fileloc=row.fileloc, traceback=row.traceback)
    _set_time(message, "timestamp", row.timestamp)
    return message


def backfill_pb(row: m.Backfill, counts: Counter[str]) -> control_pb2.Backfill:
    """A backfill's row with how many of its runs are in each state ("skipped": dates left alone)."""
    message = control_pb2.Backfill(
        id=row.id,
        dag_id=row.dag_id,
        reprocess_behavior=reprocess_to_pb(row.reprocess),  # type: ignore[arg-type]
        max_active_runs=row.max_active_runs,
        run_backwards=row.run_backwards,
        state=backfill_state_to_pb(row.state),  # type: ignore[arg-type]
        queued_runs=counts[RunState.QUEUED.value],
        running_runs=counts[RunState.RUNNING.value],
        success_runs=counts[RunState.SUCCESS.value],
        failed_runs=counts[RunState.FAILED.value],
        skipped_dates=counts["skipped"],
    )
    message.total_runs = sum(count for state, count in counts.items() if state != "skipped")
    for name in ("from_date", "to_date", "created_at", "completed_at"):
        _set_time(message, name, aware(getattr(row, name)))
    return message


def backfill_date_pb(logical_date: datetime, run_id: str, state: str, skipped: str) -> control_pb2.BackfillDate:
    message = control_pb2.BackfillDate(run_id=run_id, skipped=skipped)
    message.logical_date.CopyFrom(to_timestamp(logical_date))
    if state:
        message.state = run_state_to_pb(state)
    return message


def asset_event_pb(event: AssetEvent, runs: list[tuple[str, str]]) -> control_pb2.AssetEvent:
    message = control_pb2.AssetEvent(
        id=event.id,
        uri=event.uri,
        extra_json=json.dumps(event.extra),
        source_dag_id=event.source_dag_id,
        source_run_id=event.source_run_id,
        source_task_id=event.source_task_id,
        source_map_index=event.source_map_index,
        created_runs=[control_pb2.AssetEventRun(dag_id=d, run_id=r) for d, r in runs],
        source_aliases=event.source_aliases,
    )
    _set_time(message, "timestamp", event.timestamp)
    return message


def asset_pb(
    row: m.Asset,
    last_event_at: Any,
    consumers: list[str],
    producers: list[str],
    watchers: list[WatcherTrigger] | None = None,
) -> control_pb2.Asset:
    message = control_pb2.Asset(
        uri=row.uri,
        name=row.name,
        group=row.group,
        extra_json=row.extra,
        consuming_dag_ids=consumers,
        producing_tasks=producers,
        watchers=[
            control_pb2.AssetWatcherStatus(name=w.name, classpath=w.classpath, triggerer=w.triggerer)
            for w in watchers or ()
        ],
    )
    _set_time(message, "last_event_at", last_event_at)
    return message
