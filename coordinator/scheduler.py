"""The scheduling core: events in, state changes and effects out. No I/O here.

The engine feeds it batches of events, then takes its `Changes` (committed in one
transaction) and its effects (sent only after that commit). Each concept lives in its own
module of coordinator.scheduling; this class puts them together and fires the timers.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from coordinator.scheduling.base import DagEntry, Ids
from coordinator.scheduling.effects import (
    AckDeadline,
    DeferralTimeout,
    ForgetAttempt,
    Liveness,
    OrphanCheck,
    RescheduleDue,
    RetryDue,
    RunTimeout,
    ScheduleDue,
    SlotCheck,
    Timer,
    TriggererLiveness,
)
from coordinator.scheduling.run_timeout import RunTimeouts

__all__ = ["DagEntry", "Ids", "Scheduler"]


class Scheduler(RunTimeouts):
    def fire_timers(self, on_error: Callable[[Timer, Exception], None] | None = None) -> None:
        """Fire every due timer. An unexpected error in one goes to `on_error` (the engine's
        containment); without it, it is raised."""
        now = self.clock.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            try:
                self._fire(timer)
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(timer, exc)

    def _fire(self, timer: Timer) -> None:
        match timer:
            case ScheduleDue():
                self._schedule_due(timer)
            case AckDeadline():
                self._ack_expired(timer)
            case RetryDue():
                self._retry_due(timer)
            case RescheduleDue():
                self._reschedule_due(timer)
            case DeferralTimeout():
                self._deferral_timeout(timer)
            case TriggererLiveness():
                self._check_triggerer(timer)
            case Liveness():
                self._check_liveness(timer)
            case OrphanCheck():
                self._orphan_check(timer)
            case ForgetAttempt():
                self._forget_attempt(timer)
            case SlotCheck():
                self._slot_check(timer)
            case RunTimeout():
                self._run_timeout(timer)
