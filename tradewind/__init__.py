"""Tradewind: everything a DAG file needs imports from here."""

from tradewind.baseoperator import BaseOperator, chain
from tradewind.dag import DAG
from tradewind.decorators import XComArg, dag, task
from tradewind.edgemodifier import Label
from tradewind.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    SensorTimeout,
    TaskDeferralTimeout,
    TaskDeferred,
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
from tradewind.sensors import (
    BaseSensorOperator,
    BashSensor,
    DateTimeSensor,
    DayOfWeekSensor,
    FileSensor,
    PokeReturnValue,
    PythonSensor,
    TimeDeltaSensor,
    TimeSensor,
)
from tradewind.task_group import TaskGroup, task_group
from tradewind.trigger_rules import TriggerRule
from tradewind.triggers import (
    BaseTrigger,
    DagStateTrigger,
    DateTimeTrigger,
    FileTrigger,
    TimeDeltaTrigger,
    TriggerEvent,
    WorkflowTrigger,
)
from tradewind.weekday import WeekDay

__all__ = [
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseBranchOperator",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "BashOperator",
    "BashSensor",
    "BranchDateTimeOperator",
    "BranchDayOfWeekOperator",
    "BranchPythonOperator",
    "DagStateTrigger",
    "DateTimeSensor",
    "DateTimeTrigger",
    "DayOfWeekSensor",
    "EmptyOperator",
    "ExternalTaskMarker",
    "ExternalTaskSensor",
    "FileSensor",
    "FileTrigger",
    "Label",
    "LatestOnlyOperator",
    "Param",
    "PokeReturnValue",
    "PythonOperator",
    "PythonSensor",
    "SensorTimeout",
    "ShortCircuitOperator",
    "TaskDeferralTimeout",
    "TaskDeferred",
    "TaskFailed",
    "TaskFailedNoRetry",
    "TaskGroup",
    "TaskSkipped",
    "TimeDeltaSensor",
    "TimeDeltaTrigger",
    "TimeSensor",
    "TriggerDagRunOperator",
    "TriggerEvent",
    "TriggerRule",
    "WeekDay",
    "WorkflowTrigger",
    "XComArg",
    "chain",
    "dag",
    "get_current_context",
    "task",
    "task_group",
]
