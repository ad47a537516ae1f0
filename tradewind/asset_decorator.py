"""Airflow 3's `@asset`: a function becomes an asset and a DAG of one task that produces it.

    @asset(schedule="@daily", start_date=datetime(2024, 1, 1), uri="s3://lake/orders")
    def orders(self, context): ...

makes the asset `orders` (name: the function's name), and the DAG `orders` with the task
`orders`, whose outlets are that asset: each successful run emits its event. The function may
take `self` (the asset) and `context` (the task context); other keyword arguments go to the DAG.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tradewind import unsupported
from tradewind.assets import Asset
from tradewind.dag import DAG
from tradewind.exceptions import DagDefinitionError
from tradewind.operators.python import PythonOperator

#: The parameters an @asset function may take.
_PARAMETERS = ("self", "context")


class AssetDefinition(Asset):
    """The asset an @asset function defines; `.dag` is the DAG that produces it."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        schedule: Any,
        name: str | None,
        uri: str | None,
        group: str,
        extra: dict[str, Any] | None,
        dag_arguments: dict[str, Any],
    ) -> None:
        name = name or function.__name__
        super().__init__(name=name, uri=uri, group=group, extra=extra)
        taken = list(inspect.signature(function).parameters)
        others = [p for p in taken if p not in _PARAMETERS]
        if others:
            unsupported.not_yet(f"@asset function parameters other than self and context ({others[0]!r})", name)
        with DAG(dag_id=name, schedule=schedule, **dag_arguments) as dag:
            PythonOperator(task_id=name, python_callable=_caller(function, self, taken), outlets=[self])
        self.dag = dag
        self.function = function


def _caller(function: Callable[..., Any], definition: AssetDefinition, taken: list[str]) -> Callable[..., Any]:
    def call(**context: Any) -> Any:
        given = {"self": definition, "context": context}
        return function(**{name: given[name] for name in taken})

    # Named as the function (how the task's callable is shown), without functools.wraps: its
    # __wrapped__ would make PythonOperator pass only the context keys the function names.
    call.__module__, call.__name__, call.__qualname__ = function.__module__, function.__name__, function.__qualname__
    return call


def asset(
    *,
    schedule: Any,
    name: str | None = None,
    uri: str | None = None,
    group: str = "asset",
    extra: dict[str, Any] | None = None,
    **dag_arguments: Any,
) -> Callable[[Callable[..., Any]], AssetDefinition]:
    """`@asset(schedule=...)`: the decorated function is the asset's producer, run as its own DAG."""

    def decorate(function: Callable[..., Any]) -> AssetDefinition:
        if not callable(function):
            raise DagDefinitionError(f"@asset decorates a function, not {function!r}")
        return AssetDefinition(
            function, schedule=schedule, name=name, uri=uri, group=group, extra=extra, dag_arguments=dag_arguments
        )

    return decorate


def _multi(**_: Any) -> Any:
    unsupported.not_yet("@asset.multi")


asset.multi = _multi  # type: ignore[attr-defined]
