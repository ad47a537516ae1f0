"""Airflow's module paths, answered with Tradewind's objects while DAG files load and tasks run.

A DAG file written for Airflow imports `airflow.sdk`, `airflow.operators.bash` and so on. Inside
`airflow_imports()` a finder at the front of sys.meta_path answers every `airflow.*` import
from MODULES, the one table of what maps to what. Nothing is installed when a real Airflow is
importable, and the modules leave sys.modules when the block ends, so a plain process never
sees an `airflow` module. An Airflow module or name that Tradewind does not provide is an
ImportError saying so, with its full dotted path.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import tradewind
import tradewind.macros

#: Airflow module -> {Airflow name: the name `tradewind` exports for it, or a dotted path from
#: `tradewind` ("macros.MACROS.ds_add")}. A name listed here that `tradewind` does not provide is
#: as unsupported as a name not listed at all.
MODULES: dict[str, dict[str, str]] = {
    "airflow": {"DAG": "DAG", "Dataset": "Dataset"},
    "airflow.sdk": {
        "DAG": "DAG",
        "dag": "dag",
        "task": "task",
        "task_group": "task_group",
        "TaskGroup": "TaskGroup",
        "chain": "chain",
        "BaseOperator": "BaseOperator",
        "XComArg": "XComArg",
        "TriggerRule": "TriggerRule",
        "get_current_context": "get_current_context",
        "Label": "Label",
        "Param": "Param",
        "Variable": "Variable",
        "Connection": "Connection",
        "BaseHook": "BaseHook",
        "setup": "setup",
        "teardown": "teardown",
        "Asset": "Asset",
        "AssetAlias": "AssetAlias",
        "AssetAll": "AssetAll",
        "AssetAny": "AssetAny",
        "AssetWatcher": "AssetWatcher",
        "Metadata": "Metadata",
        "asset": "asset",
        "BaseSensorOperator": "BaseSensorOperator",
        "PokeReturnValue": "PokeReturnValue",
    },
    "airflow.sdk.bases.sensor": {"BaseSensorOperator": "BaseSensorOperator", "PokeReturnValue": "PokeReturnValue"},
    "airflow.datasets": {"Dataset": "Dataset", "DatasetAll": "AssetAll", "DatasetAny": "AssetAny"},
    "airflow.timetables.assets": {"AssetOrTimeSchedule": "AssetOrTimeSchedule"},
    "airflow.timetables.datasets": {"DatasetOrTimeSchedule": "AssetOrTimeSchedule"},
    "airflow.sdk.definitions.asset": {
        "Asset": "Asset",
        "AssetAlias": "AssetAlias",
        "AssetAll": "AssetAll",
        "AssetAny": "AssetAny",
        "AssetWatcher": "AssetWatcher",
    },
    "airflow.models": {
        "DAG": "DAG",
        "BaseOperator": "BaseOperator",
        "Param": "Param",
        "Variable": "Variable",
        "Connection": "Connection",
    },
    "airflow.models.dag": {"DAG": "DAG"},
    "airflow.models.baseoperator": {"BaseOperator": "BaseOperator", "chain": "chain"},
    "airflow.models.param": {"Param": "Param"},
    "airflow.models.variable": {"Variable": "Variable"},
    "airflow.models.connection": {"Connection": "Connection"},
    "airflow.hooks.base": {"BaseHook": "BaseHook"},
    "airflow.sdk.bases.hook": {"BaseHook": "BaseHook"},
    "airflow.providers.common.sql.hooks.sql": {
        "DbApiHook": "DbApiHook",
        "fetch_all_handler": "fetch_all_handler",
        "fetch_one_handler": "fetch_one_handler",
    },
    "airflow.providers.common.sql.operators.sql": {
        "SQLExecuteQueryOperator": "SQLExecuteQueryOperator",
        "SqlExecuteQueryOperator": "SqlExecuteQueryOperator",
        "SQLCheckOperator": "SQLCheckOperator",
        "SQLValueCheckOperator": "SQLValueCheckOperator",
    },
    "airflow.providers.sqlite.hooks.sqlite": {"SqliteHook": "SqliteHook"},
    "airflow.providers.postgres.hooks.postgres": {"PostgresHook": "PostgresHook"},
    "airflow.models.xcom_arg": {"XComArg": "XComArg"},
    "airflow.decorators": {
        "dag": "dag",
        "task": "task",
        "task_group": "task_group",
        "setup": "setup",
        "teardown": "teardown",
    },
    "airflow.operators.bash": {"BashOperator": "BashOperator"},
    "airflow.operators.python": {
        "PythonOperator": "PythonOperator",
        "BranchPythonOperator": "BranchPythonOperator",
        "ShortCircuitOperator": "ShortCircuitOperator",
        "get_current_context": "get_current_context",
    },
    "airflow.operators.empty": {"EmptyOperator": "EmptyOperator"},
    "airflow.operators.dummy": {"DummyOperator": "EmptyOperator"},
    "airflow.operators.branch": {"BaseBranchOperator": "BaseBranchOperator"},
    "airflow.operators.datetime": {"BranchDateTimeOperator": "BranchDateTimeOperator"},
    "airflow.operators.weekday": {"BranchDayOfWeekOperator": "BranchDayOfWeekOperator"},
    "airflow.operators.latest_only": {"LatestOnlyOperator": "LatestOnlyOperator"},
    "airflow.operators.trigger_dagrun": {"TriggerDagRunOperator": "TriggerDagRunOperator"},
    "airflow.sensors.base": {"BaseSensorOperator": "BaseSensorOperator", "PokeReturnValue": "PokeReturnValue"},
    "airflow.sensors.filesystem": {"FileSensor": "FileSensor"},
    "airflow.sensors.python": {"PythonSensor": "PythonSensor"},
    "airflow.sensors.bash": {"BashSensor": "BashSensor"},
    "airflow.sensors.time_delta": {"TimeDeltaSensor": "TimeDeltaSensor"},
    "airflow.sensors.date_time": {"DateTimeSensor": "DateTimeSensor"},
    "airflow.sensors.weekday": {"DayOfWeekSensor": "DayOfWeekSensor"},
    "airflow.sensors.time_sensor": {"TimeSensor": "TimeSensor"},
    "airflow.sensors.external_task": {
        "ExternalTaskSensor": "ExternalTaskSensor",
        "ExternalTaskMarker": "ExternalTaskMarker",
    },
    "airflow.providers.standard.operators.bash": {"BashOperator": "BashOperator"},
    "airflow.providers.standard.operators.python": {
        "PythonOperator": "PythonOperator",
        "BranchPythonOperator": "BranchPythonOperator",
        "ShortCircuitOperator": "ShortCircuitOperator",
        "get_current_context": "get_current_context",
    },
    "airflow.providers.standard.operators.empty": {"EmptyOperator": "EmptyOperator"},
    "airflow.providers.standard.operators.branch": {"BaseBranchOperator": "BaseBranchOperator"},
    "airflow.providers.standard.operators.datetime": {"BranchDateTimeOperator": "BranchDateTimeOperator"},
    "airflow.providers.standard.operators.weekday": {"BranchDayOfWeekOperator": "BranchDayOfWeekOperator"},
    "airflow.providers.standard.operators.latest_only": {"LatestOnlyOperator": "LatestOnlyOperator"},
    "airflow.providers.standard.operators.trigger_dagrun": {"TriggerDagRunOperator": "TriggerDagRunOperator"},
    "airflow.providers.standard.sensors.filesystem": {"FileSensor": "FileSensor"},
    "airflow.providers.standard.sensors.python": {"PythonSensor": "PythonSensor"},
    "airflow.providers.standard.sensors.bash": {"BashSensor": "BashSensor"},
    "airflow.providers.standard.sensors.time_delta": {"TimeDeltaSensor": "TimeDeltaSensor"},
    "airflow.providers.standard.sensors.date_time": {"DateTimeSensor": "DateTimeSensor"},
    "airflow.providers.standard.sensors.weekday": {"DayOfWeekSensor": "DayOfWeekSensor"},
    "airflow.providers.standard.sensors.time": {"TimeSensor": "TimeSensor"},
    "airflow.providers.standard.sensors.external_task": {
        "ExternalTaskSensor": "ExternalTaskSensor",
        "ExternalTaskMarker": "ExternalTaskMarker",
    },
    "airflow.providers.standard.utils.weekday": {"WeekDay": "WeekDay"},
    "airflow.macros": {
        name: f"macros.MACROS.{name}"
        for name in ("datetime", "timedelta", "ds_add", "ds_format", "json", "time", "uuid", "random", "dateutil")
    },
    "airflow.utils.trigger_rule": {"TriggerRule": "TriggerRule"},
    "airflow.sdk.api.datamodels._generated": {"TriggerRule": "TriggerRule"},
    "airflow.providers.common.compat.sdk": {
        "TriggerRule": "TriggerRule",
        "BaseOperator": "BaseOperator",
        "BaseHook": "BaseHook",
        "BaseSensorOperator": "BaseSensorOperator",
        "PokeReturnValue": "PokeReturnValue",
        "Variable": "Variable",
        "Connection": "Connection",
        "get_current_context": "get_current_context",
    },
    "airflow.utils.edgemodifier": {"Label": "Label"},
    "airflow.utils.task_group": {"TaskGroup": "TaskGroup"},
    "airflow.utils.weekday": {"WeekDay": "WeekDay"},
    "airflow.exceptions": {
        "AirflowException": "AirflowException",
        "AirflowSkipException": "AirflowSkipException",
        "AirflowFailException": "AirflowFailException",
        "AirflowSensorTimeout": "AirflowSensorTimeout",
        "AirflowRescheduleException": "AirflowRescheduleException",
        "TaskDeferred": "TaskDeferred",
        "TaskDeferralTimeout": "TaskDeferralTimeout",
    },
    "airflow.sdk.exceptions": {
        "AirflowException": "AirflowException",
        "AirflowSkipException": "AirflowSkipException",
        "AirflowFailException": "AirflowFailException",
        "AirflowSensorTimeout": "AirflowSensorTimeout",
        "AirflowRescheduleException": "AirflowRescheduleException",
        "TaskDeferred": "TaskDeferred",
        "TaskDeferralTimeout": "TaskDeferralTimeout",
    },
    "airflow.triggers.base": {
        "BaseTrigger": "BaseTrigger",
        "BaseEventTrigger": "triggers.BaseEventTrigger",
        "TriggerEvent": "TriggerEvent",
    },
    "airflow.triggers.temporal": {"DateTimeTrigger": "DateTimeTrigger", "TimeDeltaTrigger": "TimeDeltaTrigger"},
    "airflow.triggers.file": {"FileTrigger": "FileTrigger"},
    "airflow.triggers.external_task": {"WorkflowTrigger": "WorkflowTrigger", "DagStateTrigger": "DagStateTrigger"},
    "airflow.providers.standard.triggers.external_task": {
        "WorkflowTrigger": "WorkflowTrigger",
        "DagStateTrigger": "DagStateTrigger",
    },
    "airflow.providers.standard.triggers.temporal": {
        "DateTimeTrigger": "DateTimeTrigger",
        "TimeDeltaTrigger": "TimeDeltaTrigger",
    },
    "airflow.providers.standard.triggers.file": {
        "FileTrigger": "FileTrigger",
        "FileDeleteTrigger": "triggers.FileDeleteTrigger",
    },
}

#: Every module path the finder answers: the table's, and the packages above them.
_PATHS = frozenset(name.rsplit(".", depth)[0] for name in MODULES for depth in range(name.count(".") + 1))


def unsupported(dotted: str) -> str:
    return f"Tradewind does not support {dotted} yet"


class _AirflowFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Every module it makes is a package, so `from airflow.x import name` of a missing name goes
    through the finder (as a submodule) and fails with the full path, never a bare AttributeError."""

    def __init__(self) -> None:
        #: The modules it made, so leaving the block forgets them without a scan of sys.modules.
        self.made: set[str] = set()

    def find_spec(self, fullname: str, path: Any = None, target: ModuleType | None = None) -> Any:
        if fullname != "airflow" and not fullname.startswith("airflow."):
            return None
        if fullname not in _PATHS:
            raise ImportError(unsupported(fullname), name=fullname)
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        provided = {}
        for name, target in MODULES.get(module.__name__, {}).items():
            try:
                provided[name] = functools.reduce(getattr, target.split("."), tradewind)
            except AttributeError:
                continue
        module.__dict__.update(provided)
        module.__dict__["__all__"] = sorted(provided)
        module.__dict__["__getattr__"] = _missing(module.__name__)
        self.made.add(module.__name__)


def _missing(module_name: str) -> Callable[[str], Any]:
    def __getattr__(name: str) -> Any:
        raise AttributeError(unsupported(f"{module_name}.{name}"), name=name)

    return __getattr__


_FINDER = _AirflowFinder()


@contextmanager
def airflow_imports() -> Iterator[None]:
    """`airflow.*` imports inside the block resolve to Tradewind, unless a real Airflow is installed."""
    if _FINDER in sys.meta_path or _real_airflow_installed():
        yield
        return
    sys.meta_path.insert(0, _FINDER)
    try:
        yield
    finally:
        sys.meta_path.remove(_FINDER)
        for name in _FINDER.made:
            module = sys.modules.get(name)
            if module is not None and getattr(module, "__loader__", None) is _FINDER:
                del sys.modules[name]
        _FINDER.made.clear()


def _real_airflow_installed() -> bool:
    return _airflow_on_path(tuple(sys.path))


@functools.lru_cache(maxsize=8)
def _airflow_on_path(path: tuple[str, ...]) -> bool:
    """Cached per sys.path: a task asks once per run, and a scan of the path stats every entry."""
    try:
        spec = importlib.util.find_spec("airflow")
    except (ImportError, ValueError):
        return False
    # A directory named airflow without __init__.py is a namespace package, not Airflow.
    return spec is not None and spec.origin is not None
