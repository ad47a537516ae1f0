"""Timetables near the ends of the calendar answer, never raise OverflowError into the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from coordinator.timetable import Timetable
from tradewind import DAG
from tradewind.exceptions import InvalidArgument
from tradewind.serialization import serialize_dag

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


def new_york_daily(start: datetime, catchup: bool = True) -> Timetable:
    """The timetable of a DAG written as in Airflow, through its serialized form."""
    return Timetable(serialize_dag(DAG("ny", schedule="@daily", start_date=start, catchup=catchup), "ny.py"))


def test_a_new_york_daily_dag_runs_at_new_york_midnight_over_a_new_york_day() -> None:
    start = pendulum.datetime(2026, 11, 22, tz="America/New_York")
    first = new_york_daily(start, catchup=False).next_run(None, datetime(2026, 11, 23, 6, tzinfo=UTC))
    assert first is not None
    assert first.logical_date == first.data_interval_start == datetime(2026, 11, 22, 5, tzinfo=UTC)
    assert first.data_interval_end == first.run_after == datetime(2026, 11, 23, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "starts", "hours"),
    [
        # DST ends on 1 November 2026: that New York day lasts 25 hours.
        ((2026, 10, 30), ["10-30T04", "10-31T04", "11-01T04", "11-02T05", "11-03T05"], [24, 24, 25, 24, 24]),
        # DST starts on 8 March 2026: that day lasts 23 hours.
        ((2026, 3, 6), ["03-06T05", "03-07T05", "03-08T05", "03-09T04", "03-10T04"], [24, 24, 23, 24, 24]),
    ],
    ids=["dst-ends", "dst-starts"],
)
def test_catchup_across_a_dst_change_runs_at_every_new_york_midnight(
    start: tuple[int, int, int], starts: list[str], hours: list[int]
) -> None:
    timetable = new_york_daily(pendulum.datetime(*start, tz="America/New_York"))
    last, seen, lengths = None, [], []
    for _ in starts:
        run = timetable.next_run(last, datetime(2026, 12, 31, tzinfo=UTC))
        assert run is not None
        seen.append(run.logical_date.strftime("%m-%dT%H"))
        lengths.append((run.data_interval_end - run.data_interval_start) / timedelta(hours=1))
        last = run.logical_date
    assert (seen, lengths) == (starts, hours)


def test_a_new_york_cron_without_catchup_starts_from_the_latest_new_york_interval() -> None:
    timetable = new_york_daily(pendulum.datetime(2026, 1, 1, tz="America/New_York"), catchup=False)
    run = timetable.next_run(None, datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert run is not None
    assert run.logical_date == datetime(2026, 11, 24, 5, tzinfo=UTC)
    assert run.run_after == datetime(2026, 11, 25, 5, tzinfo=UTC)
    assert timetable.manual_interval(datetime(2026, 11, 25, 12, tzinfo=UTC)) == (
        datetime(2026, 11, 24, 5, tzinfo=UTC),
        datetime(2026, 11, 25, 5, tzinfo=UTC),
    )


def test_a_stored_dag_without_a_timezone_is_scheduled_in_utc() -> None:
    daily = {"kind": "preset", "expr": "@daily"}
    timetable = Timetable({"format": 1, "schedule": daily, "start_date": "2026-11-22T05:00:00+00:00"})
    run = timetable.next_run(None, datetime(2026, 11, 25, tzinfo=UTC))
    assert run is not None and run.logical_date == datetime(2026, 11, 24, tzinfo=UTC)


def test_a_zoned_schedule_near_the_ends_of_the_calendar_answers() -> None:
    daily = {"kind": "cron", "expr": "0 0 * * *"}
    timetable = Timetable({"schedule": daily, "start_date": "2024-01-01T05:00:00+00:00", "timezone": "Asia/Tokyo"})
    with pytest.raises(InvalidArgument, match="is outside"):
        timetable.manual_interval(datetime(1, 1, 1, 0, 30, tzinfo=UTC))
    assert timetable.next_run(datetime(9999, 12, 31, 12, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)) is None
