"""Dispatch: the ready queue to free worker slots; acknowledgements, refusals and losses.

Every execution is its own attempt row. An infrastructure loss (a lost worker, a refusal, an
expired acknowledgement, a reconnect without the attempt, a worker's LOST outcome) is not the
task's fault: the attempt row records lost=True and the reason, and the same try goes out
again under a new attempt row, without using a retry, up to MAX_LOSSES times per task
instance; the loss after that fails the try like any failure.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial

from coordinator import payloads
from coordinator.events import Acked, AttemptRef
from coordinator.mapspec import MappingError
from coordinator.queue import GroupKey
from coordinator.records import Run, TaskInstance
from coordinator.scheduling.base import MAX_LOSSES, log, ref
from coordinator.scheduling.effects import AckDeadline, Assign, Cancel, ForgetAttempt, SlotCheck, WriteLog
from coordinator.scheduling.runs import Runs
from coordinator.sessions import WorkerSession
from tradewind.exceptions import TemplateError
from tradewind.states import ON_WORKER, TaskState
from tradewind.wire import KILL_GRACE_SECONDS, Refusal

T = TaskState
OnError = Callable[[TaskInstance, Exception], None]


class Dispatch(Runs):
    def dispatch(self, on_error: OnError | None = None) -> None:
        """Match queued task instances to free worker slots, best priority first.

        An unexpected error while assigning one task instance goes to `on_error` (the engine
        fails that task instance and goes on); without it, it is raised.
        """
        if not len(self.queue):
            return
        candidates = [w for w in self.workers.values() if w.free > 0]
        while candidates:
            progressed = []
            for worker in candidates:
                ti = self.queue.pop_for(
                    worker.queues, worker.kinds, self._allowed, partial(self._refused_by, worker.name)
                )
                if ti is None:
                    continue
                try:
                    self._assign(ti, worker)
                except Exception as exc:
                    if on_error is None:
                        raise
                    on_error(ti, exc)
                if worker.free > 0:
                    progressed.append(worker)
            candidates = progressed

    @staticmethod
    def _refused_by(worker: str, ti: TaskInstance) -> bool:
        return worker in ti.refused_by

    def _allowed(self, key: GroupKey, ti: TaskInstance) -> bool:
        entry = self.dags.get(key.dag_id)
        if entry is None or (entry.paused and ti.run.backfill_id is None):
            return False
        if self.sequential and self.on_workers >= 1:
            return False
        if entry.on_workers >= ti.run.dag.max_active_tasks:
            return False
        slots = self.pools.get(key.pool)
        if slots is None:
            if key.pool not in self.warned_pools:
                self.warned_pools.add(key.pool)
                log.warning("%s waits for pool %r, which does not exist", ti.label(), key.pool)
            return False
        return self.pool_used.get(key.pool, 0) + ti.spec.pool_slots <= slots

    def _assign(self, ti: TaskInstance, worker: WorkerSession) -> None:
        now = self.clock.now()
        attempt = ti.attempt
        assert attempt is not None
        self._forget_xcoms(ti.run, [ti])  # every execution starts with none, as in Airflow
        try:
            entry = self.dags.get(ti.run.dag_id)
            last_success = entry.last_success if entry is not None else None
            mapped = self._mapped_arguments(ti) if ti.map_index >= 0 else None
            payload = payloads.build(ti, last_success, self.secrets, self._inlet_events(ti), mapped)
        except (TemplateError, MappingError) as exc:
            text = f"template did not render: {exc}" if isinstance(exc, TemplateError) else str(exc)
            message = self.secrets.redact(text)
            run = ti.run
            self.effects.append(
                WriteLog(run.dag_id, run.run_id, ti.task_id, ti.map_index, ti.try_number, f"{message}\n")
            )
            attempt.error, attempt.ended_at = message, now
            self._fail(ti, message, retry=True)
            return
        if payload.rendered_map_index:
            ti.rendered_map_index = payload.rendered_map_index
        for key, value_json in payload.xcom_pushes:
            ti.run.xcoms[(ti.task_id, ti.map_index, key)] = value_json
            self.changes.xcoms.append((ti.run.id, ti.task_id, ti.map_index, key, value_json))
        self._set_state(ti, T.QUEUED)
        ti.worker = worker.name
        attempt.worker, attempt.sent_at, attempt.rendered = worker.name, now, payload.rendered
        attempt.generation = worker.generation
        self._hold(ti, worker)
        self.effects.append(Assign(worker.name, worker.generation, ti, ref(attempt), ti.map_index, payload))
        self._timer(self.ack_timeout, AckDeadline(ti.id, attempt.token))

    def _forget_xcoms(self, run: Run, tis: Collection[TaskInstance]) -> None:
        """Every XCom of these task instances goes: from memory, from this batch's writes, and
        from the metastore just before the batch is committed."""
        which = {(ti.task_id, ti.map_index) for ti in tis}
        task_ids = {task_id for task_id, _ in which}
        keys = [key for key in run.xcoms if key[0] in task_ids and key[:2] in which]
        if not keys:
            return
        for key in keys:
            del run.xcoms[key]
        self.changes.xcoms = [x for x in self.changes.xcoms if x[0] != run.id or x[1:3] not in which]
        self.changes.callbacks.append(("delete_xcoms", run.id, sorted({key[:2] for key in keys})))

    def acked(self, event: Acked) -> None:
        ti = self._reported(event.attempt, event.worker, event.generation)
        if ti is None or ti.state is not T.QUEUED:
            return
        attempt = ti.attempt
        assert attempt is not None
        if event.accepted:
            attempt.acked_at = self.clock.now()
            self.changes.touch_attempt(attempt)
            return
        refusal = event.refusal or Refusal.OTHER
        worker = self.workers.get(event.worker)
        if worker is not None:
            if refusal is Refusal.DRAINING:
                worker.draining = True
                self._worker_changed(worker)
            elif refusal is Refusal.NO_FREE_SLOT:
                worker.full = True
                if not worker.running - {ti.id} and not worker.cancelled:
                    self._timer(self.ack_timeout, SlotCheck(worker.name, worker.generation))
            elif refusal is Refusal.UNSUPPORTED_KIND:
                worker.kinds = worker.kinds - {ti.spec.kind}
        if refusal is Refusal.OTHER:
            ti.refused_by.add(event.worker)
        detail = f": {event.reason}" if event.reason else ""
        self._lose(ti, f"worker {event.worker!r} refused it ({refusal.value}){detail}")

    def _reported(self, attempt: AttemptRef, worker: str, generation: int) -> TaskInstance | None:
        """The task instance whose current attempt this is, when its own session reports it."""
        ti = self.tis.get(attempt.ti_id)
        if ti is None or ti.attempt is None or ti.token != attempt.token or ti.state not in ON_WORKER:
            return None
        if (attempt.ti_id, attempt.token) in self.superseded:
            return None
        if ti.attempt.worker != worker or ti.attempt.generation != generation:
            return None
        return ti

    def _ack_expired(self, timer: AckDeadline) -> None:
        ti = self.tis.get(timer.ti_id)
        if ti is None or ti.token != timer.token or ti.state is not T.QUEUED or ti.attempt is None:
            return
        if ti.attempt.acked_at is not None:
            return
        worker = ti.worker
        self.effects.append(Cancel(worker, ref(ti.attempt), "assignment expired"))
        self._lose(ti, f"worker {worker!r} did not acknowledge the assignment within {self.ack_timeout:g}s")

    def _lose(self, ti: TaskInstance, reason: str, worker: WorkerSession | None = None) -> None:
        """An infrastructure loss: the same try again under a new attempt row, no retry used."""
        attempt = ti.attempt
        assert attempt is not None
        self._release(ti, worker)
        self._supersede(ti)
        ti.losses += 1
        attempt.lost = True
        attempt.ended_at = attempt.ended_at or self.clock.now()
        if ti.losses > MAX_LOSSES:
            attempt.error = f"{reason} (lost {ti.losses} times; at most {MAX_LOSSES} losses are run again)"
            self._fail(ti, attempt.error, retry=True)
            return
        attempt.error = reason
        attempt.state = T.FAILED
        self.changes.touch_attempt(attempt)
        self._new_attempt(ti)
        self._set_state(ti, T.SCHEDULED)
        self.queue.push(ti)

    def _withdraw(self, ti: TaskInstance, reason: str) -> None:
        """Take a task instance back from its worker: cancel that attempt's token there.

        An attempt the worker accepted keeps its worker slot until the worker reports it ended;
        the pool slot and the DAG's count are free at once, since they count task instances.
        """
        attempt = ti.attempt
        if attempt is None or ti.state not in ON_WORKER:
            return
        self.effects.append(Cancel(ti.worker, ref(attempt), reason))
        worker = self.workers.get(ti.worker)
        self._release(ti, worker)
        self._supersede(ti)
        if worker is not None and attempt.acked_at is not None:
            worker.cancelled.add(attempt.id)
        attempt.ended_at = attempt.ended_at or self.clock.now()
        attempt.error = attempt.error or reason
        self.changes.touch_attempt(attempt)

    def _supersede(self, ti: TaskInstance) -> None:
        """Keep a sent attempt addressable after the task instance moves on, for its late report."""
        attempt = ti.attempt
        if attempt is None or not attempt.worker:
            return
        self.superseded[(ti.id, attempt.token)] = attempt
        self._timer(KILL_GRACE_SECONDS + self.ack_timeout + self.heartbeat_timeout, ForgetAttempt(ti.id, attempt.token))

    def _slot_check(self, timer: SlotCheck) -> None:
        worker = self.workers.get(timer.worker)
        if worker is not None and worker.generation == timer.generation:
            worker.full = False

    def _forget_attempt(self, timer: ForgetAttempt) -> None:
        attempt = self.superseded.pop((timer.ti_id, timer.token), None)
        if attempt is not None:
            worker = self.workers.get(attempt.worker)
            if worker is not None:
                worker.cancelled.discard(attempt.id)
