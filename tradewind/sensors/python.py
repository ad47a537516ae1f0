"""PythonSensor and @task.sensor: a Python callable is the poke; it returns a bool or a
PokeReturnValue whose xcom_value becomes the sensor's return value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewind.exceptions import DagDefinitionError
from tradewind.operators.python import call_with_context
from tradewind.sensors.base import BaseSensorOperator, PokeReturnValue


class PythonSensor(BaseSensorOperator):
    template_fields = ("templates_dict", "op_args", "op_kwargs")
    #: Set by @task.sensor like @task's; each key of a dict xcom_value is also its own XCom.
    multiple_outputs = False

    def __init__(
        self,
        *,
        task_id: str,
        python_callable: Callable[..., Any],
        op_args: list[Any] | tuple[Any, ...] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if not callable(python_callable):
            raise DagDefinitionError(f"{self.where}: python_callable must be callable, not {python_callable!r}")
        if op_kwargs is not None and not isinstance(op_kwargs, dict):
            raise DagDefinitionError(f"{self.where}: op_kwargs must be a dict, not {op_kwargs!r}")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict
        if self.dag is not None:
            self.wire_xcom_args()

    def poke(self, context: dict[str, Any]) -> PokeReturnValue:
        context = {**context, "templates_dict": self.templates_dict}
        value = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        return value if isinstance(value, PokeReturnValue) else PokeReturnValue(bool(value))
