"""Tradewind: everything a DAG file needs imports from here."""

from tradewind.baseoperator import BaseOperator, chain
from tradewind.dag import DAG
from tradewind.decorators import XComArg, dag, task
from tradewind.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    TaskFailed,
    TaskFailedNoRetry,
    TaskSkipped,
)
from tradewind.operators import BashOperator, EmptyOperator, PythonOperator
from tradewind.params import Param
from tradewind.task_group import TaskGroup, task_group
from tradewind.trigger_rules import TriggerRule

__all__ = [
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "BaseOperator",
    "BashOperator",
    "EmptyOperator",
    "Param",
    "PythonOperator",
    "TaskFailed",
    "TaskFailedNoRetry",
    "TaskGroup",
    "TaskSkipped",
    "TriggerRule",
    "XComArg",
    "chain",
    "dag",
    "task",
    "task_group",
]
