"""The scheduling core: events in, state changes and effects out. No I/O here.

The engine feeds it batches of events, then takes its `Changes` (committed in one
transaction) and its effects (sent only after that commit). Readiness is decided by events:
when a task instance finishes, only its downstream tasks are evaluated.
"""

from __future__ import annotations

import heapq
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from coordinator import payloads
from coordinator.clock import Clock
from coordinator.dagspec import DagSpec
from coordinator.events import Acked, AttemptRef, Finished, Started
from coordinator.queue import GroupKey, ReadyQueue
from coordinator.records import Attempt, Changes, Run, TaskInstance
from coordinator.sessions import WorkerSession
from coordinator.timetable import RunInfo, Timetable
from tradewind.exceptions import FailedPrecondition, InvalidArgument, NotFound, TemplateError
from tradewind.states import FINISHED, ON_WORKER, RunState, TaskState, check, check_run
from tradewind.trigger_rules import UpstreamCounts, Verdict, evaluate

T = TaskState
#: States in which an attempt has ended; its recorded state no longer changes.
ATTEMPT_FINAL = frozenset({T.SUCCESS, T.FAILED, T.SKIPPED, T.UP_FOR_RETRY, T.UPSTREAM_FAILED})


@dataclass
class DagEntry:
    """What the scheduler keeps per DAG: its latest version and run bookkeeping."""

    dag_id: str
    spec: DagSpec
    timetable: Timetable
    paused: bool
    active: bool = True
    max_active_runs: int = 16
    last_scheduled_date: datetime | None = None
    queued_runs: deque[Run] = field(default_factory=deque)
    running_runs: int = 0
    #: Task instances of this DAG on workers (queued or running), for max_active_tasks.
    on_workers: int = 0


@dataclass(frozen=True)
class Effect:
    """Something to do after the commit: `kind` is assign, cancel, result_ack, drain or watch."""

    kind: str
    worker: str = ""
    subject: Any = None
    extra: Any = None


class Ids:
    """Allocates run, task instance and attempt ids; the coordinator is the only writer."""

    def __init__(self, run: int = 0, ti: int = 0, attempt: int = 0) -> None:
        self.run, self.ti, self.attempt = run, ti, attempt

    def next_run(self) -> int:
        self.run += 1
        return self.run

    def next_ti(self) -> int:
        self.ti += 1
        return self.ti

    def next_attempt(self) -> int:
        self.attempt += 1
        return self.attempt


class Scheduler:
    def __init__(
        self,
        clock: Clock,
        ids: Ids,
        *,
        sequential: bool = False,
        ack_timeout: float = 5.0,
        heartbeat_timeout: float = 10.0,
    ) -> None:
        self.clock = clock
        self.ids = ids
        self.sequential = sequential
        self.ack_timeout = ack_timeout
        self.heartbeat_timeout = heartbeat_timeout
        self.dags: dict[str, DagEntry] = {}
        self.runs: dict[int, Run] = {}
        self.runs_by_key: dict[tuple[str, str], Run] = {}
        self.tis: dict[int, TaskInstance] = {}
        self.queue = ReadyQueue()
        self.workers: dict[str, WorkerSession] = {}
        self.pools: dict[str, int] = {}
        self.pool_used: dict[str, int] = {}
        self.on_workers = 0
        self._timers: list[tuple[float, int, str, Any]] = []
        self._timer_seq = 0
        self._generation = 0
        self.changes = Changes()
        self.effects: list[Effect] = []

    # ---- batch boundary ------------------------------------------------------------------
    def take(self) -> tuple[Changes, list[Effect]]:
        changes, effects = self.changes, self.effects
        self.changes, self.effects = Changes(), []
        return changes, effects

    def next_timer_delay(self) -> float | None:
        if not self._timers:
            return None
        return max(self._timers[0][0] - self.clock.monotonic(), 0.0)

    def fire_timers(self) -> None:
        now = self.clock.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, subject = heapq.heappop(self._timers)
            getattr(self, f"_on_timer_{kind}")(subject)

    def _timer(self, delay: float, kind: str, subject: Any) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (self.clock.monotonic() + delay, self._timer_seq, kind, subject))

    # ---- DAGs ----------------------------------------------------------------------------
    def register_dag(self, spec: DagSpec, paused: bool, last_scheduled_date: datetime | None) -> None:
        entry = self.dags.get(spec.dag_id)
        timetable = Timetable(spec.data)
        if entry is None:
            entry = self.dags[spec.dag_id] = DagEntry(spec.dag_id, spec, timetable, paused)
            entry.last_scheduled_date = last_scheduled_date
        entry.spec, entry.timetable, entry.active = spec, timetable, True
        entry.max_active_runs = int(spec.data.get("max_active_runs", 16))
        self._start_runs(entry)
        self._schedule_dag(entry)
        self.effects.append(Effect("watch", subject=("dag", spec.dag_id)))

    def deactivate(self, dag_ids: tuple[str, ...]) -> None:
        for dag_id in dag_ids:
            entry = self.dags.get(dag_id)
            if entry:
                entry.active = False
                self.changes.touch_dag(dag_id, next_run_at=None)
                self.effects.append(Effect("watch", subject=("dag", dag_id)))

    def set_paused(self, dag_id: str, paused: bool) -> None:
        entry = self._dag(dag_id)
        entry.paused = paused
        self.changes.touch_dag(dag_id, paused=paused)
        self.effects.append(Effect("watch", subject=("dag", dag_id)))
        if not paused:
            self._start_runs(entry)
            self._schedule_dag(entry)

    def _dag(self, dag_id: str) -> DagEntry:
        entry = self.dags.get(dag_id)
        if entry is None:
            raise NotFound(f"DAG {dag_id!r} not found")
        return entry

    def _schedule_dag(self, entry: DagEntry) -> None:
        """Create the scheduled runs that are due, as max_active_runs allows; arm a timer for the next."""
        if entry.paused or not entry.active or not entry.timetable.scheduled:
            return
        now = self.clock.now()
        while True:
            info = entry.timetable.next_run(entry.last_scheduled_date, now)
            if info is None:
                self.changes.touch_dag(entry.dag_id, next_run_at=None)
                return
            self.changes.touch_dag(entry.dag_id, next_run_at=info.run_after)
            if info.run_after > now:
                self._timer((info.run_after - now).total_seconds(), "schedule", entry.dag_id)
                return
            if len(entry.queued_runs) + entry.running_runs >= entry.max_active_runs:
                return
            run_id = f"scheduled__{info.logical_date.isoformat()}"
            entry.last_scheduled_date = info.logical_date
            self.changes.touch_dag(entry.dag_id, last_scheduled_date=info.logical_date)
            if (entry.dag_id, run_id) in self.runs_by_key:
                continue
            self._create_run(entry, run_id, "scheduled", info, {})

    def _on_timer_schedule(self, dag_id: str) -> None:
        entry = self.dags.get(dag_id)
        if entry:
            self._schedule_dag(entry)

    # ---- runs ----------------------------------------------------------------------------
    def trigger(
        self, dag_id: str, conf: dict[str, Any], run_id: str, logical_date: datetime | None, run_exists: bool
    ) -> Run:
        entry = self._dag(dag_id)
        if not entry.active:
            raise FailedPrecondition(f"DAG {dag_id!r} is no longer in the DAG folder; it cannot be triggered")
        now = self.clock.now()
        logical = logical_date or now
        run_id = run_id or f"manual__{logical.isoformat()}"
        if run_exists or (dag_id, run_id) in self.runs_by_key:
            raise FailedPrecondition(f"DAG {dag_id!r} already has a run with run_id {run_id!r}")
        start, end = entry.timetable.manual_interval(logical)
        return self._create_run(entry, run_id, "manual", RunInfo(logical, start, end, now), conf)

    def _create_run(self, entry: DagEntry, run_id: str, run_type: str, info: RunInfo, conf: dict[str, Any]) -> Run:
        run = Run(
            id=self.ids.next_run(),
            dag_id=entry.dag_id,
            run_id=run_id,
            state=RunState.QUEUED,
            run_type=run_type,
            logical_date=info.logical_date,
            data_interval_start=info.data_interval_start,
            data_interval_end=info.data_interval_end,
            conf=conf,
            queued_at=self.clock.now(),
            dag=entry.spec,
        )
        self._remember(run)
        self.changes.new_runs.append(run)
        entry.queued_runs.append(run)
        self._watch_run(run)
        self._start_runs(entry)
        return run

    def _remember(self, run: Run) -> None:
        self.runs[run.id] = run
        self.runs_by_key[(run.dag_id, run.run_id)] = run

    def _start_runs(self, entry: DagEntry) -> None:
        while entry.queued_runs and not entry.paused and entry.running_runs < entry.max_active_runs:
            run = entry.queued_runs.popleft()
            if run.state is not RunState.QUEUED:
                continue
            self._start_run(run, entry)

    def _start_run(self, run: Run, entry: DagEntry) -> None:
        now = self.clock.now()
        run.state = check_run(run.state, RunState.RUNNING)
        run.start_date = now
        entry.running_runs += 1
        self.changes.touch_run(run)
        self._watch_run(run)
        roots = []
        for task_id, spec in run.dag.tasks.items():
            ti = TaskInstance(id=self.ids.next_ti(), run=run, task_id=task_id, max_tries=spec.retries + 1)
            run.tis[task_id] = ti
            self.tis[ti.id] = ti
            self.changes.new_tis.append(ti)
            if not spec.upstream:
                roots.append(ti)
        run.unfinished = len(run.tis)
        self._evaluate(roots)
        if not run.tis:
            self._finish_run(run)

    def _finish_run(self, run: Run) -> None:
        leaves = [run.tis[t] for t in run.dag.leaves if t in run.tis]
        failed = any(ti.state in (T.FAILED, T.UPSTREAM_FAILED) for ti in leaves)
        self._end_run(run, RunState.FAILED if failed else RunState.SUCCESS)

    def _end_run(self, run: Run, state: RunState) -> None:
        run.state = check_run(run.state, state)
        run.end_date = self.clock.now()
        self.changes.touch_run(run)
        self._watch_run(run)
        entry = self.dags.get(run.dag_id)
        for ti in run.tis.values():
            self.tis.pop(ti.id, None)
        self.runs.pop(run.id, None)
        self.runs_by_key.pop((run.dag_id, run.run_id), None)
        if entry is not None:
            entry.running_runs -= 1
            self._start_runs(entry)
            self._schedule_dag(entry)

    # ---- readiness -----------------------------------------------------------------------
    def _evaluate(self, candidates: list[TaskInstance]) -> None:
        """Apply trigger rules to task instances in state none, following skips and failures down."""
        work = deque(candidates)
        while work:
            ti = work.popleft()
            if ti.state is not T.NONE:
                continue
            run = ti.run
            verdict = evaluate(ti.spec.trigger_rule, self._counts(ti))
            if verdict is Verdict.WAIT:
                continue
            if verdict is Verdict.RUN:
                self._schedule(ti)
                if ti.state is not T.SUCCESS:
                    continue
            else:
                self._set_state(ti, T.SKIPPED if verdict is Verdict.SKIP else T.UPSTREAM_FAILED)
                ti.end_date = self.clock.now()
            work.extend(run.tis[d] for d in run.dag.downstream[ti.task_id] if d in run.tis)
            self._ti_finished(ti, evaluate_downstream=False)

    def _counts(self, ti: TaskInstance) -> UpstreamCounts:
        c = {T.SUCCESS: 0, T.FAILED: 0, T.UPSTREAM_FAILED: 0, T.SKIPPED: 0, T.REMOVED: 0}
        upstream = ti.spec.upstream
        for up in upstream:
            state = ti.run.tis[up].state
            if state in c:
                c[state] += 1
        return UpstreamCounts(
            total=len(upstream),
            success=c[T.SUCCESS],
            failed=c[T.FAILED],
            upstream_failed=c[T.UPSTREAM_FAILED],
            skipped=c[T.SKIPPED],
            removed=c[T.REMOVED],
        )

    def _ti_finished(self, ti: TaskInstance, evaluate_downstream: bool = True) -> None:
        run = ti.run
        run.unfinished -= 1
        if evaluate_downstream:
            self._evaluate([run.tis[d] for d in run.dag.downstream[ti.task_id] if d in run.tis])
        if run.unfinished == 0 and run.state is RunState.RUNNING:
            self._finish_run(run)

    def _schedule(self, ti: TaskInstance) -> None:
        """Dependencies met: start a new try and put it in the queue (or finish an EmptyOperator)."""
        now = self.clock.now()
        if ti.spec.kind == "empty":
            self._set_state(ti, T.SUCCESS)
            ti.start_date = ti.end_date = now
            return
        self._set_state(ti, T.SCHEDULED)
        ti.try_number += 1
        ti.next_retry_at = None
        ti.worker = ""
        attempt = Attempt(
            id=self.ids.next_attempt(),
            ti_id=ti.id,
            try_number=ti.try_number,
            token=secrets.token_hex(8),
            state=T.SCHEDULED,
            ready_at=now,
            queued_at=now,
        )
        ti.attempt = attempt
        self.changes.new_attempts.append(attempt)
        self.queue.push(ti)

    def _set_state(self, ti: TaskInstance, state: TaskState) -> None:
        ti.state = check(ti.state, state, ti.label())
        attempt = ti.attempt
        if (
            attempt is not None
            and attempt.state not in ATTEMPT_FINAL
            and (attempt.ended_at is None or state in ATTEMPT_FINAL)
        ):
            attempt.state = state
            self.changes.touch_attempt(attempt)
        self.changes.touch_ti(ti)
        self.effects.append(Effect("watch", subject=("ti", ti)))

    def _watch_run(self, run: Run) -> None:
        self.effects.append(Effect("watch", subject=("run", run)))

    # ---- dispatch ------------------------------------------------------------------------
    def dispatch(self) -> None:
        """Match queued task instances to free worker slots, best priority first."""
        if not len(self.queue):
            return
        candidates = [w for w in self.workers.values() if w.free > 0]
        while candidates:
            progressed = []
            for worker in candidates:
                ti = self.queue.pop_for(worker.queues, worker.kinds, self._allowed)
                if ti is None:
                    continue
                self._assign(ti, worker)
                if worker.free > 0:
                    progressed.append(worker)
            candidates = progressed

    def _allowed(self, key: GroupKey, ti: TaskInstance) -> bool:
        entry = self.dags.get(key.dag_id)
        if entry is None or entry.paused:
            return False
        if self.sequential and self.on_workers >= 1:
            return False
        if entry.on_workers >= ti.run.dag.max_active_tasks:
            return False
        slots = self.pools.get(key.pool)
        return slots is not None and self.pool_used.get(key.pool, 0) + ti.spec.pool_slots <= slots

    def _assign(self, ti: TaskInstance, worker: WorkerSession) -> None:
        now = self.clock.now()
        attempt = ti.attempt
        assert attempt is not None
        try:
            payload = payloads.build(ti)
        except TemplateError as exc:
            attempt.error = str(exc)
            attempt.ended_at = now
            self._fail(ti, str(exc), retry=True)
            return
        self._set_state(ti, T.QUEUED)
        ti.worker = worker.name
        attempt.worker, attempt.sent_at, attempt.rendered = worker.name, now, payload.rendered
        self._hold(ti, worker)
        self.effects.append(Effect("assign", worker.name, ti, payload))
        self._timer(self.ack_timeout, "ack", (ti.id, attempt.token))

    def _hold(self, ti: TaskInstance, worker: WorkerSession) -> None:
        worker.running.add(ti.id)
        spec = ti.spec
        self.pool_used[spec.pool] = self.pool_used.get(spec.pool, 0) + spec.pool_slots
        self.dags[ti.run.dag_id].on_workers += 1
        self.on_workers += 1

    def _release(self, ti: TaskInstance, worker: WorkerSession | None = None) -> None:
        worker = worker or self.workers.get(ti.worker)
        if worker is None or ti.id not in worker.running:
            return
        worker.running.discard(ti.id)
        spec = ti.spec
        self.pool_used[spec.pool] = max(self.pool_used.get(spec.pool, 0) - spec.pool_slots, 0)
        entry = self.dags.get(ti.run.dag_id)
        if entry is not None:
            entry.on_workers = max(entry.on_workers - 1, 0)
        self.on_workers = max(self.on_workers - 1, 0)

    def _on_timer_ack(self, subject: tuple[int, str]) -> None:
        ti = self.tis.get(subject[0])
        if ti is None or ti.token != subject[1] or ti.state is not T.QUEUED or ti.attempt is None:
            return
        if ti.attempt.acked_at is not None:
            return
        worker = ti.worker
        self._requeue(ti, f"worker {worker!r} did not acknowledge the assignment within {self.ack_timeout:g}s")
        self.effects.append(Effect("cancel", worker, ti, "assignment expired"))

    def _requeue(self, ti: TaskInstance, reason: str) -> None:
        """Take an unstarted assignment back and queue the same try again under a new token."""
        self._release(ti)
        attempt = ti.attempt
        assert attempt is not None
        attempt.token = secrets.token_hex(8)
        attempt.worker, attempt.sent_at, attempt.acked_at = "", None, None
        attempt.error = reason
        attempt.queued_at = self.clock.now()
        ti.worker = ""
        self._set_state(ti, T.SCHEDULED)
        self.queue.push(ti)

    # ---- worker events -------------------------------------------------------------------
    def _current(self, ref: AttemptRef) -> TaskInstance | None:
        ti = self.tis.get(ref.ti_id)
        if ti is None or ti.attempt is None or ti.token != ref.token:
            return None
        return ti

    def acked(self, event: Acked) -> None:
        ti = self._current(event.attempt)
        if ti is None or ti.state is not T.QUEUED or ti.worker != event.worker:
            return
        assert ti.attempt is not None
        if event.accepted:
            ti.attempt.acked_at = self.clock.now()
            self.changes.touch_attempt(ti.attempt)
            return
        worker = self.workers.get(event.worker)
        if worker is not None and event.reason == "draining":
            worker.draining = True
        self._requeue(ti, f"worker {event.worker!r} refused it: {event.reason}")

    def started(self, event: Started) -> None:
        ti = self._current(event.attempt)
        if ti is None or ti.state not in ON_WORKER:
            return
        assert ti.attempt is not None
        now = self.clock.now()
        ti.attempt.started_at = event.started_at or now
        if ti.attempt.acked_at is None:
            ti.attempt.acked_at = now
        if ti.state is T.QUEUED:
            self._set_state(ti, T.RUNNING)
        ti.start_date = ti.start_date or ti.attempt.started_at
        self.changes.touch_ti(ti)

    def finished(self, event: Finished) -> None:
        """Apply a result; a stale one (old token, or already finished) is ignored but still acknowledged."""
        self.effects.append(Effect("result_ack", event.worker, event.attempt))
        ti = self._current(event.attempt)
        if ti is None or ti.state not in ON_WORKER:
            return
        attempt = ti.attempt
        assert attempt is not None
        now = self.clock.now()
        attempt.ended_at = event.ended_at or now
        attempt.started_at = attempt.started_at or attempt.ended_at
        attempt.exit_code, attempt.error = event.exit_code, event.error
        attempt.cpu_user, attempt.cpu_system, attempt.max_rss_bytes = (
            event.cpu_user,
            event.cpu_system,
            event.max_rss_bytes,
        )
        self._release(ti)
        outcome = event.outcome
        if outcome == "success":
            if event.return_value_json and ti.spec.do_xcom_push:
                ti.run.xcoms[(ti.task_id, "return_value")] = event.return_value_json
                self.changes.xcoms.append((ti.run.id, ti.task_id, "return_value", event.return_value_json))
            self._end_ti(ti, T.SUCCESS)
        elif outcome == "skipped":
            self._end_ti(ti, T.SKIPPED)
        else:
            self._fail(ti, event.error, retry=outcome in ("failed", "timed_out"))

    def _end_ti(self, ti: TaskInstance, state: TaskState) -> None:
        self._set_state(ti, state)
        ti.end_date = self.clock.now()
        self._ti_finished(ti)

    def _fail(self, ti: TaskInstance, reason: str, retry: bool) -> None:
        """Fail the current try: up_for_retry when tries are left (and `retry`), else failed."""
        if ti.attempt is not None and not ti.attempt.error:
            ti.attempt.error = reason
        if ti.attempt is not None and ti.attempt.ended_at is None:
            ti.attempt.ended_at = self.clock.now()
        if retry and ti.try_number < ti.max_tries:
            delay = ti.run.dag.retry_delay(ti.task_id, ti.try_number)
            self._set_state(ti, T.UP_FOR_RETRY)
            ti.next_retry_at = self.clock.now() + timedelta(seconds=delay)
            self._timer(delay, "retry", (ti.id, ti.token))
            return
        self._end_ti(ti, T.FAILED)

    def _on_timer_retry(self, subject: tuple[int, str]) -> None:
        ti = self.tis.get(subject[0])
        if ti is None or ti.token != subject[1] or ti.state is not T.UP_FOR_RETRY:
            return
        self._schedule(ti)

    # ---- workers -------------------------------------------------------------------------
    def join(
        self, session: WorkerSession, running: tuple[AttemptRef, ...]
    ) -> tuple[list[AttemptRef], list[AttemptRef]]:
        """A worker (re)connected: keep the attempts it still runs if they are current, reject the rest."""
        old = self.workers.get(session.name)
        session.last_seen = self.clock.monotonic()
        self._generation += 1
        session.generation = self._generation
        self.workers[session.name] = session
        reclaimed, rejected = [], []
        for ref in running:
            ti = self._current(ref)
            if ti is not None and ti.state in ON_WORKER:
                if old is not None and ti.id in old.running:
                    old.running.discard(ti.id)
                    session.running.add(ti.id)
                elif ti.worker != session.name:
                    rejected.append(ref)
                    continue
                else:
                    self._hold(ti, session)
                reclaimed.append(ref)
            else:
                rejected.append(ref)
        if old is not None:
            for ti_id in list(old.running):
                ti = self.tis.get(ti_id)
                if ti is not None:
                    session.running.add(ti_id)
                    # A result may still be on its way from before the reconnect.
                    self._timer(self.ack_timeout, "orphan", (ti.id, ti.token, session.name))
        self._worker_changed(session, connected_at=session.connected_at, reason="")
        self._timer(self.heartbeat_timeout, "liveness", (session.name, session.generation))
        return reclaimed, rejected

    def _on_timer_orphan(self, subject: tuple[int, str, str]) -> None:
        ti = self.tis.get(subject[0])
        if ti is None or ti.token != subject[1] or ti.state not in ON_WORKER or ti.worker != subject[2]:
            return
        self._lose(ti, f"worker {subject[2]!r} reconnected without it")

    def left(self, name: str, generation: int) -> None:
        worker = self.workers.get(name)
        if worker is None or worker.generation != generation:
            return
        worker.connected = False
        self._worker_changed(worker)

    def expect(self, session: WorkerSession) -> None:
        """After a restart: a worker that held task instances gets heartbeat_timeout to come back."""
        session.connected = False
        session.last_seen = self.clock.monotonic()
        self._generation += 1
        session.generation = self._generation
        self.workers[session.name] = session
        self._timer(self.heartbeat_timeout, "liveness", (session.name, session.generation))

    def _on_timer_liveness(self, subject: tuple[str, int]) -> None:
        """Re-armed for as long as the same session lives; a silent worker is lost."""
        worker = self.workers.get(subject[0])
        if worker is None or worker.generation != subject[1]:
            return
        silent = self.clock.monotonic() - worker.last_seen
        if silent > self.heartbeat_timeout:
            self._lost(worker)
        else:
            self._timer(self.heartbeat_timeout - silent + 0.05, "liveness", subject)

    def _lost(self, worker: WorkerSession) -> None:
        silent = self.clock.monotonic() - worker.last_seen
        reason = (
            f"worker {worker.name!r} lost: no heartbeat for {silent:.1f}s "
            f"(heartbeat_timeout {self.heartbeat_timeout:g}s)"
        )
        del self.workers[worker.name]
        for ti_id in list(worker.running):
            ti = self.tis.get(ti_id)
            if ti is not None and ti.state in ON_WORKER:
                self._lose(ti, reason, worker)
        worker.running.clear()
        self.changes.workers[worker.name] = {"state": "lost", "reason": reason}
        self.effects.append(Effect("watch", subject=("worker", worker), extra=("lost", reason)))

    def _lose(self, ti: TaskInstance, reason: str, worker: WorkerSession | None = None) -> None:
        self._release(ti, worker)
        if ti.attempt is not None:
            ti.attempt.error = reason
        self._fail(ti, reason, retry=True)

    def drain(self, name: str) -> WorkerSession:
        worker = self.workers.get(name)
        if worker is None:
            raise NotFound(f"worker {name!r} is not connected")
        worker.draining = True
        self.effects.append(Effect("drain", name, worker))
        self._worker_changed(worker)
        return worker

    def _worker_changed(self, worker: WorkerSession, **extra: Any) -> None:
        values = {
            "host": worker.host,
            "pid": worker.pid,
            "slots": worker.slots,
            "version": worker.version,
            "state": worker.state,
            **extra,
        }
        self.changes.workers[worker.name] = values
        self.effects.append(Effect("watch", subject=("worker", worker)))

    # ---- people's commands ---------------------------------------------------------------
    def set_pool(self, name: str, slots: int) -> None:
        self.pools[name] = slots

    def delete_pool(self, name: str) -> None:
        self.pools.pop(name, None)

    def adopt_run(self, run: Run) -> None:
        """Bring a finished run back into memory (to clear or mark its task instances)."""
        self._remember(run)
        for ti in run.tis.values():
            self.tis[ti.id] = ti

    def run_for(self, dag_id: str, run_id: str) -> Run | None:
        return self.runs_by_key.get((dag_id, run_id))

    def clear(self, run: Run, task_ids: list[str], include_downstream: bool) -> list[TaskInstance]:
        unknown = [t for t in task_ids if t not in run.tis]
        if unknown:
            raise NotFound(f"DAG {run.dag_id!r} run {run.run_id!r} has no task {unknown[0]!r}")
        selected = set(task_ids)
        if include_downstream:
            stack = list(task_ids)
            while stack:
                for child in run.dag.downstream[stack.pop()]:
                    if child not in selected:
                        selected.add(child)
                        stack.append(child)
        order = [t for t in run.dag.tasks if t in selected]
        cleared = []
        for task_id in order:
            ti = run.tis[task_id]
            if ti.state in ON_WORKER:
                self.effects.append(Effect("cancel", ti.worker, ti, "cleared"))
                self._release(ti)
            if ti.state in FINISHED:
                run.unfinished += 1
            if ti.attempt is not None and ti.attempt.ended_at is None:
                ti.attempt.ended_at = self.clock.now()
                ti.attempt.error = ti.attempt.error or "cleared"
            ti.max_tries = ti.try_number + ti.spec.retries + 1
            ti.end_date = ti.next_retry_at = None
            self._set_state(ti, T.NONE)
            run.xcoms.pop((task_id, "return_value"), None)
            cleared.append(ti)
        self.changes.callbacks.append(("delete_xcoms", run.id, order))
        self._reopen(run)
        self._evaluate(list(cleared))
        return cleared

    def mark(self, run: Run, task_id: str, state: TaskState) -> TaskInstance:
        if state not in (T.SUCCESS, T.FAILED):
            raise InvalidArgument(f"a task instance can be marked success or failed, not {state.value}")
        ti = run.tis.get(task_id)
        if ti is None:
            raise NotFound(f"DAG {run.dag_id!r} run {run.run_id!r} has no task {task_id!r}")
        if ti.state is state:
            return ti
        was_finished = ti.state in FINISHED
        if ti.state in ON_WORKER:
            self.effects.append(Effect("cancel", ti.worker, ti, f"marked {state.value}"))
            self._release(ti)
        if ti.attempt is not None and ti.attempt.ended_at is None:
            ti.attempt.ended_at = self.clock.now()
            ti.attempt.error = f"marked {state.value} by hand"
        self._reopen(run)
        self._set_state(ti, state)
        ti.end_date = self.clock.now()
        if was_finished:
            self._evaluate([run.tis[d] for d in run.dag.downstream[ti.task_id] if d in run.tis])
            if run.unfinished == 0:
                self._finish_run(run)
        else:
            self._ti_finished(ti)
        return ti

    def _reopen(self, run: Run) -> None:
        if run.state in (RunState.SUCCESS, RunState.FAILED):
            run.state = check_run(run.state, RunState.RUNNING)
            run.end_date = None
            self.changes.touch_run(run)
            self._watch_run(run)
            entry = self.dags.get(run.dag_id)
            if entry is not None:
                entry.running_runs += 1

    def cancel_run(self, run: Run) -> Run:
        if not run.active:
            raise FailedPrecondition(f"DAG {run.dag_id!r} run {run.run_id!r} is already {run.state.value}")
        if run.state is RunState.QUEUED:
            run.state = check_run(run.state, RunState.FAILED)
            run.end_date = self.clock.now()
            self.changes.touch_run(run)
            self._watch_run(run)
            self.runs.pop(run.id, None)
            self.runs_by_key.pop((run.dag_id, run.run_id), None)
            return run
        for ti in run.tis.values():
            if ti.state in FINISHED:
                continue
            if ti.state in ON_WORKER:
                self.effects.append(Effect("cancel", ti.worker, ti, "DAG run cancelled"))
                self._release(ti)
                if ti.attempt is not None:
                    ti.attempt.ended_at = self.clock.now()
                    ti.attempt.error = "DAG run cancelled"
                self._set_state(ti, T.FAILED)
            else:
                self._set_state(ti, T.SKIPPED if ti.state in (T.NONE, T.SCHEDULED) else T.FAILED)
            ti.end_date = self.clock.now()
        run.unfinished = 0
        self._end_run(run, RunState.FAILED)
        return run
