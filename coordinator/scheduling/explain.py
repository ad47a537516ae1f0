"""Why a task instance is not running, each condition with its figures, most decisive first."""

from __future__ import annotations

from coordinator.records import TaskInstance
from coordinator.scheduling.commands import Commands
from coordinator.scheduling.deferral import waiting_on
from coordinator.scheduling.readiness import upstream_counts
from tradewind.states import FINISHED, RunState, TaskState
from tradewind.trigger_rules import Verdict, evaluate
from tradewind.wire import WaitReason

T = TaskState
W = WaitReason
Condition = tuple[WaitReason, str]


class Explain(Commands):
    def explain(self, ti: TaskInstance) -> list[Condition]:
        if ti.state in FINISHED or ti.state is T.RUNNING:
            return [(W.NOT_WAITING, f"it is {ti.state.value}")]
        if ti.state is T.QUEUED:
            return [self._explain_queued(ti)]
        entry = self.dags.get(ti.run.dag_id)
        conditions: list[Condition] = []
        if entry is not None and entry.paused and ti.run.backfill_id is None:
            conditions.append((W.DAG_PAUSED, f"DAG {ti.run.dag_id!r} is paused"))
        backfill = self.backfills.get(ti.run.backfill_id) if ti.run.backfill_id is not None else None
        if ti.run.state is RunState.QUEUED and backfill is not None:
            conditions.append(
                (
                    W.MAX_ACTIVE_RUNS,
                    f"its run is queued: backfill {backfill.id} has {backfill.running} of "
                    f"max_active_runs {backfill.max_active_runs} runs running",
                )
            )
        elif ti.run.state is RunState.QUEUED and entry is not None:
            conditions.append(
                (
                    W.MAX_ACTIVE_RUNS,
                    f"its run is queued: DAG {ti.run.dag_id!r} has {entry.running_runs} of "
                    f"max_active_runs {entry.max_active_runs} runs running",
                )
            )
        if ti.state is T.UP_FOR_RETRY:
            at = ti.next_retry_at
            left = max((at - self.clock.now()).total_seconds(), 0.0) if at else 0.0
            when = at.isoformat(timespec="seconds") if at else "unknown"
            message = f"try {ti.try_number} of {ti.max_tries} failed; the next starts at {when} (in {left:.0f}s)"
            conditions.append((W.RETRY_DELAY, message))
        elif ti.state is T.UP_FOR_RESCHEDULE:
            conditions.append((W.RESCHEDULE_DELAY, self._explain_reschedule(ti)))
        elif ti.state is T.DEFERRED:
            conditions.append((W.TRIGGER, waiting_on(ti)))
        elif ti.state is T.NONE and ti.run.state is RunState.RUNNING:
            c = upstream_counts(ti)
            blocker = self._past_blocker(ti)
            if blocker is not None:
                conditions.append((W.PREVIOUS_RUN, f"waiting for {blocker[0]} in the previous run {blocker[1]}"))
            if blocker is None or evaluate(ti.spec.trigger_rule, c) is not Verdict.RUN:
                conditions.append(
                    (
                        W.UPSTREAM,
                        f"trigger rule {ti.spec.trigger_rule.value} is not met: of {c.total} upstream task "
                        f"instances {c.success} succeeded, {c.failed} failed, {c.upstream_failed} upstream failed, "
                        f"{c.skipped} skipped, {c.total - c.done} not finished",
                    )
                )
        elif ti.state is T.SCHEDULED:
            conditions.extend(self._explain_scheduled(ti))
        return conditions or [(W.NOT_WAITING, f"it is {ti.state.value}")]

    def _explain_reschedule(self, ti: TaskInstance) -> str:
        reschedules = ti.reschedules
        at = reschedules.next_at if reschedules is not None else None
        left = max((at - self.clock.now()).total_seconds(), 0.0) if at else 0.0
        when = at.isoformat(timespec="seconds") if at else "unknown"
        count = reschedules.count if reschedules is not None else 0
        return (
            f"sensor in reschedule mode, not done after {count} poke(s) of try {ti.try_number}; "
            f"the next poke is at {when} (in {left:.0f}s), and no slot is held meanwhile"
        )

    def _explain_queued(self, ti: TaskInstance) -> Condition:
        worker = self.workers.get(ti.worker)
        attempt = ti.attempt
        if worker is not None and not worker.connected:
            left = max(self.heartbeat_timeout - (self.clock.monotonic() - worker.last_seen), 0.0)
            return (W.WORKER_RECONNECTING, f"worker {ti.worker!r} disconnected; it has {left:.0f}s to come back")
        if attempt is not None and attempt.acked_at is None:
            return (
                W.WAITING_FOR_ACK,
                f"sent to worker {ti.worker!r}, which has not acknowledged it (ack timeout {self.ack_timeout:g}s)",
            )
        return (W.NOT_WAITING, f"worker {ti.worker!r} accepted it and is starting it")

    def _explain_scheduled(self, ti: TaskInstance) -> list[Condition]:
        spec = ti.spec
        conditions: list[Condition] = []
        slots = self.pools.get(spec.pool)
        used = self.pool_used.get(spec.pool, 0)
        if slots is None:
            conditions.append((W.POOL_MISSING, f"pool {spec.pool!r} does not exist"))
        elif used + spec.pool_slots > slots:
            conditions.append(
                (W.POOL_FULL, f"pool {spec.pool!r} has {used} of {slots} slots in use; it needs {spec.pool_slots}")
            )
        entry = self.dags.get(ti.run.dag_id)
        limit = ti.run.dag.max_active_tasks
        if entry is not None and entry.on_workers >= limit:
            conditions.append(
                (
                    W.MAX_ACTIVE_TASKS,
                    f"DAG {ti.run.dag_id!r} has {entry.on_workers} of max_active_tasks {limit} on workers",
                )
            )
        if self.sequential and self.on_workers >= 1:
            conditions.append((W.SEQUENTIAL, "the sequential executor runs one task instance at a time"))
        serving = [
            w
            for w in self.workers.values()
            if w.connected and not w.draining and spec.queue in w.queues and spec.kind in w.kinds
        ]
        able = [w for w in serving if w.name not in ti.refused_by]
        if not able:
            refused = f"; refused by {', '.join(sorted(ti.refused_by))}" if ti.refused_by else ""
            conditions.append(
                (W.NO_WORKER, f"no live worker serves queue {spec.queue!r} and task kind {spec.kind!r}{refused}")
            )
        elif not any(w.free > 0 for w in able):
            total = sum(w.slots for w in able)
            busy = sum(len(w.running) + len(w.cancelled) for w in able)
            conditions.append(
                (W.NO_FREE_SLOT, f"the {len(able)} workers serving queue {spec.queue!r} use {busy} of {total} slots")
            )
        if not conditions:
            ahead = self.queue.ahead_of(ti)
            conditions.append((W.QUEUE_ORDER, f"{ahead} task instances come before it in queue {spec.queue!r}"))
        return conditions
