"""The built-in operators, one family per module."""

from tradewind.operators.bash import BashOperator
from tradewind.operators.branch import (
    BaseBranchOperator,
    BranchDateTimeOperator,
    BranchDayOfWeekOperator,
    BranchPythonOperator,
)
from tradewind.operators.empty import EmptyOperator
from tradewind.operators.external_task import ExternalTaskMarker, ExternalTaskSensor
from tradewind.operators.latest_only import LatestOnlyOperator
from tradewind.operators.python import PythonOperator, ShortCircuitOperator
from tradewind.operators.sql import (
    SQLCheckOperator,
    SQLExecuteQueryOperator,
    SqlExecuteQueryOperator,
    SQLValueCheckOperator,
)
from tradewind.operators.trigger_dagrun import TriggerDagRunOperator

__all__ = [
    "BaseBranchOperator",
    "BashOperator",
    "BranchDateTimeOperator",
    "BranchDayOfWeekOperator",
    "BranchPythonOperator",
    "EmptyOperator",
    "ExternalTaskMarker",
    "ExternalTaskSensor",
    "LatestOnlyOperator",
    "PythonOperator",
    "SQLCheckOperator",
    "SQLExecuteQueryOperator",
    "SQLValueCheckOperator",
    "ShortCircuitOperator",
    "SqlExecuteQueryOperator",
    "TriggerDagRunOperator",
]
