"""PythonOperator: call a Python function from the DAG file; its return value is an XCom."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradewind.baseoperator import BaseOperator, accepts
from tradewind.exceptions import DagDefinitionError


class PythonOperator(BaseOperator):
    kind = "python"
    template_fields = ("op_args", "op_kwargs")

    def __init__(
        self,
        *,
        task_id: str,
        python_callable: Callable[..., Any],
        op_args: list[Any] | tuple[Any, ...] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if not callable(python_callable):
            raise DagDefinitionError(f"task {task_id!r}: python_callable must be callable, not {python_callable!r}")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        from tradewind.decorators import wire_xcom_args

        wire_xcom_args(self, self.op_args, self.op_kwargs)

    def execute(self, context: dict[str, Any]) -> Any:
        """Call the function, passing the context keys it names (or all, when it takes **kwargs)."""
        names, positional, takes_all = accepts(self.python_callable)
        taken = set(positional[: len(self.op_args)]) | set(self.op_kwargs)
        extra = {k: v for k, v in context.items() if (takes_all or k in names) and k not in taken}
        return self.python_callable(*self.op_args, **self.op_kwargs, **extra)

    def describe(self) -> dict[str, Any]:
        from tradewind.decorators import xcom_inputs

        function = self.python_callable
        name = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"
        return {
            "callable": name,
            "xcom_inputs": [list(pair) for pair in xcom_inputs(self.op_args, self.op_kwargs)],
            "op_args_repr": repr(self.op_args)[:500],
            "op_kwargs_repr": repr(self.op_kwargs)[:500],
        }
