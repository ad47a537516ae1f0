"""EmptyOperator: a task that does nothing; the coordinator marks it success without a worker."""

from __future__ import annotations

from typing import Any

from tradewind.baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    def execute(self, context: dict[str, Any]) -> None:
        return None
