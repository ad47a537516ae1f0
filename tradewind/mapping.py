"""Dynamic task mapping in DAG files: `.partial()`, `.expand()`, `.expand_kwargs()`, as in Airflow.

A mapped task is an ordinary operator with an `expand_input`: what it is mapped over. Each
value is a literal list or dict, or an XComArg whose value is known only when the run has it;
the coordinator expands the task into one task instance per item when those values are there
and sends each instance its own arguments (`PythonPayload.mapped_kwargs_json`, or the bash
fields it renders), so the worker never computes an expansion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradewind import xcom_codec
from tradewind.exceptions import DagDefinitionError, SerializationError

if TYPE_CHECKING:
    from tradewind.baseoperator import BaseOperator
    from tradewind.task_group import TaskGroup

#: Arguments that describe the task rather than its work; Airflow refuses to map them too.
UNMAPPABLE = frozenset({"task_id", "dag", "task_group", "trigger_rule", "pool", "queue", "retries", "multiple_outputs"})


@dataclass(frozen=True)
class ExpandInput:
    """What a task is mapped over. `kind` "dict": `value` is {argument: list | dict | XComArg},
    the instances being their cross product; "list" (expand_kwargs): `value` is a list of
    dicts or an XComArg resolving to one, one instance per dict. `target` is where an
    instance's values go: "op_kwargs" (@task), "attributes" (a classic operator's arguments)
    or "group" (a mapped task group's MappedArguments)."""

    kind: str
    value: Any
    target: str
    group: str = ""

    def literal(self, name: str) -> bool:
        """Whether an argument's values were written in the DAG file (not read from an XCom):
        those are rendered as templates, as Airflow renders them; values from XComs are not."""
        from tradewind.baseoperator import XComArg

        if self.kind == "dict":
            return not isinstance(self.value.get(name), XComArg)
        return not isinstance(self.value, XComArg)


class MappedArgument:
    """A mapped task group's argument inside the group: each instance reads its own item."""

    def __init__(self, group: TaskGroup, name: str) -> None:
        self.group = group
        self.name = name

    def __repr__(self) -> str:
        return f"MappedArgument({self.group.group_id!r}, {self.name!r})"


def checked_expand(values: dict[str, Any], where: str, accepted: frozenset[str] | None = None) -> dict[str, Any]:
    """Airflow's parse-time checks of expand(): at least one argument, each a list, a dict or an
    XComArg, none of them an argument that cannot be mapped."""
    from tradewind.baseoperator import XComArg

    if not values:
        raise DagDefinitionError(f"{where}: expand() needs at least one argument to map over")
    for name, value in values.items():
        if name in UNMAPPABLE:
            raise DagDefinitionError(f"{where}: cannot map over {name!r}; pass it to partial() instead")
        if accepted is not None and name not in accepted:
            raise DagDefinitionError(f"{where}: expand() got an unexpected argument {name!r}")
        if not isinstance(value, list | dict | XComArg):
            raise DagDefinitionError(
                f"{where}: expand() argument {name!r} must be a list, a dict or an XComArg, "
                f"not {type(value).__name__}"
            )
    return values


def checked_expand_kwargs(value: Any, where: str) -> Any:
    """expand_kwargs() takes a list of dicts (or an XComArg resolving to one)."""
    from tradewind.baseoperator import XComArg

    if isinstance(value, XComArg):
        return value
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise DagDefinitionError(
            f"{where}: expand_kwargs() takes a list of dicts or an XComArg, not {type(value).__name__}"
        )
    return value


def mark_mapped(task: BaseOperator, expand_input: ExpandInput) -> None:
    """Make `task` mapped, downstream of every task whose output it is mapped over."""
    from tradewind.baseoperator import find_xcom_args

    task.expand_input = expand_input
    sources = expand_input.value.values() if expand_input.kind == "dict" else [expand_input.value]
    for arg in find_xcom_args(list(sources)):
        task.set_upstream(arg.operator)


def serialize(expand_input: ExpandInput, where: str) -> dict[str, Any]:
    """The "mapping" of a serialized task: {"kind", "target", "group", and "args": [[name, source]]
    for kind dict or "source" for kind list}; a source is {"literal": tagged JSON text} or
    {"xcom": [task_id, key, path]}."""
    if expand_input.kind == "dict":
        args = [[name, _source(value, where, name)] for name, value in expand_input.value.items()]
        body: dict[str, Any] = {"args": args}
    else:
        body = {"source": _source(expand_input.value, where, "expand_kwargs")}
    return {"kind": expand_input.kind, "target": expand_input.target, "group": expand_input.group, **body}


def _source(value: Any, where: str, name: str) -> dict[str, Any]:
    from tradewind.baseoperator import XComArg

    if isinstance(value, XComArg):
        return {"xcom": [value.operator.task_id, value.key, list(value.path)]}
    try:
        return {"literal": xcom_codec.dumps(value)}
    except SerializationError as exc:
        raise SerializationError(f"{where}: the values {name!r} is mapped over cannot be stored: {exc}") from None
