"""Branching: a task chooses which of its direct downstream tasks run; the others are skipped.

The choice is a task id, a list of them, or None (follow none). The coordinator skips the
direct downstream task instances not chosen, except one that is also downstream of a chosen
task (a branch that joins another), and the skips pass on through trigger rules, so a join
after the branches wants `none_failed_min_one_success`, as in Airflow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from tradewind.baseoperator import BaseOperator
from tradewind.exceptions import DagDefinitionError
from tradewind.operators.python import PythonOperator
from tradewind.skipping import follow_only
from tradewind.weekday import WeekDay


class BranchMixIn:
    """Turns the value a branch computed into the decision, and returns it as the task's XCom."""

    def do_branch(self, context: dict[str, Any], branches_to_execute: Any) -> Any:
        assert isinstance(self, BaseOperator)
        follow_only(self, branches_to_execute)
        return branches_to_execute


class BaseBranchOperator(BaseOperator, BranchMixIn):
    """Subclass and implement choose_branch(context)."""

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str] | None:
        raise NotImplementedError(f"{type(self).__name__} does not implement choose_branch(context)")

    def execute(self, context: dict[str, Any]) -> Any:
        return self.do_branch(context, self.choose_branch(context))


class BranchPythonOperator(PythonOperator, BranchMixIn):
    """The callable returns the task id(s) to follow."""

    def execute(self, context: dict[str, Any]) -> Any:
        return self.do_branch(context, super().execute(context))


class _ConditionBranch(BaseBranchOperator):
    """Follows one set of tasks when the condition holds and the other when it does not."""

    def __init__(
        self,
        *,
        task_id: str,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        self.follow_task_ids_if_true = follow_task_ids_if_true
        self.follow_task_ids_if_false = follow_task_ids_if_false
        self.use_task_logical_date = bool(use_task_logical_date)

    def now(self, context: dict[str, Any]) -> datetime:
        """The logical date, or the wall clock (UTC) as Airflow does by default."""
        if self.use_task_logical_date:
            moment: datetime = context["logical_date"]
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return datetime.now(UTC)

    @property
    def zone(self) -> tzinfo:
        """The DAG's time zone: naive bounds and the week day are read in it, as in Airflow."""
        return self.dag.timezone if self.dag is not None else UTC

    def condition(self, now: datetime) -> bool:
        raise NotImplementedError

    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str] | None:
        if self.condition(self.now(context)):
            return self.follow_task_ids_if_true
        return self.follow_task_ids_if_false


class BranchDateTimeOperator(_ConditionBranch):
    """Follows `follow_task_ids_if_true` when now is within [target_lower, target_upper]; a bound
    given as a time is on now's day, and an upper time before the lower one is the next day."""

    def __init__(
        self,
        *,
        task_id: str,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        target_lower: datetime | time | None = None,
        target_upper: datetime | time | None = None,
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            task_id=task_id,
            follow_task_ids_if_true=follow_task_ids_if_true,
            follow_task_ids_if_false=follow_task_ids_if_false,
            use_task_logical_date=use_task_logical_date,
            **kwargs,
        )
        if target_lower is None and target_upper is None:
            raise DagDefinitionError(
                f"{self.where}: Both target_upper and target_lower are None. At least one must be defined "
                "to be compared to the current datetime"
            )
        for name, value in (("target_lower", target_lower), ("target_upper", target_upper)):
            if value is not None and not isinstance(value, datetime | time):
                raise DagDefinitionError(f"{self.where}: {name} must be a datetime or a time, not {value!r}")
        self.target_lower = target_lower
        self.target_upper = target_upper

    def condition(self, now: datetime) -> bool:
        lower, upper = target_times_as_dates(now, self.target_lower, self.target_upper, self.zone)
        if upper is not None and upper < now:
            return False
        return not (lower is not None and lower > now)


def target_times_as_dates(
    base: datetime, lower: datetime | time | None, upper: datetime | time | None, zone: tzinfo = UTC
) -> tuple[datetime | None, datetime | None]:
    """Both bounds as aware datetimes, a time on `base`'s (UTC) day; naive ones are in `zone`."""

    def on_day(value: datetime | time | None) -> datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.combine(_day(base), value)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)

    low, high = on_day(lower), on_day(upper)
    if isinstance(lower, time) and isinstance(upper, time) and low and high and high < low:
        high += timedelta(days=1)
    return low, high


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if moment.tzinfo is not None else moment.date()


class BranchDayOfWeekOperator(_ConditionBranch):
    """Follows `follow_task_ids_if_true` on the given week day(s)."""

    def __init__(
        self,
        *,
        task_id: str,
        follow_task_ids_if_true: str | Iterable[str],
        follow_task_ids_if_false: str | Iterable[str],
        week_day: str | WeekDay | Iterable[str | WeekDay],
        use_task_logical_date: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            task_id=task_id,
            follow_task_ids_if_true=follow_task_ids_if_true,
            follow_task_ids_if_false=follow_task_ids_if_false,
            use_task_logical_date=use_task_logical_date,
            **kwargs,
        )
        self.week_day = week_day
        self._week_day_num = WeekDay.validate_week_day(week_day)

    def condition(self, now: datetime) -> bool:
        local = now if self.use_task_logical_date else now.astimezone(self.zone)
        return local.isoweekday() in self._week_day_num
