"""WeekDay, as Airflow's airflow.utils.weekday: ISO day numbers by name."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from tradewind.exceptions import DagDefinitionError


class WeekDay(IntEnum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7

    @classmethod
    def get_weekday_number(cls, week_day_str: str) -> int:
        """The ISO number of a day named in any case ("monday", "Sunday")."""
        try:
            return cls[week_day_str.upper()].value
        except KeyError:
            raise DagDefinitionError(f'Invalid Week Day passed: "{week_day_str}"') from None

    @classmethod
    def convert(cls, day: str | WeekDay) -> int:
        if isinstance(day, WeekDay):
            return day.value
        if isinstance(day, str):
            return cls.get_weekday_number(day)
        raise DagDefinitionError(f"a week day must be a WeekDay or a day's name, not {day!r}")

    @classmethod
    def validate_week_day(cls, week_day: str | WeekDay | Iterable[str | WeekDay]) -> set[int]:
        """The ISO numbers of one day or of several."""
        if isinstance(week_day, str | WeekDay):
            return {cls.convert(week_day)}
        if isinstance(week_day, Iterable):
            days = {cls.convert(day) for day in week_day}
            if days:
                return days
        raise DagDefinitionError(
            f"week_day must be a WeekDay, a day's name or a non-empty collection of them, not {week_day!r}"
        )
