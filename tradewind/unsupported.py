"""Airflow features Tradewind does not have yet, each refused at parse time naming itself.

A DAG file that uses one must fail loudly rather than run differently from Airflow.
"""

from __future__ import annotations

from typing import NoReturn

from tradewind.exceptions import DagDefinitionError

#: Airflow DAG arguments not built yet -> the feature they belong to.
DAG_ARGUMENTS = {
    "sla_miss_callback": "SLA callbacks",
    "access_control": "access_control",
}
#: Airflow task arguments not built yet -> the feature they belong to.
TASK_ARGUMENTS = {
    "sla": "SLAs",
    "deferrable": "deferrable operators",
    "executor": "per-task executors",
}


def not_yet(feature: str, where: str = "") -> NoReturn:
    prefix = f"{where}: " if where else ""
    raise DagDefinitionError(f"{prefix}Tradewind does not support {feature} yet")
