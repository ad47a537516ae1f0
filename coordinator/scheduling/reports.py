"""What workers say about their attempts: started and finished.

A report counts only from the session (name and generation) its attempt was assigned to. A
report on a superseded attempt (cancelled, lost, expired) is recorded on that attempt's own
row — its exit code, end and resource use — and never moves the task instance.
"""

from __future__ import annotations

import json

from coordinator.events import AttemptRef, Finished, Started
from coordinator.records import Attempt, TaskInstance
from coordinator.scheduling.deferral import Deferral
from coordinator.scheduling.effects import ResultAck
from tradewind.states import TaskState
from tradewind.wire import Outcome

T = TaskState
_ENDED_AS = {Outcome.SUCCESS: T.SUCCESS, Outcome.SKIPPED: T.SKIPPED}


class Reports(Deferral):
    def _superseded(self, attempt: AttemptRef, worker: str, generation: int) -> Attempt | None:
        old = self.superseded.get((attempt.ti_id, attempt.token))
        if old is None or old.worker != worker or old.generation != generation:
            return None
        return old

    def started(self, event: Started) -> None:
        now = self.clock.now()
        old = self._superseded(event.attempt, event.worker, event.generation)
        if old is not None:
            old.started_at = event.started_at or now
            self.changes.touch_attempt(old)
            return
        ti = self._reported(event.attempt, event.worker, event.generation)
        if ti is None:
            return
        attempt = ti.attempt
        assert attempt is not None
        attempt.started_at = event.started_at or now
        if attempt.acked_at is None:
            attempt.acked_at = now
        if ti.state is T.QUEUED:
            self._set_state(ti, T.RUNNING)
        ti.start_date = attempt.started_at
        self.changes.touch_ti(ti)
        self.changes.touch_attempt(attempt)

    def finished(self, event: Finished) -> None:
        """Apply a result; a stale one is recorded on its own row or ignored, and always acknowledged."""
        self.effects.append(ResultAck(event.worker, event.attempt))
        old = self._superseded(event.attempt, event.worker, event.generation)
        if old is not None:
            self._record_end(old, event)
            old.state = _ENDED_AS.get(event.outcome, T.FAILED)
            self.changes.touch_attempt(old)
            del self.superseded[(event.attempt.ti_id, event.attempt.token)]
            self._attempt_ended_on(self.workers.get(event.worker), old.id)
            return
        ti = self._reported(event.attempt, event.worker, event.generation)
        if ti is None:
            return
        attempt = ti.attempt
        assert attempt is not None
        self._record_end(attempt, event)
        self._release(ti)
        self._attempt_ended_on(self.workers.get(event.worker), attempt.id)
        if event.rendered_map_index and ti.map_index >= 0:
            ti.rendered_map_index = event.rendered_map_index
            self.changes.touch_ti(ti)
        outcome = event.outcome
        if outcome == Outcome.SUCCESS:
            if event.return_value_json and ti.spec.do_xcom_push:
                ti.run.xcoms[(ti.task_id, ti.map_index, "return_value")] = event.return_value_json
                self.changes.xcoms.append(
                    (ti.run.id, ti.task_id, ti.map_index, "return_value", event.return_value_json)
                )
                if (ti.spec.python or {}).get("multiple_outputs"):
                    self._store_outputs(ti, event.return_value_json)
            if event.follow is None:
                self._end_ti(ti, T.SUCCESS)
                return
            wrong = self._end_following(ti, event.follow)
            if wrong:
                self._fail(ti, wrong, retry=True)
        elif outcome == Outcome.SKIPPED:
            self._end_ti(ti, T.SKIPPED)
        elif outcome == Outcome.UP_FOR_RESCHEDULE and event.reschedule_date is not None:
            self._reschedule(ti, event.reschedule_date)
        elif outcome == Outcome.DEFERRED and event.deferral is not None:
            self._defer(ti, event.deferral)
        elif outcome == Outcome.LOST:
            self._lose(ti, f"worker {event.worker!r} gave it back: {event.error or 'no reason given'}")
        else:
            self._fail(ti, event.error, retry=outcome in (Outcome.FAILED, Outcome.TIMED_OUT))

    def _store_outputs(self, ti: TaskInstance, value_json: str) -> None:
        """multiple_outputs: each key of the returned dict is also its own XCom, as in Airflow."""
        value = json.loads(value_json)
        if not isinstance(value, dict) or "__type" in value:  # not a plain dict (tradewind.xcom_codec)
            return
        for key, item in value.items():
            item_json = json.dumps(item)
            ti.run.xcoms[(ti.task_id, ti.map_index, key)] = item_json
            self.changes.xcoms.append((ti.run.id, ti.task_id, ti.map_index, key, item_json))

    def _record_end(self, attempt: Attempt, event: Finished) -> None:
        attempt.ended_at = event.ended_at or self.clock.now()
        attempt.started_at = attempt.started_at or attempt.ended_at
        attempt.exit_code = event.exit_code
        attempt.error = attempt.error or event.error
        attempt.cpu_user, attempt.cpu_system, attempt.max_rss_bytes = (
            event.cpu_user,
            event.cpu_system,
            event.max_rss_bytes,
        )
        self.changes.touch_attempt(attempt)
