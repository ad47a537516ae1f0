"""Tradewind: everything a DAG file needs imports from here."""

from tradewind.baseoperator import BaseOperator, chain
from tradewind.dag import DAG
from tradewind.decorators import XComArg, dag, task
from tradewind.edgemodifier import Label
from tradewind.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    TaskFailed,
    TaskFailedNoRetry,
    TaskSkipped,
)
from tradewind.operators import (
    BaseBranchOperator,
    BashOperator,
    BranchDateTimeOperator,
    BranchDayOfWeekOperator,
    BranchPythonOperator,
    EmptyOperator,
    ExternalTaskMarker,
    ExternalTaskSensor,
    LatestOnlyOperator,
    PythonOperator,
    ShortCircuitOperator,
    TriggerDagRunOperator,
)
from tradewind.params import Param
from tradewind.runtime import get_current_context
from tradewind.setup_teardown import setup, teardown
from tradewind.task_group import TaskGroup, task_group
from tradewind.trigger_rules import TriggerRule
from tradewind.weekday import WeekDay

__all__ = [
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "BaseBranchOperator",
    "BaseOperator",
    "BashOperator",
    "BranchDateTimeOperator",
    "BranchDayOfWeekOperator",
    "BranchPythonOperator",
    "EmptyOperator",
    "ExternalTaskMarker",
    "ExternalTaskSensor",
    "Label",
    "LatestOnlyOperator",
    "Param",
    "PythonOperator",
    "ShortCircuitOperator",
    "TaskFailed",
    "TaskFailedNoRetry",
    "TaskGroup",
    "TaskSkipped",
    "TriggerDagRunOperator",
    "TriggerRule",
    "WeekDay",
    "XComArg",
    "chain",
    "dag",
    "get_current_context",
    "setup",
    "task",
    "task_group",
    "teardown",
]
