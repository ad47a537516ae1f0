"""Time triggers: DateTimeTrigger fires at a moment, TimeDeltaTrigger after a delay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind.triggers.base import BaseTrigger, TriggerEvent

#: The longest single sleep, so a clock change is noticed within it.
MAX_SLEEP = 60.0


class DateTimeTrigger(BaseTrigger):
    """Fires at `moment` (an aware datetime) with the moment as its payload."""

    def __init__(self, moment: datetime, *, end_from_trigger: bool = False) -> None:
        super().__init__()
        if not isinstance(moment, datetime):
            raise TypeError(f"DateTimeTrigger expects a datetime, not {moment!r}")
        if moment.tzinfo is None:
            raise ValueError(f"DateTimeTrigger expects a timezone-aware datetime, not {moment!r}")
        self.moment = moment
        self.end_from_trigger = end_from_trigger

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return "tradewind.triggers.temporal.DateTimeTrigger", {"moment": self.moment}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while (left := (self.moment - datetime.now(UTC)).total_seconds()) > 0:
            await asyncio.sleep(min(left, MAX_SLEEP))
        yield TriggerEvent(self.moment)


class TimeDeltaTrigger(DateTimeTrigger):
    """Fires `delta` after it is made (in the task, when it defers)."""

    def __init__(self, delta: timedelta, *, end_from_trigger: bool = False) -> None:
        super().__init__(datetime.now(UTC) + delta, end_from_trigger=end_from_trigger)
