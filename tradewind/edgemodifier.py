"""Label: Airflow's edge modifier, `branch >> Label("yes") >> task`, so a branching DAG written
for Airflow loads. The edge it stands in is made as if the label were not there; the label names
the edge for people and changes nothing in scheduling."""

from __future__ import annotations

from typing import Any


class EdgeModifier:
    def __init__(self, label: str | None = None) -> None:
        self.label = label
        self._upstream: list[Any] = []
        self._downstream: list[Any] = []

    def __repr__(self) -> str:
        return f"Label({self.label!r})"

    def add_upstream(self, other: Any) -> EdgeModifier:
        self._upstream.append(other)
        for down in self._downstream:
            _link(other, down)
        return self

    def add_downstream(self, other: Any) -> EdgeModifier:
        self._downstream.append(other)
        for up in self._upstream:
            _link(up, other)
        return self

    def __rshift__(self, other: Any) -> Any:
        self.add_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.add_upstream(other)
        return other

    __rrshift__ = add_upstream
    __rlshift__ = add_downstream


def _link(up: Any, down: Any) -> None:
    for item in up if isinstance(up, list | tuple) else [up]:
        item >> down


def Label(label: str) -> EdgeModifier:  # noqa: N802 - Airflow's name for it
    """An edge named `label`."""
    return EdgeModifier(label)
