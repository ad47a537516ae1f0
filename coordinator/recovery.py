"""Rebuild the scheduler's memory from the metastore after a start or a crash.

Every committed run and task instance continues where it was: scheduled ones go back into
the queue, retries get their timers, and task instances held by workers wait for those
workers to reconnect and re-claim them. An expected worker has the scheduler's short
rejoin window (not a fresh heartbeat timeout) to come back; one that does, without an
attempt, or does not come back at all, loses it and the same try runs again as a new
attempt. A queued attempt not yet acknowledged gets its acknowledgement deadline again.
An unfinished backfill takes back its runs: its queued ones in its order, its running ones
against its max_active_runs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from coordinator.dagspec import DagSpec
from coordinator.metastore import models as m
from coordinator.metastore.store import Store, aware
from coordinator.records import Attempt, Backfill, LastSuccess, Run, TaskInstance, Trigger
from coordinator.scheduler import DagEntry, Scheduler
from coordinator.scheduling.effects import AckDeadline, RetryDue
from coordinator.sessions import WorkerSession
from coordinator.timetable import Timetable
from tradewind.states import FINISHED, ON_WORKER, RunState, TaskState
from tradewind.wire import BackfillState, Reprocess


def recover(scheduler: Scheduler, store: Store) -> None:
    pools = store.pools()
    scheduler.pools = {name: pool.slots for name, pool in pools.items()}
    scheduler.pools_include_deferred = {name for name, pool in pools.items() if pool.include_deferred}
    dag_rows = {row.dag_id: row for row in store.dags()}
    specs: dict[int, DagSpec] = {}
    for dag_id, version in store.latest_versions().items():
        row = dag_rows.get(dag_id)
        if row is None:
            continue
        spec = specs[version.id] = DagSpec.build(version.id, version.data, version.bundle_hash)
        entry = DagEntry(dag_id, spec, Timetable(spec.data), row.paused, active=row.active)
        entry.max_active_runs = row.max_active_runs
        entry.last_scheduled_date = aware(row.last_scheduled_date)
        scheduler.dags[dag_id] = entry
    limits = {d: e.spec.max_consecutive_failed_dag_runs for d, e in scheduler.dags.items()}
    limited = [dag_id for dag_id, limit in limits.items() if limit]
    for dag_id, states in store.recent_run_states(limited, max(limits.values(), default=0)).items():
        ended = [s for s in states if s in (RunState.SUCCESS.value, RunState.FAILED.value)]
        failed = next((i for i, s in enumerate(ended) if s != RunState.FAILED.value), len(ended))
        scheduler.dags[dag_id].failed_in_a_row = failed
    for dag_id, entry in scheduler.dags.items():
        if entry.spec.uses_past:
            latest = store.previous_run(dag_id, None, skip_manual=entry.spec.catchup)
            if latest is not None:
                scheduler.remember_past(dag_id, latest)
    for dag_id, run_row in store.last_successes().items():
        if dag_id in scheduler.dags:
            scheduler.dags[dag_id].last_success = LastSuccess(
                _required(aware(run_row.logical_date)),
                aware(run_row.data_interval_start),
                aware(run_row.data_interval_end),
                aware(run_row.start_date),
            )

    scheduler.last_backfill_id = store.max_backfill_id()
    backfill_rows, ordinals = store.unfinished_backfills()
    for b in backfill_rows:
        scheduler.backfills[b.id] = Backfill(
            b.id,
            b.dag_id,
            _required(aware(b.from_date)),
            _required(aware(b.to_date)),
            Reprocess(b.reprocess),
            b.max_active_runs,
            b.run_backwards,
            _required(aware(b.created_at)),
            BackfillState(b.state),
            aware(b.completed_at),
        )

    state = store.load_active()
    tis_by_run: dict[int, list[m.TaskInstance]] = {}
    for ti_row in state.tis:
        tis_by_run.setdefault(ti_row.dag_run_id, []).append(ti_row)
    xcoms_by_run: dict[int, list[m.XCom]] = {}
    for x in state.xcoms:
        xcoms_by_run.setdefault(x.dag_run_id, []).append(x)
    latest_attempt = {a.task_instance_id: a for a in state.attempts}
    losses = Counter(a.task_instance_id for a in state.attempts if a.lost)
    expected: dict[str, WorkerSession] = {}
    now = scheduler.clock.now()

    for run_row in state.runs:
        version = state.versions[run_row.dag_version_id]
        spec = specs.get(version.id) or DagSpec.build(version.id, version.data, version.bundle_hash)
        specs[version.id] = spec
        run = run_from_rows(
            run_row, spec, tis_by_run.get(run_row.id, []), latest_attempt, xcoms_by_run.get(run_row.id, [])
        )
        found = scheduler.dags.get(run.dag_id)
        entry = found or DagEntry(run.dag_id, spec, Timetable(spec.data), False, active=False)
        scheduler.dags[run.dag_id] = entry
        scheduler.adopt_run(run)
        backfill = scheduler.backfills.get(run.backfill_id) if run.backfill_id is not None else None
        load_previous_run(scheduler, store, run)
        if run.state is RunState.QUEUED:
            (backfill.queued if backfill is not None else entry.queued_runs).append(run)
            continue
        scheduler._count_running(run, entry, 1)
        scheduler._arm_run_timeout(run)
        waiting = []
        for ti in run.every_ti():
            ti.losses = losses[ti.id]
            if ti.state is TaskState.SCHEDULED:
                scheduler.queue.push(ti)
            elif ti.state in ON_WORKER:
                session = expected.get(ti.worker)
                if session is None:
                    session = expected[ti.worker] = WorkerSession(ti.worker, (), frozenset(), 0)
                    scheduler.expect(session)
                scheduler._hold(ti, session)
                if ti.state is TaskState.QUEUED and ti.attempt is not None and ti.attempt.acked_at is None:
                    scheduler._timer(scheduler.ack_timeout, AckDeadline(ti.id, ti.token))
            elif ti.state is TaskState.UP_FOR_RETRY:
                delay = (ti.next_retry_at - now).total_seconds() if ti.next_retry_at else 0.0
                scheduler._timer(max(delay, 0.0), RetryDue(ti.id, ti.token))
            elif ti.state is TaskState.NONE:
                waiting.append(ti)
        scheduler._evaluate(waiting)
        if run.unfinished == 0 and run.state is RunState.RUNNING:
            scheduler._finish_run(run)

    for backfill in list(scheduler.backfills.values()):
        backfill.queued = type(backfill.queued)(sorted(backfill.queued, key=lambda r: ordinals.get(r.id, 0)))
        scheduler._start_backfill_runs(backfill)
        scheduler._complete_if_done(backfill)
    scheduler.restore_triggers([trigger_from_row(r) for r in state.triggers], store.max_trigger_id())
    scheduler.restore_reschedules(
        (r.task_instance_id, r.try_number, _required(aware(r.start_date)), _required(aware(r.reschedule_date)))
        for r in state.reschedules
    )
    for entry in list(scheduler.dags.values()):
        scheduler._start_runs(entry)
        scheduler._schedule_dag(entry)


def load_previous_run(scheduler: Scheduler, store: Store, run: Run) -> None:
    """For a run brought into memory whose DAG has depends_on_past tasks: the run before it."""
    if run.dag.uses_past:
        before = store.previous_run(run.dag_id, run.logical_date, skip_manual=run.dag.catchup)
        if before is not None:
            scheduler.remember_past(run.dag_id, before)


def run_from_rows(
    row: m.DagRun,
    spec: DagSpec,
    ti_rows: Iterable[m.TaskInstance],
    attempts: dict[int, m.TaskAttempt],
    xcoms: Iterable[m.XCom],
) -> Run:
    run = Run(
        id=row.id,
        dag_id=row.dag_id,
        run_id=row.run_id,
        state=RunState(row.state),
        run_type=row.run_type,
        logical_date=_required(aware(row.logical_date)),
        data_interval_start=aware(row.data_interval_start),
        data_interval_end=aware(row.data_interval_end),
        conf=json.loads(row.conf),
        queued_at=_required(aware(row.queued_at)),
        dag=spec,
        start_date=aware(row.start_date),
        end_date=aware(row.end_date),
        backfill_id=row.backfill_id,
    )
    for t in ti_rows:
        if t.task_id not in spec.tasks:
            continue
        ti = TaskInstance(
            id=t.id,
            run=run,
            task_id=t.task_id,
            state=TaskState(t.state),
            try_number=t.try_number,
            max_tries=t.max_tries,
            worker=t.worker,
            start_date=aware(t.start_date),
            end_date=aware(t.end_date),
            next_retry_at=aware(t.next_retry_at),
            map_index=t.map_index,
            rendered_map_index=t.rendered_map_index,
        )
        a = attempts.get(t.id)
        if a is not None:
            ti.attempt = Attempt(
                id=a.id,
                ti_id=t.id,
                try_number=a.try_number,
                token=a.attempt_token,
                state=TaskState(a.state),
                worker=a.worker,
                ready_at=aware(a.ready_at),
                queued_at=aware(a.queued_at),
                sent_at=aware(a.sent_at),
                acked_at=aware(a.acked_at),
                started_at=aware(a.started_at),
                ended_at=aware(a.ended_at),
                exit_code=a.exit_code,
                error=a.error,
                cpu_user=a.cpu_user,
                cpu_system=a.cpu_system,
                max_rss_bytes=a.max_rss_bytes,
                rendered=a.rendered,
                lost=a.lost,
            )
        if ti.map_index >= 0:
            run.mapped.setdefault(t.task_id, []).append(ti)
        if ti.map_index <= 0:
            run.tis[t.task_id] = ti
    for instances in run.mapped.values():
        instances.sort(key=lambda ti: ti.map_index)
    run.unfinished = sum(1 for ti in run.every_ti() if ti.state not in FINISHED)
    run.xcoms = {(x.task_id, x.map_index, x.key): x.value for x in xcoms}
    return run


def trigger_from_row(row: m.Trigger) -> Trigger:
    return Trigger(
        id=row.id,
        ti_id=row.task_instance_id,
        try_number=row.try_number,
        classpath=row.classpath,
        kwargs_json=row.kwargs,
        next_method=row.next_method,
        next_kwargs_json=row.next_kwargs,
        timeout_at=aware(row.timeout_at),
        created_at=_required(aware(row.created_at)),
        fired=row.fired,
    )


def _required(value: datetime | None) -> datetime:
    if value is None:
        raise ValueError("a required time is missing from the metastore")
    return value
