"""When DAG runs are due: cron expressions, presets, timedeltas and @once, via croniter.

Data intervals follow Airflow's classic definition: a scheduled run covers
[logical_date, next schedule point) and starts once that interval has ended. As in Airflow, a
cron schedule is read on the wall clock of the DAG's time zone (`@daily` in New York is New
York's midnight, across DST changes); every moment in and out is in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter

from tradewind.assets import describe_condition
from tradewind.exceptions import InvalidArgument
from tradewind.timezones import zone_named

#: What date arithmetic raises for a moment near year 1 or 9999 (croniter may step to year 0).
_OUT_OF_RANGE = (OverflowError, ValueError)

PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


@dataclass(frozen=True)
class RunInfo:
    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    #: The run may start at or after this time.
    run_after: datetime


class Timetable:
    """The schedule of one DAG version (serialized `schedule`, `start_date`, `end_date`, `timezone`, `catchup`)."""

    def __init__(self, dag: dict[str, Any]) -> None:
        schedule: dict[str, Any] = dag.get("schedule") or {}
        self.kind = schedule["kind"] if schedule else "none"
        self.cron = None
        if self.kind in ("cron", "preset"):
            self.cron = PRESETS.get(schedule["expr"], schedule["expr"])
            self.kind = "cron"
        self.delta = timedelta(seconds=float(schedule["seconds"])) if self.kind == "delta" else None
        self.start_date = _parse(dag.get("start_date"))
        self.end_date = _parse(dag.get("end_date"))
        self.timezone = zone_named(dag.get("timezone"))
        self.catchup = bool(dag.get("catchup", False))

    @property
    def scheduled(self) -> bool:
        return self.kind != "none" and self.start_date is not None

    def next_run(self, last_logical: datetime | None, now: datetime) -> RunInfo | None:
        """The run that follows the one with `last_logical` (None: the first), or None when no more.

        A schedule whose next point lies past year 9999 has no more runs.
        """
        try:
            return self._next_run(last_logical, now)
        except _OUT_OF_RANGE:
            return None

    def _next_run(self, last_logical: datetime | None, now: datetime) -> RunInfo | None:
        if not self.scheduled:
            return None
        assert self.start_date is not None
        if self.kind == "once":
            if last_logical is not None:
                return None
            return RunInfo(self.start_date, self.start_date, self.start_date, self.start_date)
        start = self._align(self.start_date) if last_logical is None else self._after(last_logical)
        if not self.catchup:
            latest = self._latest_complete_start(now)
            if latest is not None and latest > start:
                start = latest
        if self.end_date is not None and start > self.end_date:
            return None
        end = self._after(start)
        return RunInfo(start, start, end, end)

    def between(self, earliest: datetime, latest: datetime, most: int) -> list[RunInfo]:
        """Every run whose logical date lies in [earliest, latest], aligned to the schedule as a
        backfill takes them: catchup, start_date and end_date do not narrow the range.

        InvalidArgument when there are more than `most` or a date is outside what the schedule
        can compute.
        """
        if self.kind == "once":
            start = self.start_date
            return [RunInfo(start, start, start, start)] if start and earliest <= start <= latest else []
        out: list[RunInfo] = []
        try:
            start = self._align(earliest) if self.kind != "none" else latest + timedelta(1)
            while start <= latest:
                if len(out) == most:
                    raise InvalidArgument(
                        f"{earliest.isoformat()} to {latest.isoformat()} holds more than {most:,} logical dates"
                    )
                end = self._after(start)
                out.append(RunInfo(start, start, end, end))
                start = end
        except _OUT_OF_RANGE:
            raise InvalidArgument(
                f"{earliest.isoformat()} to {latest.isoformat()} is outside what the schedule can compute"
            ) from None
        return out

    def manual_interval(self, logical_date: datetime) -> tuple[datetime, datetime]:
        """Airflow's inferred interval for a manual run: the latest complete one, else empty.

        InvalidArgument when the interval would start before year 1 (a request's logical_date
        must never stop the scheduler).
        """
        try:
            if self.kind == "cron" and self.cron:
                end = self._at_or_before(logical_date)
                return self._before(end), end
            if self.kind == "delta" and self.delta:
                return logical_date - self.delta, logical_date
        except _OUT_OF_RANGE:
            raise InvalidArgument(
                f"logical_date {logical_date.isoformat()} is outside what the schedule can compute"
            ) from None
        return logical_date, logical_date

    def describe(self, dag: dict[str, Any]) -> str:
        """The schedule as written; a DAG on assets shows its condition ("@daily or s3://a & s3://b")."""
        time = self._describe_time(dag)
        condition = dag.get("asset_condition")
        if condition is None:
            return time
        assets = describe_condition(condition)
        return f"{time} or {assets}" if time else assets

    def _describe_time(self, dag: dict[str, Any]) -> str:
        schedule = dag.get("schedule")
        if not schedule:
            return ""
        if schedule["kind"] == "once":
            return "@once"
        if schedule["kind"] == "delta":
            return str(timedelta(seconds=float(schedule["seconds"])))
        return str(schedule["expr"])

    def _align(self, moment: datetime) -> datetime:
        if self.kind == "delta":
            return moment
        return moment if croniter.match(self.cron, self._local(moment)) else self._after(moment)

    def _after(self, moment: datetime) -> datetime:
        if self.delta is not None:
            return moment + self.delta
        return self._utc(croniter(self.cron, self._local(moment)).get_next(datetime))

    def _before(self, moment: datetime) -> datetime:
        if self.delta is not None:
            return moment - self.delta
        return self._utc(croniter(self.cron, self._local(moment)).get_prev(datetime))

    def _at_or_before(self, moment: datetime) -> datetime:
        return moment if croniter.match(self.cron, self._local(moment)) else self._before(moment)

    def _local(self, moment: datetime) -> datetime:
        """The naive wall-clock time in the DAG's zone, which croniter steps through."""
        return moment.astimezone(self.timezone).replace(tzinfo=None)

    def _utc(self, wall: datetime) -> datetime:
        """A wall-clock time of the zone in UTC: a repeated hour is its first occurrence, and a
        skipped one (spring forward) is read with the offset before the change, as Airflow does."""
        return wall.replace(tzinfo=self.timezone, fold=0).astimezone(UTC)

    def _latest_complete_start(self, now: datetime) -> datetime | None:
        """Start of the newest interval that has ended by `now`, never before start_date."""
        assert self.start_date is not None
        if self.kind == "delta":
            assert self.delta is not None
            if now < self.start_date + self.delta:
                return None
            periods = (now - self.start_date) // self.delta
            return self.start_date + (periods - 1) * self.delta
        end = self._at_or_before(now)
        start = self._before(end)
        return start if start >= self._align(self.start_date) else None


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
