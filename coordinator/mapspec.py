"""What a mapped task is mapped over, as the scheduler reads it from the serialized DAG.

A task's "mapping" (tradewind.mapping.serialize) is decoded once per DAG version: literal
values are decoded here, so an expansion only reads the XComs it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tradewind import xcom_codec


class MappingError(Exception):
    """A mapped task's inputs cannot be expanded; the message names the task and the value."""


@dataclass(frozen=True, slots=True)
class Source:
    """A literal value (`task_id` empty), or the XCom `key` of task `task_id` read at `path`."""

    literal: Any = None
    task_id: str = ""
    key: str = ""
    path: tuple[Any, ...] = ()

    def describe(self) -> str:
        if not self.task_id:
            return "a literal value"
        index = "".join(f"[{step!r}]" for step in self.path)
        return f"the XCom {self.key!r}{index} of task {self.task_id!r}"


@dataclass(frozen=True, slots=True)
class MapSpec:
    """`kind` "dict": the cross product of `args` (name, source), the last varying fastest, as
    in Airflow; "list" (expand_kwargs): one instance per dict of `source`. `group` is the
    mapped task group's path, "" for a task mapped on its own."""

    kind: str
    target: str
    group: str
    args: tuple[tuple[str, Source], ...] = ()
    source: Source | None = None

    def literal(self, name: str) -> bool:
        """Whether an argument's values were written in the DAG file (rendered, as Airflow does)."""
        if self.kind == "dict":
            return any(n == name and not source.task_id for n, source in self.args)
        return self.source is not None and not self.source.task_id

    @property
    def producers(self) -> tuple[str, ...]:
        """The tasks whose XComs the expansion reads."""
        sources = [s for _, s in self.args] if self.kind == "dict" else [self.source]
        return tuple(dict.fromkeys(s.task_id for s in sources if s is not None and s.task_id))


def parse(data: dict[str, Any] | None) -> MapSpec | None:
    if not data:
        return None
    if data["kind"] == "dict":
        args = tuple((name, _source(raw)) for name, raw in data["args"])
        return MapSpec("dict", data["target"], data.get("group", ""), args=args)
    return MapSpec("list", data["target"], data.get("group", ""), source=_source(data["source"]))


def _source(raw: dict[str, Any]) -> Source:
    if "xcom" in raw:
        task_id, key, path = raw["xcom"]
        return Source(task_id=task_id, key=key, path=tuple(path))
    return Source(literal=xcom_codec.loads(raw["literal"]))


def same_group(other: MapSpec | None, mapping: MapSpec | None) -> bool:
    """Whether two tasks are of the same mapped task group (their instances pair by index)."""
    return other is not None and mapping is not None and bool(mapping.group) and other.group == mapping.group
