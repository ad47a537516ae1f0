"""TaskFlow: @dag turns a function into a DAG factory, @task turns a function into a task.

Passing one task's result to another wires both the dependency and the value: the result is
an XComArg, resolved on the worker from the XCom the coordinator stored.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from tradewind.baseoperator import XComArg
from tradewind.dag import DAG, current_dag
from tradewind.exceptions import DagDefinitionError
from tradewind.operators.python import PythonOperator
from tradewind.params import NOTSET, DagParam
from tradewind.task_group import group_task_id

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
    """`@task`, `@task(...)` and `task.python`, as in Airflow; options are BaseOperator arguments."""

    def __call__(self, python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
        if python_callable is None:
            return lambda function: _task_factory(function, options)
        if not callable(python_callable):
            raise DagDefinitionError(f"@task takes keyword arguments, not {python_callable!r}")
        return _task_factory(python_callable, options)

    @property
    def python(self) -> _TaskDecorator:
        return self


def _task_factory(function: Callable[..., Any], options: dict[str, Any]) -> Callable[..., XComArg]:
    options = dict(options)
    multiple_outputs = bool(options.pop("multiple_outputs", False))
    base_id = options.pop("task_id", function.__name__)

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> XComArg:
        target = options.get("dag") or current_dag()
        if target is None:
            raise DagDefinitionError(
                f"@task {base_id!r} was called outside a DAG; call it inside `with DAG(...)` or an @dag function"
            )
        task_id, n = base_id, 0
        while group_task_id(task_id, target) in target.task_dict:
            n += 1
            task_id = f"{base_id}__{n}"
        operator = PythonOperator(task_id=task_id, python_callable=function, op_args=args, op_kwargs=kwargs, **options)
        operator.multiple_outputs = multiple_outputs
        return XComArg(operator)

    return call


task = _TaskDecorator()
