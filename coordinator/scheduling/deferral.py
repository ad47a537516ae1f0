"""Deferral: a task gives its slot back until its trigger fires in a triggerer.

An execution that ends DEFERRED makes a trigger (a `trigger` row) and leaves its task instance
deferred, holding no worker slot, and no pool slot unless its pool says `include_deferred`. The
first event of the trigger (or its failure, or its timeout) resumes the task instance: the same
try goes out again as a new attempt, told the method to resume in and the event
(Assignment.resume), as Airflow does. Later events of the same trigger (a trigger that ran on
two triggerers) are acknowledged and ignored.
"""

from __future__ import annotations

import json

from coordinator.events import DeferralRequest, TriggerFired
from coordinator.records import TaskInstance, Trigger
from coordinator.scheduling.effects import CancelTrigger, DeferralTimeout, FiredAck
from coordinator.scheduling.triggerers import Triggerers
from tradewind import xcom_codec
from tradewind.states import TaskState
from tradewind.wire import RESUME_FAIL_METHOD, TRIGGER_TIMEOUT_ERROR

T = TaskState


class Deferral(Triggerers):
    def _defer(self, ti: TaskInstance, request: DeferralRequest) -> None:
        now = self.clock.now()
        self.last_trigger_id += 1
        trigger = Trigger(
            id=self.last_trigger_id,
            ti_id=ti.id,
            try_number=ti.try_number,
            classpath=request.trigger_classpath,
            kwargs_json=request.trigger_kwargs_json,
            next_method=request.next_method,
            next_kwargs_json=request.next_kwargs_json,
            timeout_at=now + request.timeout if request.timeout is not None else None,
            created_at=now,
        )
        ti.trigger = trigger
        self.changes.triggers[trigger.id] = trigger
        self.waiting_triggers[trigger.id] = trigger
        self.unassigned_triggers.add(trigger.id)
        self._set_state(ti, T.DEFERRED)
        self._keep_pool_slots(ti)
        if request.timeout is not None:
            self._timer(request.timeout.total_seconds(), DeferralTimeout(ti.id, trigger.id))
        self._assign_triggers()

    def trigger_fired(self, event: TriggerFired) -> None:
        """The first event or failure of a waiting trigger resumes its task; always acknowledged."""
        self.effects.append(FiredAck(event.triggerer, event.trigger_id))
        trigger = self.waiting_triggers.get(event.trigger_id)
        if trigger is None:
            return
        if event.error:
            self._resume(trigger, RESUME_FAIL_METHOD, {"error": event.error})
            return
        kwargs = xcom_codec.loads(trigger.next_kwargs_json or "{}")
        kwargs["event"] = xcom_codec.loads(event.event_json) if event.event_json else None
        self._resume(trigger, trigger.next_method, kwargs)

    def _deferral_timeout(self, timer: DeferralTimeout) -> None:
        trigger = self.waiting_triggers.get(timer.trigger_id)
        if trigger is not None and trigger.ti_id == timer.ti_id:
            self._resume(trigger, RESUME_FAIL_METHOD, {"error": TRIGGER_TIMEOUT_ERROR})

    def _resume(self, trigger: Trigger, method: str, kwargs: dict[str, object]) -> None:
        self._stop_trigger(trigger)
        ti = self.tis.get(trigger.ti_id)
        if ti is None or ti.trigger is not trigger or ti.state is not T.DEFERRED:
            return
        self._free_pool_slots(ti)
        trigger.fired = True
        trigger.next_method = method
        trigger.next_kwargs_json = xcom_codec.dumps(kwargs)
        self.changes.triggers[trigger.id] = trigger
        self._new_attempt(ti)
        self._set_state(ti, T.SCHEDULED)
        self.queue.push(ti)

    def _drop_trigger(self, ti: TaskInstance) -> None:
        """A deferred task instance cleared, marked or cancelled: its trigger stops."""
        self._free_pool_slots(ti)
        if ti.state is T.DEFERRED and ti.trigger is not None:
            self._stop_trigger(ti.trigger)

    def set_pool_include_deferred(self, pool: str, include: bool) -> None:
        """Deferred task instances of `pool` keep (or stop keeping) its slots from now on."""
        if include == (pool in self.pools_include_deferred):
            return
        self.pools_include_deferred.symmetric_difference_update({pool})
        for ti in self.tis.values():
            if ti.state is T.DEFERRED and ti.spec.pool == pool:
                self._keep_pool_slots(ti) if include else self._free_pool_slots(ti)

    def _keep_pool_slots(self, ti: TaskInstance) -> None:
        spec = ti.spec
        if spec.pool in self.pools_include_deferred and ti.id not in self.deferred_in_pools:
            self.deferred_in_pools.add(ti.id)
            self.pool_used[spec.pool] = self.pool_used.get(spec.pool, 0) + spec.pool_slots

    def _free_pool_slots(self, ti: TaskInstance) -> None:
        if ti.id in self.deferred_in_pools:
            self.deferred_in_pools.discard(ti.id)
            spec = ti.spec
            self.pool_used[spec.pool] = self.pool_used.get(spec.pool, 0) - spec.pool_slots

    def _stop_trigger(self, trigger: Trigger) -> None:
        self.waiting_triggers.pop(trigger.id, None)
        self.unassigned_triggers.discard(trigger.id)
        session = self.triggerers.get(trigger.triggerer)
        if session is not None and trigger.id in session.triggers:
            session.triggers.discard(trigger.id)
            self.effects.append(CancelTrigger(session.name, trigger.id))
        trigger.triggerer = ""
        self._assign_triggers()

    def restore_triggers(self, rows: list[Trigger], last_id: int) -> None:
        """After a restart: each task instance's latest trigger of its current try; one a
        deferred task instance waits on runs again (its timeout counted from its deferral)."""
        self.last_trigger_id = max(self.last_trigger_id, last_id)
        now = self.clock.now()
        for trigger in rows:
            ti = self.tis.get(trigger.ti_id)
            if ti is not None and trigger.try_number == ti.try_number:
                ti.trigger = trigger
        for ti in self.tis.values():
            waiting = ti.trigger
            if ti.state is not T.DEFERRED or waiting is None or waiting.fired:
                continue
            self.waiting_triggers[waiting.id] = waiting
            self.unassigned_triggers.add(waiting.id)
            self._keep_pool_slots(ti)
            if waiting.timeout_at is not None:
                delay = max((waiting.timeout_at - now).total_seconds(), 0.0)
                self._timer(delay, DeferralTimeout(ti.id, waiting.id))


def waiting_on(ti: TaskInstance) -> str:
    """What a deferred task instance waits on, for people (`tasks why`)."""
    trigger = ti.trigger
    if trigger is None:
        return "deferred, waiting for a trigger"
    kwargs = json.loads(trigger.kwargs_json) if trigger.kwargs_json else {}
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) if isinstance(kwargs, dict) else ""
    where = f"on triggerer {trigger.triggerer!r}" if trigger.triggerer else "for a triggerer to run it"
    timeout = f"; it times out at {trigger.timeout_at.isoformat(timespec='seconds')}" if trigger.timeout_at else ""
    return (
        f"deferred: waits for trigger {trigger.id} {trigger.classpath}({shown[:300]}) {where}, then resumes in "
        f"{trigger.next_method}(); no slot is held{timeout}"
    )
