"""PythonOperator: call a Python function from the DAG file; its return value is an XCom."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tradewind.asset_events import OutletEventAccessors, collect_metadata
from tradewind.baseoperator import BaseOperator, accepts
from tradewind.exceptions import DagDefinitionError, TaskFailed
from tradewind.skipping import follow_only, skip_all_downstream


class CallsPython:
    """What PythonOperator and PythonSensor call, checked and set in one place."""

    templates_dict: dict[str, Any] | None
    python_callable: Callable[..., Any]
    op_args: list[Any]
    op_kwargs: dict[str, Any]

    def set_callable(
        self,
        python_callable: Callable[..., Any],
        op_args: list[Any] | tuple[Any, ...] | None,
        op_kwargs: dict[str, Any] | None,
        templates_dict: dict[str, Any] | None,
    ) -> None:
        task: Any = self  # a BaseOperator, which has where, dag and wire_xcom_args
        if templates_dict is not None and not isinstance(templates_dict, dict):
            raise DagDefinitionError(f"{task.where}: templates_dict must be a dict, not {templates_dict!r}")
        if not callable(python_callable):
            raise DagDefinitionError(f"{task.where}: python_callable must be callable, not {python_callable!r}")
        if op_kwargs is not None and not isinstance(op_kwargs, dict):
            raise DagDefinitionError(f"{task.where}: op_kwargs must be a dict, not {op_kwargs!r}")
        self.templates_dict = templates_dict
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        if task.dag is not None:
            task.wire_xcom_args()


class PythonOperator(BaseOperator, CallsPython):
    template_fields = ("templates_dict", "op_args", "op_kwargs")
    #: Set by @task(multiple_outputs=True) or a dict return hint: each key of the returned dict is
    #: also its own XCom; `output["key"]` reads into the value either way.
    multiple_outputs = False

    def __init__(
        self,
        *,
        task_id: str,
        python_callable: Callable[..., Any],
        op_args: list[Any] | tuple[Any, ...] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: list[str] | tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if templates_exts is not None:
            self.template_ext = tuple(templates_exts)
        self.set_callable(python_callable, op_args, op_kwargs, templates_dict)

    def execute(self, context: dict[str, Any]) -> Any:
        """Call the function (see call_with_context); a multiple_outputs value must be a dict."""
        context = {**context, "templates_dict": self.templates_dict}
        value = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        if inspect.isgenerator(value):
            outlet_events = context.get("outlet_events")
            value = collect_metadata(value, OutletEventAccessors() if outlet_events is None else outlet_events)
        if self.multiple_outputs and value is not None:
            if not isinstance(value, dict):
                raise TaskFailed(
                    f"{self.where}: returned a {type(value).__name__}; multiple_outputs expects a dict"
                )
            keys = [key for key in value if not isinstance(key, str)]
            if keys:
                raise TaskFailed(f"{self.where}: multiple_outputs needs string keys, not {keys[0]!r}")
        return value


def call_with_context(
    function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]
) -> Any:
    """Call `function` with the context keys it names, or all of them when it takes **kwargs, as
    Airflow does; arguments given explicitly win over context keys."""
    names, positional, takes_all = accepts(function)
    given = set(positional[: len(args)]) | set(kwargs)
    extra = {k: v for k, v in context.items() if (takes_all or k in names) and k not in given}
    return function(*args, **kwargs, **extra)


class ShortCircuitOperator(PythonOperator):
    """Downstream tasks run only when the callable returns a truthy value.

    On a falsy one, ignore_downstream_trigger_rules=True (the default) skips every task
    downstream; False skips only the direct downstream tasks and lets trigger rules decide the rest.
    """

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = bool(ignore_downstream_trigger_rules)

    def execute(self, context: dict[str, Any]) -> Any:
        condition = super().execute(context)
        if not condition:
            print(f"Condition result is {condition!r}: skipping downstream tasks", flush=True)
            if self.ignore_downstream_trigger_rules:
                skip_all_downstream()
            else:
                follow_only(self, None)
        return condition
