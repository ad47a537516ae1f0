"""Tradewind: everything a DAG file needs imports from here."""

from tradewind.asset_decorator import asset
from tradewind.asset_events import Metadata
from tradewind.assets import (
    Asset,
    AssetAlias,
    AssetAll,
    AssetAny,
    AssetOrTimeSchedule,
    AssetWatcher,
    Dataset,
)
from tradewind.baseoperator import BaseOperator, chain
from tradewind.connections import Connection
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
from tradewind.hooks import BaseHook, DbApiHook, PostgresHook, SqliteHook, fetch_all_handler, fetch_one_handler
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
    SQLCheckOperator,
    SQLExecuteQueryOperator,
    SqlExecuteQueryOperator,
    SQLValueCheckOperator,
    TriggerDagRunOperator,
)
from tradewind.params import Param
from tradewind.runtime import get_current_context
from tradewind.setup_teardown import setup, teardown
from tradewind.task_group import TaskGroup, task_group
from tradewind.trigger_rules import TriggerRule
from tradewind.variables import Variable
from tradewind.weekday import WeekDay

__all__ = [
    "fetch_all_handler",
    "fetch_one_handler",
    "Variable",
    "SqlExecuteQueryOperator",
    "SQLValueCheckOperator",
    "SQLExecuteQueryOperator",
    "SQLCheckOperator",
    "SqliteHook",
    "PostgresHook",
    "DbApiHook",
    "Connection",
    "BaseHook",
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "Asset",
    "AssetAlias",
    "AssetAll",
    "AssetAny",
    "AssetOrTimeSchedule",
    "AssetWatcher",
    "Dataset",
    "Metadata",
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
    "asset",
    "XComArg",
    "chain",
    "dag",
    "get_current_context",
    "setup",
    "task",
    "task_group",
    "teardown",
]
