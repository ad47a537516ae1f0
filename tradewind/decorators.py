"""TaskFlow: @dag turns a function into a DAG factory, @task turns a function into a task.

Passing one task's result to another wires both the dependency and the value: the result is
an XComArg, resolved on the worker from the XCom the coordinator stored.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from tradewind.baseoperator import XComArg, accepts
from tradewind.dag import DAG, current_dag
from tradewind.exceptions import DagDefinitionError
from tradewind.mapping import ExpandInput, checked_expand, checked_expand_kwargs, mark_mapped
from tradewind.operators.bash import BashDecoratedOperator
from tradewind.operators.branch import BranchPythonOperator
from tradewind.operators.python import PythonOperator, ShortCircuitOperator
from tradewind.operators.sql import SqlDecoratedOperator
from tradewind.params import NOTSET, DagParam
from tradewind.sensors.python import PythonSensor
from tradewind.task_group import group_task_id
from tradewind.unsupported import not_yet

__all__ = ["XComArg", "dag", "task"]


def dag(dag_id: Any = None, **dag_kwargs: Any) -> Any:
    """`@dag` or `@dag(...)`: calling the decorated function builds the DAG with the tasks it defines.

    The DAG id defaults to the function's name; the docstring's first line to the description.
    """

    def decorate(function: Callable[..., Any]) -> Callable[..., DAG]:
        @functools.wraps(function)
        def build(*args: Any, **kwargs: Any) -> DAG:
            options = dict(dag_kwargs)
            if options.get("description") is None and function.__doc__:
                options["description"] = function.__doc__.strip().splitlines()[0]
            bound = inspect.signature(function).bind(*args, **kwargs)
            bound.apply_defaults()
            options["params"] = {**(options.get("params") or {}), **bound.arguments}
            with DAG(dag_id or function.__name__, **options) as new:
                function(**{name: DagParam(name, new.params.get(name, NOTSET)) for name in bound.arguments})
            return new

        return build

    if callable(dag_id):
        function, dag_id = dag_id, None
        return decorate(function)
    return decorate


class _TaskDecorator:
    """`@task`, `@task(...)`, `task.python`, `task.branch`, `task.short_circuit`, `task.bash` and `task.sensor`,
    as in Airflow; options are the operator's arguments."""

    def __call__(self, python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        return _decorate(python_callable, options, PythonOperator, "@task")

    @property
    def python(self) -> _TaskDecorator:
        return self

    def branch(self, python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        """The function returns the task id(s) to follow, as BranchPythonOperator's callable."""
        return _decorate(python_callable, options, BranchPythonOperator, "@task.branch")

    def short_circuit(self, python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Downstream tasks run only when the function returns a truthy value."""
        return _decorate(python_callable, options, ShortCircuitOperator, "@task.short_circuit")

    def bash(self, python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        """The function returns the bash command to run; its last line of output is the XCom."""
        return _decorate(python_callable, options, BashDecoratedOperator, "@task.bash")

    def sql(self, python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        """The function returns the SQL to run on `conn_id`; the rows are the XCom."""
        return _decorate(python_callable, options, SqlDecoratedOperator, "@task.sql")

    def sensor(self, python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        """The function is the poke: it returns a bool or a PokeReturnValue; options are
        BaseSensorOperator's (poke_interval, timeout, mode, soft_fail, ...)."""
        return _decorate(python_callable, options, PythonSensor, "@task.sensor")

    def __getattr__(self, name: str) -> Any:
        """Airflow's other task decorators (@task.virtualenv, @task.docker, ...) are refused by name."""
        if name.startswith("__"):
            raise AttributeError(name)
        not_yet(f"@task.{name}")


def _decorate(
    python_callable: Callable[..., Any] | None,
    options: dict[str, Any],
    operator: type[PythonOperator | PythonSensor],
    name: str,
) -> Any:
    if python_callable is None:
        return lambda function: _TaskFactory(function, options, operator)
    if not callable(python_callable):
        raise DagDefinitionError(f"{name} takes keyword arguments, not {python_callable!r}")
    return _TaskFactory(python_callable, options, operator)


class _TaskFactory:
    """A decorated function: calling it inside a DAG adds a task and returns the task's XComArg;
    `.override(task_id=..., retries=...)` gives the same task factory with other options."""

    def __init__(
        self,
        function: Callable[..., Any],
        options: dict[str, Any],
        operator: type[PythonOperator | PythonSensor],
        shared: dict[str, Any] | None = None,
    ) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.options = dict(options)
        self.operator = operator
        #: ("setup"|"teardown", on_failure_fail_dagrun) for @setup and @teardown, else None.
        self.role: tuple[str, bool] | None = None
        #: Arguments given to partial(), shared by every mapped instance.
        self.shared = dict(shared or {})

    def override(self, **options: Any) -> _TaskFactory:
        factory = _TaskFactory(self.function, {**self.options, **options}, self.operator, self.shared)
        factory.role = self.role
        return factory

    def marked(self, setup: bool = False, teardown: bool = False, on_failure_fail_dagrun: bool = False) -> _TaskFactory:
        """The same factory making setup (or teardown) tasks: what @setup and @teardown return."""
        factory = self.override()
        factory.role = ("setup", False) if setup else ("teardown", on_failure_fail_dagrun) if teardown else None
        return factory

    def partial(self, **kwargs: Any) -> _TaskFactory:
        """The function's arguments every mapped instance shares; then `.expand(...)`."""
        where = f"@task {self.function.__name__!r}"
        _check_names(self.function, kwargs, where, "partial()")
        return _TaskFactory(self.function, self.options, self.operator, {**self.shared, **kwargs})

    def expand(self, **mapped: Any) -> XComArg:
        """One task instance per item (per combination, over several arguments), as Airflow."""
        where = f"@task {self.function.__name__!r}"
        checked_expand(mapped, where)
        _check_names(self.function, mapped, where, "expand()")
        twice = sorted(set(mapped) & set(self.shared))
        if twice:
            raise DagDefinitionError(f"{where}: {twice[0]!r} is given to both partial() and expand()")
        output = self._make((), self.shared)
        mark_mapped(output.operator, ExpandInput("dict", mapped, "op_kwargs"))
        return output

    def expand_kwargs(self, kwargs: Any) -> XComArg:
        """One task instance per dict of arguments (a list of dicts, or an XComArg resolving to one)."""
        value = checked_expand_kwargs(kwargs, f"@task {self.function.__name__!r}")
        output = self._make((), self.shared)
        mark_mapped(output.operator, ExpandInput("list", value, "op_kwargs"))
        return output

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        if self.shared and (args or kwargs):
            raise DagDefinitionError(
                f"@task {self.function.__name__!r}: after partial(), call expand() or expand_kwargs(), not the task"
            )
        return self._make(args, kwargs)

    def _make(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> XComArg:
        options = dict(self.options)
        multiple_outputs = options.pop("multiple_outputs", None)
        base_id = options.pop("task_id", self.function.__name__)
        target = options.get("dag") or current_dag()
        if target is None:
            raise DagDefinitionError(
                f"@task {base_id!r} was called outside a DAG; call it inside `with DAG(...)` or an @dag function"
            )
        task_id, n = base_id, 0
        while group_task_id(task_id, target) in target.task_dict:
            n += 1
            task_id = f"{base_id}__{n}"
        operator = self.operator(
            task_id=task_id, python_callable=self.function, op_args=args, op_kwargs=kwargs, **options
        )
        if self.role is not None and self.role[0] == "setup":
            operator.as_setup()
        elif self.role is not None:
            operator.as_teardown(on_failure_fail_dagrun=self.role[1])
        operator.multiple_outputs = (
            returns_mapping(self.function) if multiple_outputs is None else bool(multiple_outputs)
        )
        return XComArg(operator)


def _check_names(function: Callable[..., Any], values: dict[str, Any], where: str, call: str) -> None:
    names, _, takes_all = accepts(function)
    if not takes_all:
        unknown = sorted(set(values) - names)
        if unknown:
            raise DagDefinitionError(f"{where}: {call} got an unexpected argument {unknown[0]!r}")


def returns_mapping(function: Callable[..., Any]) -> bool:
    """Airflow turns multiple_outputs on when the return type hint is a dict (any Mapping)."""
    if "return" not in getattr(function, "__annotations__", {}):
        return False
    try:
        hint = typing.get_type_hints(function).get("return", Any)
    except Exception:  # noqa: BLE001 - a hint that does not resolve says nothing, as in Airflow
        return False
    origin = getattr(hint, "__origin__", hint)
    return isinstance(origin, type) and issubclass(origin, Mapping)


task = _TaskDecorator()
