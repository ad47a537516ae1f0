"""Reschedule: a sensor in reschedule mode gives its slot back between pokes.

Its execution ends UP_FOR_RESCHEDULE with a reschedule date: the task instance becomes
up_for_reschedule (holding no worker or pool slot), a task_reschedule row records the
execution, and at the date the same try goes out again under a new attempt row, as Airflow
does without bumping the try number. Every later execution of the try is told when the try's
first execution started, so the sensor's timeout counts from its first poke.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from coordinator.records import Reschedules, TaskInstance
from coordinator.scheduling.dispatch import Dispatch
from coordinator.scheduling.effects import RescheduleDue
from tradewind.states import TaskState

T = TaskState


class Reschedule(Dispatch):
    def _reschedule(self, ti: TaskInstance, reschedule_date: datetime) -> None:
        attempt = ti.attempt
        assert attempt is not None
        now = self.clock.now()
        started = attempt.started_at or now
        current = ti.reschedules
        if current is None or current.try_number != ti.try_number:
            current = ti.reschedules = Reschedules(ti.try_number, started)
        current.count += 1
        current.next_at = reschedule_date
        self.changes.reschedules.append((ti.id, ti.try_number, started, attempt.ended_at or now, reschedule_date))
        self._set_state(ti, T.UP_FOR_RESCHEDULE)
        self._timer(max((reschedule_date - now).total_seconds(), 0.0), RescheduleDue(ti.id, ti.token))

    def _reschedule_due(self, timer: RescheduleDue) -> None:
        ti = self.tis.get(timer.ti_id)
        if ti is None or ti.token != timer.token or ti.state is not T.UP_FOR_RESCHEDULE:
            return
        self._new_attempt(ti)
        self._set_state(ti, T.SCHEDULED)
        self.queue.push(ti)

    def restore_reschedules(self, rows: Iterable[tuple[int, int, datetime, datetime]]) -> None:
        """After a restart: each task instance's reschedules of its current try, from its
        task_reschedule rows (ti id, try number, start, reschedule date; oldest first); one
        waiting up_for_reschedule is due again at its date."""
        for ti_id, try_number, started, due in rows:
            ti = self.tis.get(ti_id)
            if ti is None or try_number != ti.try_number:
                continue
            if ti.reschedules is None:
                ti.reschedules = Reschedules(ti.try_number, started)
            ti.reschedules.count += 1
            ti.reschedules.next_at = due
        now = self.clock.now()
        for ti in self.tis.values():
            if ti.state is T.UP_FOR_RESCHEDULE:
                next_at = ti.reschedules.next_at if ti.reschedules is not None else None
                delay = (next_at - now).total_seconds() if next_at is not None else 0.0
                self._timer(max(delay, 0.0), RescheduleDue(ti.id, ti.token))
