"""ExternalTaskSensor and ExternalTaskMarker: named so an Airflow DAG file using them fails at parse
time with a clear error, never by running without the wait it asked for. Sensors come later."""

from __future__ import annotations

from typing import Any

from tradewind.exceptions import DagDefinitionError


class _NotYet:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        task_id = kwargs.get("task_id")
        where = f"task {task_id!r}: " if task_id else ""
        raise DagDefinitionError(f"{where}Tradewind does not support {type(self).__name__} yet")


class ExternalTaskSensor(_NotYet):
    pass


class ExternalTaskMarker(_NotYet):
    pass
