"""PythonSensor and @task.sensor: a Python callable is the poke; it returns a bool or a
PokeReturnValue whose xcom_value becomes the sensor's return value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewind.operators.python import CallsPython, call_with_context
from tradewind.sensors.base import BaseSensorOperator, PokeReturnValue


class PythonSensor(BaseSensorOperator, CallsPython):
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
        self.set_callable(python_callable, op_args, op_kwargs, templates_dict)

    def poke(self, context: dict[str, Any]) -> PokeReturnValue:
        context = {**context, "templates_dict": self.templates_dict}
        value = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        return value if isinstance(value, PokeReturnValue) else PokeReturnValue(bool(value))
