"""The DAG: a named graph of tasks with a schedule, used as a context manager or via @dag.

Validation happens as the DAG is built (ids, schedule) and when its file finishes loading
(cycles), so a mistake is an error at parse time that names the DAG, the task and the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from croniter import croniter

from tradewind.exceptions import DagDefinitionError

if TYPE_CHECKING:
    from tradewind.baseoperator import BaseOperator

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")

_context_stack: list[DAG] = []
#: DAGs created while a DAG file is being loaded (see tradewind.dagbag).
_loading: list[list[DAG]] = []


def check_id(value: Any, what: str, where: str = "") -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        prefix = f"{where}: " if where else ""
        raise DagDefinitionError(
            f"{prefix}{what} {value!r} is not valid: use up to 250 letters, digits, '_', '.' or '-'"
        )
    return value


def as_utc(value: datetime | None, what: str, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise DagDefinitionError(f"{where}: {what} must be a datetime, not {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DAG:
    """A directed acyclic graph of tasks, with Airflow's parameter names."""

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
    ) -> None:
        self.dag_id = check_id(dag_id, "dag_id")
        where = f"DAG {dag_id!r}"
        self.description = description or ""
        self.schedule = _check_schedule(schedule, where)
        self.start_date = as_utc(start_date, "start_date", where)
        self.end_date = as_utc(end_date, "end_date", where)
        if self.schedule is not None and self.start_date is None:
            raise DagDefinitionError(f"{where}: a scheduled DAG needs a start_date (schedule is {schedule!r})")
        self.catchup = bool(catchup)
        self.default_args = dict(default_args or {})
        self.tags = [str(t) for t in tags or []]
        self.params = dict(params or {})
        for name, value in (("max_active_runs", max_active_runs), ("max_active_tasks", max_active_tasks)):
            if not isinstance(value, int) or value < 1:
                raise DagDefinitionError(f"{where}: {name} must be a positive integer, not {value!r}")
        self.max_active_runs = max_active_runs
        self.max_active_tasks = max_active_tasks
        self.is_paused_upon_creation = is_paused_upon_creation
        self.doc_md = doc_md
        self.task_dict: dict[str, BaseOperator] = {}
        self.fileloc = ""
        for bucket in _loading:
            bucket.append(self)

    def __repr__(self) -> str:
        return f"<DAG {self.dag_id}>"

    def __enter__(self) -> DAG:
        _context_stack.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _context_stack.pop()

    @property
    def tasks(self) -> list[BaseOperator]:
        return list(self.task_dict.values())

    @property
    def owner(self) -> str:
        return str(self.default_args.get("owner", "tradewind"))

    def add_task(self, task: BaseOperator) -> None:
        if task.task_id in self.task_dict and self.task_dict[task.task_id] is not task:
            raise DagDefinitionError(f"DAG {self.dag_id!r}: duplicate task id {task.task_id!r}")
        self.task_dict[task.task_id] = task

    def get_task(self, task_id: str) -> BaseOperator:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise DagDefinitionError(f"DAG {self.dag_id!r} has no task {task_id!r}") from None

    def validate(self, where: str = "") -> None:
        """Raise DagDefinitionError naming the cycle when the graph has one."""
        prefix = f"DAG {self.dag_id!r}" + (f" in {where}" if where else "")
        state: dict[str, int] = {}
        path: list[str] = []

        def visit(task_id: str) -> None:
            state[task_id] = 1
            path.append(task_id)
            for child in sorted(self.task_dict[task_id].downstream_task_ids):
                if state.get(child) == 1:
                    cycle = path[path.index(child) :] + [child]
                    raise DagDefinitionError(f"{prefix}: cycle between tasks {' -> '.join(cycle)}")
                if child not in state:
                    visit(child)
            path.pop()
            state[task_id] = 2

        for task_id in self.task_dict:
            if task_id not in state:
                visit(task_id)

    def topological(self) -> Iterator[BaseOperator]:
        done: set[str] = set()
        for task in self.task_dict.values():
            yield from self._topo(task, done)

    def _topo(self, task: BaseOperator, done: set[str]) -> Iterator[BaseOperator]:
        if task.task_id in done:
            return
        done.add(task.task_id)
        for up in sorted(task.upstream_task_ids):
            yield from self._topo(self.task_dict[up], done)
        yield task


@contextmanager
def collecting() -> Iterator[list[DAG]]:
    """Collect every DAG created inside the block, wherever it is created."""
    created: list[DAG] = []
    _loading.append(created)
    try:
        yield created
    finally:
        _loading.remove(created)


def current_dag() -> DAG | None:
    return _context_stack[-1] if _context_stack else None


def _check_schedule(schedule: Any, where: str) -> str | timedelta | None:
    if schedule is None:
        return None
    if isinstance(schedule, timedelta):
        if schedule.total_seconds() <= 0:
            raise DagDefinitionError(f"{where}: a timedelta schedule must be positive, not {schedule}")
        return schedule
    if isinstance(schedule, str):
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
        f"{where}: schedule must be a cron string, a preset, a timedelta or None, not {type(schedule).__name__}"
    )


def dag(dag_id: str | None = None, **dag_kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., DAG]]:
    """Turn a function into a DAG factory: calling it builds the DAG with the tasks it defines."""

    def decorate(function: Callable[..., Any]) -> Callable[..., DAG]:
        def build(*args: Any, **kwargs: Any) -> DAG:
            with DAG(dag_id or function.__name__, **dag_kwargs) as new:
                if function.__doc__ and not new.description:
                    new.description = function.__doc__.strip().splitlines()[0]
                function(*args, **kwargs)
            return new

        build.__name__ = function.__name__
        build.__doc__ = function.__doc__
        return build

    if callable(dag_id):
        function, dag_id = dag_id, None
        return decorate(function)  # type: ignore[return-value]
    return decorate
