"""BaseOperator: one task of a DAG, its Airflow parameters, and the `>>`/`<<` dependency syntax."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from tradewind.dag import DAG, check_id, current_dag
from tradewind.exceptions import DagDefinitionError
from tradewind.trigger_rules import TriggerRule

WEIGHT_RULES = ("downstream", "upstream", "absolute")

#: Arguments every operator takes, with their defaults; default_args may set any of them.
BASE_DEFAULTS: dict[str, Any] = {
    "owner": "tradewind",
    "retries": 0,
    "retry_delay": timedelta(seconds=300),
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
    "trigger_rule": TriggerRule.ALL_SUCCESS.value,
    "queue": "default",
    "pool": "default_pool",
    "pool_slots": 1,
    "priority_weight": 1,
    "weight_rule": "downstream",
    "execution_timeout": None,
    "do_xcom_push": True,
    "email": None,
    "depends_on_past": False,
}


def seconds(value: Any, what: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise DagDefinitionError(f"{where}: {what} must be a timedelta or seconds, not {value!r}")


class BaseOperator:
    """A task. Subclasses set `kind` ("bash", "python" or "empty") and `template_fields`."""

    kind = "python"
    template_fields: Sequence[str] = ()

    def __init__(self, task_id: str, dag: DAG | None = None, **kwargs: Any) -> None:
        self.dag = dag or current_dag()
        dag_label = f"DAG {self.dag.dag_id!r}" if self.dag else "no DAG"
        self.task_id = check_id(task_id, "task_id", dag_label)
        where = f"{dag_label}: task {task_id!r}"
        unknown = sorted(set(kwargs) - set(BASE_DEFAULTS))
        if unknown:
            raise DagDefinitionError(f"{where}: unknown argument {unknown[0]!r} for {type(self).__name__}")
        defaults = self.dag.default_args if self.dag else {}
        values = {k: kwargs.get(k, defaults.get(k, v)) for k, v in BASE_DEFAULTS.items()}
        self.owner = str(values["owner"])
        self.retries = _count(values["retries"], "retries", where)
        self.retry_delay = seconds(values["retry_delay"], "retry_delay", where) or 0.0
        self.retry_exponential_backoff = bool(values["retry_exponential_backoff"])
        self.max_retry_delay = seconds(values["max_retry_delay"], "max_retry_delay", where)
        rule = values["trigger_rule"]
        try:
            self.trigger_rule = TriggerRule(rule)
        except ValueError:
            valid = ", ".join(r.value for r in TriggerRule)
            raise DagDefinitionError(f"{where}: unknown trigger rule {rule!r}; use one of {valid}") from None
        self.queue = check_id(values["queue"], "queue", where)
        self.pool = check_id(values["pool"], "pool", where)
        self.pool_slots = _count(values["pool_slots"], "pool_slots", where, minimum=1)
        if not isinstance(values["priority_weight"], int) or isinstance(values["priority_weight"], bool):
            raise DagDefinitionError(f"{where}: priority_weight must be an integer, not {values['priority_weight']!r}")
        self.priority_weight = values["priority_weight"]
        if values["weight_rule"] not in WEIGHT_RULES:
            raise DagDefinitionError(
                f"{where}: weight_rule must be one of {', '.join(WEIGHT_RULES)}, not {values['weight_rule']!r}"
            )
        self.weight_rule = values["weight_rule"]
        self.execution_timeout = seconds(values["execution_timeout"], "execution_timeout", where)
        self.do_xcom_push = bool(values["do_xcom_push"])
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        if self.dag is not None:
            self.dag.add_task(self)

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"

    @property
    def output(self) -> Any:
        from tradewind.decorators import XComArg

        return XComArg(self)

    def execute(self, context: dict[str, Any]) -> Any:
        """Run the task inside a worker; custom operators override this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement execute(context)")

    # ---- dependencies -------------------------------------------------------------------
    def _relate(self, other: BaseOperator, upstream: bool) -> None:
        if self.dag is None or other.dag is None:
            raise DagDefinitionError(
                f"task {self.task_id!r} or {other.task_id!r} belongs to no DAG; create tasks inside `with DAG(...)`"
            )
        if self.dag is not other.dag:
            raise DagDefinitionError(
                f"tasks {self.task_id!r} (DAG {self.dag.dag_id!r}) and {other.task_id!r} (DAG {other.dag.dag_id!r}) "
                "are in different DAGs"
            )
        if other is self:
            raise DagDefinitionError(f"DAG {self.dag.dag_id!r}: task {self.task_id!r} depends on itself")
        parent, child = (other, self) if upstream else (self, other)
        parent.downstream_task_ids.add(child.task_id)
        child.upstream_task_ids.add(parent.task_id)

    def set_downstream(self, other: Any) -> None:
        for task in _tasks(other):
            self._relate(task, upstream=False)

    def set_upstream(self, other: Any) -> None:
        for task in _tasks(other):
            self._relate(task, upstream=True)

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> BaseOperator:
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> BaseOperator:
        self.set_downstream(other)
        return self

    def describe(self) -> dict[str, Any]:
        """Kind-specific fields for serialization; subclasses add theirs."""
        return {"callable": f"{type(self).__module__}.{type(self).__qualname__}.execute"}


def _count(value: Any, what: str, where: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise DagDefinitionError(f"{where}: {what} must be an integer of at least {minimum}, not {value!r}")
    return value


def _tasks(value: Any) -> list[BaseOperator]:
    from tradewind.decorators import XComArg

    if isinstance(value, BaseOperator):
        return [value]
    if isinstance(value, XComArg):
        return [value.operator]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        out: list[BaseOperator] = []
        for item in value:
            out.extend(_tasks(item))
        return out
    raise DagDefinitionError(f"cannot set a dependency on {value!r}: not a task")


def chain(*elements: Any) -> None:
    """Airflow's chain(): each element downstream of the previous; equal-length lists pair up."""
    for left, right in zip(elements, elements[1:], strict=False):
        left_is_list = isinstance(left, list | tuple)
        right_is_list = isinstance(right, list | tuple)
        if left_is_list and right_is_list:
            if len(left) != len(right):
                raise DagDefinitionError(
                    f"chain(): lists next to each other must have the same length, not {len(left)} and {len(right)}"
                )
            for a, b in zip(left, right, strict=True):
                for task in _tasks(a):
                    task.set_downstream(b)
        else:
            for task in _tasks(left):
                task.set_downstream(right)


def accepts(function: Any) -> tuple[set[str], list[str], bool]:
    """Keyword-passable parameter names, positional names in order, and whether it takes **kwargs."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return set(), [], True
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names, positional, any(p.kind is p.VAR_KEYWORD for p in parameters)
