"""Task groups: tasks gathered under a name, as Airflow's TaskGroup and @task_group.

A group changes three things and nothing else. Task ids: with `prefix_group_id` (the default) a
task `load` in group `etl` is `etl.load`. Defaults: the group's default_args apply over its
parent's and the DAG's. Edges: `>>` into a group lands on its root tasks (no upstream inside the
group) and out of it leaves from its leaf tasks, taken when the `>>` is written, as in Airflow.
The scheduler never sees groups; each task carries its group path for the monitor.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from tradewind.dag import DAG, current_dag
from tradewind.dependencies import DependencyMixin
from tradewind.exceptions import DagDefinitionError
from tradewind.mapping import ExpandInput, MappedArgument, checked_expand, checked_expand_kwargs

if TYPE_CHECKING:
    from tradewind.baseoperator import BaseOperator

GROUP_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")
_SUFFIX = re.compile(r"__\d+$")

_group_stack: list[TaskGroup] = []


class TaskGroup(DependencyMixin):
    """A named set of tasks and groups of one DAG, used as a context manager.

    `group_id` is Airflow's: prefixed with the parent's when the parent prefixes. `path` is every
    enclosing group's own id, outermost first, joined by "." whatever the prefixes: what the
    monitor nests by.
    """

    dag: DAG
    parent_group: TaskGroup | None
    default_args: dict[str, Any]

    def __init__(
        self,
        group_id: str,
        prefix_group_id: bool = True,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        default_args: dict[str, Any] | None = None,
        tooltip: str = "",
        ui_color: str = "CornflowerBlue",
        ui_fgcolor: str = "#000",
        add_suffix_on_collision: bool = False,
    ) -> None:
        dag = dag or (parent_group.dag if parent_group is not None else None) or current_dag()
        if dag is None:
            raise DagDefinitionError(
                f"task group {group_id!r} belongs to no DAG; create it inside `with DAG(...)` or pass dag="
            )
        where = f"{dag.label}: task group {group_id!r}"
        if not isinstance(group_id, str) or not GROUP_ID_PATTERN.match(group_id):
            raise DagDefinitionError(
                f"{dag.label}: group_id {group_id!r} is not valid: use up to 200 letters, digits, '_' or '-'"
            )
        parent = parent_group if parent_group is not None else current_group(dag)
        if parent is not None and parent.dag is not dag:
            raise DagDefinitionError(f"{where} and its parent group {parent.group_id!r} are in different DAGs")
        if default_args is not None and not isinstance(default_args, dict):
            raise DagDefinitionError(f"{where}: default_args must be a dict, not {default_args!r}")
        self.dag = dag
        self.parent_group = parent
        self.prefix_group_id = bool(prefix_group_id)
        self.tooltip = str(tooltip or "")
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.default_args = {**(parent.default_args if parent else {}), **(default_args or {})}
        self.children: dict[str, BaseOperator | TaskGroup] = {}
        self._label = group_id
        if self.group_id in dag.task_group_dict or self.group_id in dag.task_dict:
            if not add_suffix_on_collision:
                raise DagDefinitionError(f"{dag.label}: group_id {self.group_id!r} is already used in the DAG")
            base = _SUFFIX.sub("", group_id)
            n = 1
            while (taken := self._with_label(f"{base}__{n}")) in dag.task_group_dict or taken in dag.task_dict:
                n += 1
            self._label = f"{base}__{n}"
        dag.task_group_dict[self.group_id] = self
        if parent is not None:
            parent.children[self.group_id] = self

    def __repr__(self) -> str:
        return f"<TaskGroup: {self.group_id}>"

    def _with_label(self, label: str) -> str:
        parent = self.parent_group
        return parent.child_id(label) if parent is not None else label

    @property
    def label(self) -> str:
        """The group's own id, without any parent's prefix."""
        return self._label

    @property
    def group_id(self) -> str:
        return self._with_label(self._label)

    @property
    def path(self) -> str:
        parent = self.parent_group
        return f"{parent.path}.{self._label}" if parent is not None else self._label

    def child_id(self, label: str) -> str:
        """The id a task or group named `label` gets inside this group."""
        return f"{self.group_id}.{label}" if self.prefix_group_id else label

    def __enter__(self) -> TaskGroup:
        _group_stack.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _group_stack.remove(self)

    def __iter__(self) -> Iterator[BaseOperator]:
        """Every task in the group and its groups, in definition order."""
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield from child
            else:
                yield child

    def has_task(self, task: BaseOperator) -> bool:
        return any(member is task for member in self)

    def get_child_by_label(self, label: str) -> BaseOperator | TaskGroup:
        try:
            return self.children[self.child_id(label)]
        except KeyError:
            raise DagDefinitionError(f"{self.dag.label}: task group {self.group_id!r} has no child {label!r}") from None

    @property
    def roots(self) -> list[BaseOperator]:
        """Tasks with no upstream task inside the group: where edges into the group land."""
        tasks = list(self)
        ids = {t.task_id for t in tasks}
        return [t for t in tasks if t.upstream_task_ids.isdisjoint(ids)]

    @property
    def leaves(self) -> list[BaseOperator]:
        """Tasks with no downstream task inside the group: where edges out of the group leave from.
        As in Airflow, a teardown is not a leaf: the last work tasks before it are, so what comes
        after the group does not wait on (or fail with) the group's teardown."""
        tasks = list(self)
        by_id = {t.task_id: t for t in tasks}
        out: dict[str, BaseOperator] = {}

        def other_work_below(task: BaseOperator, exclude: str) -> bool:
            return any(
                child != exclude and child in by_id and not by_id[child].is_teardown
                for child in task.downstream_task_ids
            )

        def before_teardown(teardown: BaseOperator) -> None:
            for up in sorted(teardown.upstream_task_ids):
                task = by_id.get(up)
                if task is None or (teardown.is_teardown and task.is_setup):
                    continue
                if task.is_teardown:
                    before_teardown(task)
                elif not other_work_below(task, teardown.task_id):
                    out[task.task_id] = task

        for task in tasks:
            if task.downstream_task_ids.isdisjoint(by_id):
                if task.is_teardown:
                    before_teardown(task)
                else:
                    out[task.task_id] = task
        return list(out.values())

    def set_downstream(self, other: Any) -> None:
        for task in self.leaves:
            task.set_downstream(other)

    def set_upstream(self, other: Any) -> None:
        for task in self.roots:
            task.set_upstream(other)



def current_group(dag: DAG | None) -> TaskGroup | None:
    """The innermost `with TaskGroup` of `dag` (of any DAG when `dag` is None)."""
    for group in reversed(_group_stack):
        if dag is None or group.dag is dag:
            return group
    return None


def join_group(task: BaseOperator, group: TaskGroup | None) -> None:
    """Put a new task in its group; its id must not be a group's."""
    if task.dag is not None and task.task_id in task.dag.task_group_dict:
        raise DagDefinitionError(f"{task.where}: its id is already the id of a task group")
    if group is not None:
        if group.dag is not task.dag:
            raise DagDefinitionError(f"{task.where} and task group {group.group_id!r} are in different DAGs")
        group.children[task.task_id] = task


def group_task_id(task_id: str, dag: DAG) -> str:
    """The id a task named `task_id` gets when created now in `dag` (inside its current group)."""
    group = current_group(dag)
    return group.child_id(task_id) if group is not None else task_id


class _TaskGroupFunction:
    """What `@task_group` returns: calling it inside a DAG builds a group around the function's tasks.

    The call returns what the function returns, so `>>` binds to it, or the group when that is
    None, as in Airflow. Calling it again makes a new group, `name__1`, `name__2`, ...
    """

    def __init__(
        self, function: Callable[..., Any], options: dict[str, Any], shared: dict[str, Any] | None = None
    ) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.options = options
        #: Arguments given to partial(), shared by every mapped instance of the group.
        self.shared = dict(shared or {})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._group() as group:
            result = self.function(*args, **kwargs)
        return group if result is None else result

    def _group(self) -> TaskGroup:
        options = {"group_id": self.function.__name__, "add_suffix_on_collision": True, **self.options}
        if not options.get("tooltip") and self.function.__doc__:
            options["tooltip"] = self.function.__doc__.strip()
        return TaskGroup(**options)

    def _where(self) -> str:
        return f"task group {self.options.get('group_id', self.function.__name__)!r}"

    def partial(self, **kwargs: Any) -> _TaskGroupFunction:
        """The function's arguments every mapped instance of the group shares."""
        return _TaskGroupFunction(self.function, self.options, {**self.shared, **kwargs})

    def expand(self, **mapped: Any) -> Any:
        """A mapped task group: every task in it is mapped, instance i of each over item i."""
        checked_expand(mapped, self._where())
        return self._mapped("dict", mapped, list(mapped))

    def expand_kwargs(self, kwargs: Any) -> Any:
        value = checked_expand_kwargs(kwargs, self._where())
        names = [n for n in inspect.signature(self.function).parameters if n not in self.shared]
        return self._mapped("list", value, names)

    def _mapped(self, kind: str, value: Any, names: list[str]) -> Any:
        from tradewind.baseoperator import find_xcom_args

        with self._group() as group:
            arguments = {name: MappedArgument(group, name) for name in names}
            result = self.function(**self.shared, **arguments)
        expand_input = ExpandInput(kind, value, "group", group.path)
        sources = value.values() if kind == "dict" else [value]
        producers = [arg.operator for arg in find_xcom_args(list(sources))]
        roots = group.roots
        for task in group:
            if task.expand_input is not None:
                raise DagDefinitionError(
                    f"{task.where}: Tradewind does not support mapping a task inside a mapped task group yet"
                )
            task.expand_input = expand_input
            if any(task is root for root in roots):
                for producer in producers:
                    task.set_upstream(producer)
        return group if result is None else result


def task_group(python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
    """`@task_group` or `@task_group(group_id=..., default_args=..., ...)`, as in Airflow."""
    if python_callable is None:
        return lambda function: _TaskGroupFunction(function, options)
    if not callable(python_callable):
        raise DagDefinitionError(f"@task_group takes keyword arguments, not {python_callable!r}")
    return _TaskGroupFunction(python_callable, options)
