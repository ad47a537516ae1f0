"""Timetables near the ends of the calendar answer, never raise OverflowError into the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coordinator.timetable import Timetable
from tradewind.exceptions import InvalidArgument

SCHEDULES = [
    {"kind": "cron", "expr": "0 0 * * *"},
    {"kind": "preset", "expr": "@yearly"},
    {"kind": "cron", "expr": "0 0 29 2 *"},
    {"kind": "delta", "seconds": 3600},
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: str(s.get("expr", s.get("seconds"))))
def test_a_manual_logical_date_before_any_interval_is_invalid_argument(schedule: dict[str, object]) -> None:
    timetable = Timetable({"schedule": schedule, "start_date": "2024-01-01T00:00:00+00:00"})
    with pytest.raises(InvalidArgument, match="logical_date 0001-01-01T00:30:00\\+00:00 is outside"):
        timetable.manual_interval(datetime(1, 1, 1, 0, 30, tzinfo=UTC))
    start, end = timetable.manual_interval(datetime(9999, 12, 31, 12, tzinfo=UTC))
    assert start <= end <= datetime(9999, 12, 31, 12, tzinfo=UTC)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: str(s.get("expr", s.get("seconds"))))
def test_a_schedule_whose_next_run_lies_past_9999_has_no_more_runs(schedule: dict[str, object]) -> None:
    timetable = Timetable({"schedule": schedule, "start_date": "9999-12-31T23:00:00+00:00", "catchup": True})
    last = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    assert timetable.next_run(last, datetime(2026, 1, 1, tzinfo=UTC)) is None
