"""TaskFlow: @task turns a function into a task; passing its result to another task wires both
the dependency and the value (an XComArg, resolved on the worker from the stored XCom)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tradewind.baseoperator import BaseOperator
from tradewind.dag import current_dag
from tradewind.exceptions import DagDefinitionError, TaskFailed
from tradewind.operators.python import PythonOperator


class XComArg:
    """The future value of a task's XCom; `>>` and `<<` act on the task that produces it."""

    def __init__(self, operator: BaseOperator, key: str = "return_value") -> None:
        self.operator = operator
        self.key = key

    def __repr__(self) -> str:
        return f"XComArg({self.operator.task_id!r}, {self.key!r})"

    def __getitem__(self, key: str) -> XComArg:
        return XComArg(self.operator, str(key))

    def __rshift__(self, other: Any) -> Any:
        return self.operator >> other

    def __lshift__(self, other: Any) -> Any:
        return self.operator << other

    def __rrshift__(self, other: Any) -> XComArg:
        other >> self.operator
        return self

    def __rlshift__(self, other: Any) -> XComArg:
        other << self.operator
        return self


def _walk(value: Any) -> list[XComArg]:
    if isinstance(value, XComArg):
        return [value]
    if isinstance(value, list | tuple | set):
        return [x for item in value for x in _walk(item)]
    if isinstance(value, dict):
        return [x for item in value.values() for x in _walk(item)]
    return []


def xcom_inputs(*values: Any) -> list[tuple[str, str]]:
    """The (task_id, key) pairs that these arguments read, without duplicates, in order."""
    seen: dict[tuple[str, str], None] = {}
    for value in values:
        for arg in _walk(value):
            seen[(arg.operator.task_id, arg.key)] = None
    return list(seen)


def wire_xcom_args(task: BaseOperator, *values: Any) -> None:
    for arg in _walk(list(values)):
        arg.operator >> task


def resolve(value: Any, inputs: dict[str, Any]) -> Any:
    """Replace every XComArg in `value` by its value from `inputs` ("task_id|key" -> value)."""
    if isinstance(value, XComArg):
        name = f"{value.operator.task_id}|{value.key}"
        if name not in inputs:
            raise TaskFailed(f"XCom {value.key!r} of task {value.operator.task_id!r} is missing")
        return inputs[name]
    if isinstance(value, list):
        return [resolve(v, inputs) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, inputs) for v in value)
    if isinstance(value, dict):
        return {k: resolve(v, inputs) for k, v in value.items()}
    return value


class _TaskDecorator:
    """`@task` and `@task(...)`; `task.python` is the same thing, as in Airflow."""

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        if python_callable is not None and callable(python_callable) and not kwargs:
            return _make(python_callable, {})
        if python_callable is not None and not callable(python_callable):
            raise DagDefinitionError(f"@task takes keyword arguments, not {python_callable!r}")

        def decorate(function: Callable[..., Any]) -> Callable[..., XComArg]:
            return _make(function, kwargs)

        return decorate

    @property
    def python(self) -> _TaskDecorator:
        return self


def _make(function: Callable[..., Any], options: dict[str, Any]) -> Callable[..., XComArg]:
    options = dict(options)
    options.pop("multiple_outputs", None)
    base_id = options.pop("task_id", function.__name__)

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> XComArg:
        dag = current_dag()
        if dag is None:
            raise DagDefinitionError(
                f"@task {base_id!r} was called outside a DAG; call it inside `with DAG(...)` or @dag"
            )
        task_id = base_id
        n = 0
        while task_id in dag.task_dict:
            n += 1
            task_id = f"{base_id}__{n}"
        operator = PythonOperator(task_id=task_id, python_callable=function, op_args=args, op_kwargs=kwargs, **options)
        return XComArg(operator)

    return call


task = _TaskDecorator()
