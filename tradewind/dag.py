"""The DAG: a named graph of tasks with a schedule, used as a context manager or via @dag.

Validation happens as the DAG is built (ids, schedule, arguments) and when its `with` block or
its file ends (cycles), so a mistake is an error at parse time that names the DAG, the task
and, when loaded from the DAG folder, the file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from croniter import croniter

from tradewind import unsupported
from tradewind.assets import AssetOrTimeSchedule, BaseAsset, as_condition, is_asset_schedule
from tradewind.callbacks import checked_callbacks
from tradewind.exceptions import DagDefinitionError
from tradewind.params import split_params
from tradewind.setup_teardown import check_marks
from tradewind.template_settings import resolve_template_files, template_settings
from tradewind.timezones import zone_name

if TYPE_CHECKING:
    from tradewind.baseoperator import BaseOperator
    from tradewind.task_group import TaskGroup

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")

_context_stack: list[DAG] = []
#: One (fileloc, created DAGs) entry per DAG file being loaded (see tradewind.dagbag).
_loading: list[tuple[str, list[DAG]]] = []

#: Airflow 2 names that people carry over, and what to write instead.
_RENAMED = {
    "schedule_interval": "schedule",
    "timetable": "schedule",
    "concurrency": "max_active_tasks",
    "max_active_tis_per_dag": "max_active_tasks",
}


def check_id(value: Any, what: str, where: str = "") -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        prefix = f"{where}: " if where else ""
        raise DagDefinitionError(
            f"{prefix}{what} {value!r} is not valid: use up to 250 letters, digits, '_', '.' or '-'"
        )
    return value


def display_name(value: Any, what: str, where: str) -> str | None:
    """A display name: None, or a non-empty string of at most 2,000 characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 2000 or "\x00" in value:
        raise DagDefinitionError(
            f"{where}: {what} must be a non-empty string of at most 2,000 characters, not {value!r}"
        )
    return value


def _positive_seconds(value: Any, what: str, where: str) -> float | None:
    """A duration given as a timedelta or seconds, more than zero, as float seconds (or None)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        total = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        total = float(value)
    else:
        raise DagDefinitionError(f"{where}: {what} must be a timedelta or seconds, not {value!r}")
    if not total > 0:
        raise DagDefinitionError(f"{where}: {what} must be more than zero, not {value!r}")
    return total


def as_utc(value: datetime | None, what: str, where: str) -> datetime | None:
    """Naive datetimes are taken as UTC, as Airflow does with its default timezone."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise DagDefinitionError(f"{where}: {what} must be a datetime, not {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DAG:
    """A directed acyclic graph of tasks, with Airflow's parameter names.

    The owner shown for the DAG is `default_args["owner"]`, as in Airflow. As in Airflow too, a
    start_date in default_args is the DAG's when it has none of its own, and the DAG's time zone
    (in which its cron schedule is read) is its start_date's, UTC for a naive one.
    """

    def __init__(
        self,
        dag_id: str,
        description: str | None = None,
        schedule: str | timedelta | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        catchup: bool = False,
        default_args: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        params: dict[str, Any] | None = None,
        max_active_runs: int = 16,
        max_active_tasks: int = 16,
        is_paused_upon_creation: bool | None = None,
        doc_md: str | None = None,
        template_searchpath: str | list[str] | None = None,
        user_defined_macros: dict[str, Any] | None = None,
        user_defined_filters: dict[str, Any] | None = None,
        render_template_as_native_obj: bool = False,
        dagrun_timeout: timedelta | float | None = None,
        on_success_callback: Any = None,
        on_failure_callback: Any = None,
        dag_display_name: str | None = None,
        max_consecutive_failed_dag_runs: int = 0,
        **unknown: Any,
    ) -> None:
        self.fileloc = _loading[-1][0] if _loading else ""
        where = f"DAG {dag_id!r}" + (f" in {self.fileloc}" if self.fileloc else "")
        self.dag_id = check_id(dag_id, "dag_id", self.fileloc)
        if unknown:
            name = sorted(unknown)[0]
            if name in unsupported.DAG_ARGUMENTS:
                unsupported.not_yet(unsupported.DAG_ARGUMENTS[name], where)
            hint = f"; use {_RENAMED[name]!r}" if name in _RENAMED else ""
            raise DagDefinitionError(f"{where}: unknown argument {name!r}{hint}")
        self.description = "" if description is None else str(description)
        self.template_settings = template_settings(
            where, self.fileloc, template_searchpath, user_defined_macros, user_defined_filters,
            render_template_as_native_obj,
        )
        self.asset_condition: BaseAsset | None = None
        if is_asset_schedule(schedule):
            schedule, self.asset_condition = _asset_schedule(schedule, where)
        self.schedule = _check_schedule(schedule, where)
        if default_args is not None and not isinstance(default_args, dict):
            raise DagDefinitionError(f"{where}: default_args must be a dict, not {default_args!r}")
        if start_date is None and default_args:
            start_date = default_args.get("start_date")
        self.timezone = _zone_of(start_date, where)
        self.start_date = as_utc(start_date, "start_date", where)
        self.end_date = as_utc(end_date, "end_date", where)
        if self.schedule is not None and self.start_date is None:
            raise DagDefinitionError(f"{where}: a scheduled DAG needs a start_date (schedule is {schedule!r})")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise DagDefinitionError(f"{where}: end_date {self.end_date} is before start_date {self.start_date}")
        self.catchup = bool(catchup)
        self.dagrun_timeout = _positive_seconds(dagrun_timeout, "dagrun_timeout", where)
        self.dag_display_name = display_name(dag_display_name, "dag_display_name", where)
        if (
            not isinstance(max_consecutive_failed_dag_runs, int)
            or isinstance(max_consecutive_failed_dag_runs, bool)
            or max_consecutive_failed_dag_runs < 0
        ):
            raise DagDefinitionError(
                f"{where}: max_consecutive_failed_dag_runs must be an integer of at least 0, "
                f"not {max_consecutive_failed_dag_runs!r}"
            )
        self.max_consecutive_failed_dag_runs = max_consecutive_failed_dag_runs
        self.on_success_callback = checked_callbacks(on_success_callback, "on_success_callback", where)
        self.on_failure_callback = checked_callbacks(on_failure_callback, "on_failure_callback", where)
        self.default_args = dict(default_args or {})
        if isinstance(tags, str):
            raise DagDefinitionError(f"{where}: tags must be a list of strings, not the string {tags!r}")
        self.tags = [str(t) for t in tags or []]
        if params is not None and not isinstance(params, dict):
            raise DagDefinitionError(f"{where}: params must be a dict, not {params!r}")
        self.params, self.param_schemas = checked_params(params or {}, where)
        required = [name for name in self.param_schemas if name not in self.params]
        if self.schedule is not None and required:
            raise DagDefinitionError(
                f"{where}: param {required[0]!r} has no default, so the DAG cannot be scheduled; "
                "give it a default or use schedule=None"
            )
        for name, value in (("max_active_runs", max_active_runs), ("max_active_tasks", max_active_tasks)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DagDefinitionError(f"{where}: {name} must be a positive integer, not {value!r}")
        self.max_active_runs = max_active_runs
        self.max_active_tasks = max_active_tasks
        self.is_paused_upon_creation = None if is_paused_upon_creation is None else bool(is_paused_upon_creation)
        self.doc_md = doc_md
        self.task_dict: dict[str, BaseOperator] = {}
        self.task_group_dict: dict[str, TaskGroup] = {}
        if _loading:
            _loading[-1][1].append(self)

    def __repr__(self) -> str:
        return f"<DAG: {self.dag_id}>"

    def test(
        self,
        logical_date: datetime | None = None,
        run_conf: dict[str, Any] | None = None,
        conn_file_path: str | None = None,
        variable_file_path: str | None = None,
        use_executor: bool = False,
        mark_success_pattern: Any = None,
        **unknown: Any,
    ) -> Any:
        """Run the DAG once in this process, on a throwaway metastore, printing each task's log;
        returns the finished run. Tasks always run in a worker process (as `use_executor=True`
        would in Airflow); their results are the same either way."""
        if "execution_date" in unknown:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: dag.test(execution_date=...) is Airflow 2's name; write logical_date=..."
            )
        if unknown:
            raise DagDefinitionError(f"DAG {self.dag_id!r}: dag.test() has no argument {sorted(unknown)[0]!r}")
        for name, value in (
            ("conn_file_path", conn_file_path),
            ("variable_file_path", variable_file_path),
            ("mark_success_pattern", mark_success_pattern),
        ):
            if value is not None:
                unsupported.not_yet(f"dag.test({name}=...)", f"DAG {self.dag_id!r}")
        if _loading:
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: dag.test() runs from a script (under if __name__ == \"__main__\"), "
                "not while a DAG file is being loaded"
            )
        if run_conf is not None and not isinstance(run_conf, dict):
            raise DagDefinitionError(f"DAG {self.dag_id!r}: dag.test() run_conf must be a dict, not {run_conf!r}")
        if logical_date is not None and not isinstance(logical_date, datetime):
            raise DagDefinitionError(
                f"DAG {self.dag_id!r}: dag.test() logical_date must be a datetime, not {logical_date!r}"
            )
        from coordinator.dag_test import run_dag_test

        return run_dag_test(self, logical_date, run_conf or {})

    def __enter__(self) -> DAG:
        _context_stack.append(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        _context_stack.pop()
        if exc_type is None:
            self.validate()

    @property
    def label(self) -> str:
        """How errors name this DAG: with its file when it was loaded from the DAG folder."""
        return f"DAG {self.dag_id!r}" + (f" in {self.fileloc}" if self.fileloc else "")

    @property
    def tasks(self) -> list[BaseOperator]:
        return list(self.task_dict.values())

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    @property
    def owner(self) -> str:
        return str(self.default_args.get("owner", "tradewind"))

    def add_task(self, task: BaseOperator) -> None:
        if self.task_dict.get(task.task_id, task) is not task:
            raise DagDefinitionError(f"{self.label}: duplicate task id {task.task_id!r}")
        self.task_dict[task.task_id] = task

    @property
    def task(self) -> Any:
        """`@dag.task` and `@dag.task(...)`: Airflow's @task bound to this DAG."""
        from tradewind.decorators import task

        return functools.partial(task, dag=self)

    def get_task(self, task_id: str) -> BaseOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise DagDefinitionError(f"{self.label} has no task {task_id!r}") from None

    def validate(self) -> None:
        """Read template files, wire XComArgs found in template fields, then raise DagDefinitionError
        naming any cycle."""
        for task in self.task_dict.values():
            resolve_template_files(task, self.template_settings)
            task.wire_xcom_args()
            check_marks(task)
        cycle = self._find_cycle()
        if cycle:
            raise DagDefinitionError(f"{self.label}: cycle between tasks {' -> '.join(cycle)}")

    def _find_cycle(self) -> list[str] | None:
        # Iterative depth-first search: a chain of thousands of tasks must not hit the recursion limit.
        state: dict[str, int] = {}
        for root in self.task_dict:
            if root in state:
                continue
            path = [root]
            stack = [iter(sorted(self.task_dict[root].downstream_task_ids))]
            state[root] = 1
            while stack:
                child = next(stack[-1], None)
                if child is None:
                    stack.pop()
                    state[path.pop()] = 2
                elif state.get(child) == 1:
                    return path[path.index(child) :] + [child]
                elif child not in state:
                    state[child] = 1
                    path.append(child)
                    stack.append(iter(sorted(self.task_dict[child].downstream_task_ids)))
        return None


@contextmanager
def collecting(fileloc: str) -> Iterator[list[DAG]]:
    """Collect every DAG created inside the block, wherever it is created, and tag it with `fileloc`."""
    entry: tuple[str, list[DAG]] = (fileloc, [])
    _loading.append(entry)
    try:
        yield entry[1]
    finally:
        _loading.remove(entry)


def current_dag() -> DAG | None:
    return _context_stack[-1] if _context_stack else None


def _zone_of(start_date: Any, where: str) -> tzinfo:
    zone = start_date.tzinfo if isinstance(start_date, datetime) and start_date.tzinfo else UTC
    try:
        zone_name(zone)
    except ValueError as exc:
        raise DagDefinitionError(f"{where}: start_date {start_date!r}: {exc}") from None
    return zone


def checked_params(params: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Param values and schemas (tradewind.params), a default that breaks its schema refused."""
    try:
        return split_params(params, where)
    except ValueError as exc:
        raise DagDefinitionError(str(exc)) from None


def _asset_schedule(schedule: Any, where: str) -> tuple[str | timedelta | None, BaseAsset]:
    """(the time schedule, the asset condition) of a schedule on assets; an AssetAlias in it is refused."""
    timetable = None
    if isinstance(schedule, AssetOrTimeSchedule):
        timetable, schedule = schedule.timetable, schedule.assets
    try:
        condition = as_condition(schedule)
        condition.as_json()
    except DagDefinitionError as exc:
        raise DagDefinitionError(f"{where}: {exc}") from None
    return timetable, condition


def _check_schedule(schedule: Any, where: str) -> str | timedelta | None:
    if schedule is None:
        return None
    if isinstance(schedule, timedelta):
        if schedule.total_seconds() <= 0:
            raise DagDefinitionError(f"{where}: a timedelta schedule must be positive, not {schedule!r}")
        return schedule
    if isinstance(schedule, str):
        if schedule == "@continuous":
            raise DagDefinitionError(f"{where}: schedule '@continuous' is not supported")
        if schedule.startswith("@"):
            if schedule not in PRESETS:
                raise DagDefinitionError(
                    f"{where}: unknown schedule preset {schedule!r}; use one of {', '.join(PRESETS)}"
                )
            return schedule
        if croniter.is_valid(schedule):
            return schedule
        raise DagDefinitionError(f"{where}: schedule {schedule!r} is not a valid cron expression")
    raise DagDefinitionError(
        f"{where}: schedule must be a cron string, a preset, a timedelta, assets or None, not {schedule!r}"
    )
