"""Sensors that wait for a moment: TimeDeltaSensor, TimeSensor, DateTimeSensor, DayOfWeekSensor."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from tradewind.exceptions import DagDefinitionError, TaskFailedNoRetry
from tradewind.sensors.base import BaseSensorOperator
from tradewind.triggers.temporal import DateTimeTrigger
from tradewind.weekday import WeekDay


class _DeferToMoment(BaseSensorOperator):
    """A sensor waiting for a moment; with deferrable=True it waits in the triggerer."""

    can_defer = True

    def target(self, context: dict[str, Any]) -> datetime:
        raise NotImplementedError

    def poke(self, context: dict[str, Any]) -> bool:
        target = self.target(context)
        print(f"Checking if the time ({target.isoformat()}) has come", flush=True)
        return datetime.now(UTC) > target

    def execute(self, context: dict[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        target = self.target(context)
        if datetime.now(UTC) < target:
            self.defer(trigger=DateTimeTrigger(target), method_name="execute_complete")
        return None


class TimeDeltaSensor(_DeferToMoment):
    """Waits until `delta` after the run's data interval end."""

    def __init__(self, *, task_id: str, delta: timedelta, **kwargs: Any) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if not isinstance(delta, timedelta):
            raise DagDefinitionError(f"{self.where}: delta must be a timedelta, not {delta!r}")
        self.delta = delta

    def target(self, context: dict[str, Any]) -> datetime:
        moment: datetime = context["data_interval_end"] + self.delta
        return moment


class TimeSensor(_DeferToMoment):
    """Waits until the time of day `target_time`, read in the DAG's time zone (today's, there)."""

    def __init__(self, *, task_id: str, target_time: time, **kwargs: Any) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if not isinstance(target_time, time):
            raise DagDefinitionError(f"{self.where}: target_time must be a datetime.time, not {target_time!r}")
        self.target_time = target_time

    def target(self, context: dict[str, Any]) -> datetime:
        zone = self.dag.timezone if self.dag is not None else UTC
        today = datetime.now(UTC).astimezone(zone).date()
        return datetime.combine(today, self.target_time.replace(tzinfo=None), zone).astimezone(UTC)


class DateTimeSensor(_DeferToMoment):
    """Waits until `target_time`: a datetime, or a template rendering to an ISO 8601 one (naive is UTC)."""

    template_fields = ("target_time",)

    def __init__(self, *, task_id: str, target_time: str | datetime, **kwargs: Any) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if isinstance(target_time, datetime):
            self.target_time = target_time.isoformat()
        elif isinstance(target_time, str):
            self.target_time = target_time
        else:
            raise DagDefinitionError(
                f"{self.where}: target_time must be a datetime or a string, not {type(target_time).__name__}"
            )

    def target(self, context: dict[str, Any]) -> datetime:
        try:
            target = datetime.fromisoformat(str(self.target_time))
        except ValueError:
            raise TaskFailedNoRetry(
                f"{self.where}: target_time {self.target_time!r} is not an ISO 8601 datetime"
            ) from None
        return target if target.tzinfo is not None else target.replace(tzinfo=UTC)


class DayOfWeekSensor(BaseSensorOperator):
    """Waits until a given week day (UTC), or checks the run's logical date's day."""

    def __init__(
        self,
        *,
        task_id: str,
        week_day: str | WeekDay | Iterable[str | WeekDay],
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        self.week_day = week_day
        self._days = WeekDay.validate_week_day(week_day)
        self.use_task_logical_date = bool(use_task_logical_date)

    def poke(self, context: dict[str, Any]) -> bool:
        moment = context["logical_date"] if self.use_task_logical_date else datetime.now(UTC)
        return moment.isoweekday() in self._days
