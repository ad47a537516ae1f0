"""`>>` and `<<` between tasks, task groups and labels, in one place for everything that has edges."""

from __future__ import annotations

from typing import Any, Self

from tradewind.edgemodifier import EdgeModifier


class DependencyMixin:
    """Edges are made by `set_upstream`/`set_downstream`; the operators only say which way."""

    def set_upstream(self, other: Any) -> None:
        raise NotImplementedError

    def set_downstream(self, other: Any) -> None:
        raise NotImplementedError

    def __rshift__(self, other: Any) -> Any:
        if isinstance(other, EdgeModifier):
            return other.add_upstream(self)
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        if isinstance(other, EdgeModifier):
            return other.add_downstream(self)
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> Self:
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> Self:
        self.set_downstream(other)
        return self
