"""DAG -> versioned JSON, the form the coordinator stores and schedules from, and its hash.

Format 2 (the coordinator reads exactly this):

    {"format": 2, "dag_id", "fileloc", "description", "owner",
     "schedule": null | {"kind": "cron"|"preset", "expr"} | {"kind": "once"} | {"kind": "delta", "seconds"},
     "start_date", "end_date" (ISO 8601 in UTC, or null), "timezone" (the zone cron schedules are
     read in: "UTC", an IANA name or "+05:30"), "catchup", "dagrun_timeout" (s|null),
     "callbacks" (the names of the DAG run callbacks it has), "max_active_runs",
     "max_active_tasks", "tags", "params" (values), "param_schemas" (name: JSON Schema),
     "user_defined_macros" (those that are plain data), "is_paused_upon_creation",
     "tasks": [{"task_id", "operator", "kind": "bash"|"python"|"empty", "upstream" (sorted),
                "trigger_rule", "retries", "retry_delay" (s), "retry_exponential_backoff",
                "max_retry_delay" (s|null), "queue", "pool", "pool_slots", "priority_weight",
                "weight_rule", "execution_timeout" (s|null), "do_xcom_push", "params", "param_schemas",
                "bash": {...} (kind bash only), "python": {...} (kind python only)}, ...]}

Tasks are in definition order. Bash fields are raw templates: the coordinator renders them.
A python task's "python" has "multiple_outputs": true when each key of the dict it returns is
also its own XCom (absent otherwise), and "call_repr" and "templates" when its arguments hold
templates: the call with each template a numbered slot, and [source, is_value] per slot, so the
coordinator shows the call as rendered (`tasks show`, the monitor).
Each task also has "group_id", its task group path ("" when in none; see tradewind.task_group),
and the DAG has "task_groups": [{"path", "group_id", "tooltip", "prefix_group_id"}, ...] in
definition order, for the monitor; the scheduler reads neither.
A DAG scheduled on assets has "asset_condition" ({"asset": uri} | {"all": [...]} | {"any": [...]},
tradewind.assets) beside its time "schedule" (null unless AssetOrTimeSchedule); a DAG naming
assets has "assets": [{"uri", "name", "group", "extra", "watchers" (only when it has some:
[{"name", "classpath", "kwargs"}])}, ...], and a task "outlets" and "inlets"
(lists of URIs) and "outlet_aliases" (names of the AssetAliases in its outlets); each is absent
when empty.
The DAG has "dag_display_name" and "max_consecutive_failed_dag_runs" when set (absent
otherwise), a task "task_display_name".
A task with its own "start_date" or "end_date" (ISO 8601 in UTC) has them (absent otherwise):
a run whose logical date is outside them gets no instance of it.
A task with callbacks has "callbacks": the names of those it has (absent when none).
A setup task has "is_setup": true, a teardown "is_teardown": true and "on_failure_fail_dagrun"
(both absent on other tasks). A task with depends_on_past (or wait_for_downstream, which
implies it) has "depends_on_past": true, "wait_for_downstream" and "ignore_first_depends_on_past".
A mapped task has "mapping" (see tradewind.mapping.serialize): what it is mapped over, and
"map_index_template" when it names its instances.
Format 1 is format 2 without "timezone", which is then UTC; stored DAGs of format 1 still load.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from tradewind import mapping
from tradewind.assets import Asset, AssetAlias
from tradewind.baseoperator import BaseOperator, XComArg, find_xcom_args
from tradewind.callbacks import KINDS as CALLBACK_KINDS
from tradewind.dag import DAG
from tradewind.exceptions import SerializationError
from tradewind.operators.bash import BashOperator
from tradewind.operators.empty import EmptyOperator
from tradewind.operators.python import PythonOperator
from tradewind.params import DagParam
from tradewind.timezones import zone_name

FORMAT = 2
REPR_LIMIT = 500
#: Marks a numbered template in a Python task's "call_repr" (a private-use character).
SLOT = "\ue000"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_LOADS_FILE = re.compile(r"\{%-?\s*(include|import|extends|from)\b")


def serialize_dag(dag: DAG, fileloc: str) -> dict[str, Any]:
    """`fileloc` is the file's path relative to the DAG folder. Validates the DAG first (cycles)."""
    dag.validate()
    _check_json(dag.params, f"DAG {dag.dag_id!r} in {fileloc}")
    data = {
        "format": FORMAT,
        "dag_id": dag.dag_id,
        "fileloc": fileloc,
        "description": dag.description,
        "owner": dag.owner,
        "schedule": _schedule(dag.schedule),
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "end_date": dag.end_date.isoformat() if dag.end_date else None,
        "timezone": zone_name(dag.timezone),
        "catchup": dag.catchup,
        "dagrun_timeout": dag.dagrun_timeout,
        "callbacks": [kind for kind in ("on_success_callback", "on_failure_callback") if getattr(dag, kind)],
        **({"dag_display_name": dag.dag_display_name} if dag.dag_display_name else {}),
        **(
            {"max_consecutive_failed_dag_runs": dag.max_consecutive_failed_dag_runs}
            if dag.max_consecutive_failed_dag_runs
            else {}
        ),
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "tags": list(dag.tags),
        "params": dag.params,
        "param_schemas": dag.param_schemas,
        "user_defined_macros": _coordinator_macros(dag),
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "tasks": [_task(task) for task in dag.tasks],
        "task_groups": [
            {"path": g.path, "group_id": g.group_id, "tooltip": g.tooltip, "prefix_group_id": g.prefix_group_id}
            for g in dag.task_group_dict.values()
        ],
    }
    return {**data, **_assets(dag)}


def _assets(dag: DAG) -> dict[str, Any]:
    """ "asset_condition" when the DAG is scheduled on assets and "assets" (each asset the DAG
    names, once) when it names any; absent otherwise, so other DAGs' hashes stay as they were."""
    named: dict[str, Asset] = {}
    if dag.asset_condition is not None:
        named.update((a.uri, a) for a in dag.asset_condition.iter_assets())
    for task in dag.tasks:
        named.update((a.uri, a) for a in (*task.outlets, *task.inlets) if isinstance(a, Asset))
    out: dict[str, Any] = {}
    if dag.asset_condition is not None:
        out["asset_condition"] = dag.asset_condition.as_json()
    if named:
        out["assets"] = [a.describe() for a in named.values()]
    return out


def _coordinator_macros(dag: DAG) -> dict[str, Any]:
    """The DAG's user_defined_macros that are plain data, for the templates the coordinator renders
    (bash); a bash template using a function macro or a user filter is refused, naming it, since
    the coordinator does not run DAG code, and so is one that reads a template file as it renders."""
    plain: dict[str, Any] = {}
    for name, value in dag.template_settings.macros.items():
        try:
            json.dumps(value)
            plain[name] = value
        except (TypeError, ValueError):
            continue
    code = [n for n in dag.template_settings.macros if n not in plain] + list(dag.template_settings.filters)
    for task in dag.tasks:
        if not isinstance(task, BashOperator):
            continue
        text = json.dumps([getattr(task, name, None) for name in task.template_fields])
        loads = _LOADS_FILE.search(text)
        if loads:
            raise SerializationError(
                f"{task.where}: its template uses {{% {loads.group(1)} %}}, which reads a file when it renders; "
                "bash templates are rendered on the coordinator, so name the file itself (bash_command='run.sh'), "
                "which is read when the DAG file is parsed"
            )
        for name in code:
            if re.search(rf"\b{re.escape(name)}\b", text):
                raise SerializationError(
                    f"{task.where}: its template uses {name!r}, a user-defined macro or filter that is Python "
                    "code; bash templates are rendered on the coordinator, which does not run DAG code, so "
                    "use it in a Python task or pass a value"
                )
    return plain


def _check_json(params: dict[str, Any], where: str) -> dict[str, Any]:
    for name, value in params.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"{where}: param {name!r} is not JSON: {exc}") from None
    return params


def dag_hash(serialized: dict[str, Any]) -> str:
    """sha256 of the canonical JSON: the same DAG always hashes the same, any change differently."""
    canonical = json.dumps(serialized, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def kind_of(task: BaseOperator) -> str:
    """Which payload runs the task: bash, python (PythonOperator or a custom execute()) or empty.
    An EmptyOperator with an execute or success callback runs on a worker, as in Airflow, so
    its callbacks run."""
    if isinstance(task, BashOperator):
        return "bash"
    if isinstance(task, PythonOperator):
        return "python"
    if isinstance(task, EmptyOperator) and not (task.on_execute_callback or task.on_success_callback):
        return "empty"
    if type(task).execute is BaseOperator.execute:
        raise SerializationError(
            f"{task.where}: {type(task).__name__} defines no execute(self, context), so no worker can run it"
        )
    return "python"


def xcom_inputs_of(task: BaseOperator) -> list[tuple[str, str]]:
    """The (task_id, key) XComs that the task's templated fields read, once each, in order."""
    seen: dict[tuple[str, str], None] = {}
    for arg in find_xcom_args([getattr(task, name, None) for name in task.template_fields]):
        seen[(arg.operator.task_id, arg.key)] = None
    return list(seen)


def _schedule(schedule: str | timedelta | None) -> dict[str, Any] | None:
    if schedule is None:
        return None
    if isinstance(schedule, timedelta):
        return {"kind": "delta", "seconds": schedule.total_seconds()}
    if schedule == "@once":
        return {"kind": "once"}
    if schedule.startswith("@"):
        return {"kind": "preset", "expr": schedule}
    return {"kind": "cron", "expr": schedule}


def _task(task: BaseOperator) -> dict[str, Any]:
    kind = kind_of(task)
    data: dict[str, Any] = {
        "task_id": task.task_id,
        "operator": type(task).__name__,
        "kind": kind,
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": task.trigger_rule.value,
        "retries": task.retries,
        "retry_delay": task.retry_delay,
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": task.max_retry_delay,
        "queue": task.queue,
        "pool": task.pool,
        "pool_slots": task.pool_slots,
        "priority_weight": task.priority_weight,
        "weight_rule": task.weight_rule,
        "execution_timeout": task.execution_timeout,
        "do_xcom_push": task.do_xcom_push,
        "params": _check_json(task.params, task.where),
        "param_schemas": task.param_schemas,
        "group_id": task.task_group.path if task.task_group is not None else "",
    }
    outlets = [a.uri for a in task.outlets if isinstance(a, Asset)]
    if outlets:
        data["outlets"] = outlets
    aliases = [a.name for a in task.outlets if isinstance(a, AssetAlias)]
    if aliases:
        data["outlet_aliases"] = aliases
    if task.inlets:
        data["inlets"] = [a.uri for a in task.inlets if isinstance(a, Asset)]
    if task.task_display_name:
        data["task_display_name"] = task.task_display_name
    for name in ("start_date", "end_date"):
        if getattr(task, name) is not None:
            data[name] = getattr(task, name).isoformat()
    callbacks = [kind for kind in CALLBACK_KINDS if getattr(task, kind)]
    if callbacks:
        data["callbacks"] = callbacks
    if task.depends_on_past:
        data["depends_on_past"] = True
        data["wait_for_downstream"] = task.wait_for_downstream
        data["ignore_first_depends_on_past"] = task.ignore_first_depends_on_past
    if task.is_setup:
        data["is_setup"] = True
    if task.is_teardown:
        data["is_teardown"] = True
        data["on_failure_fail_dagrun"] = task.on_failure_fail_dagrun
    if isinstance(task, BashOperator):
        data["bash"] = {
            "bash_command": task.bash_command,
            "env": task.env,
            "append_env": task.append_env,
            "cwd": task.cwd,
            "skip_on_exit_code": task.skip_on_exit_code,
        }
    elif kind == "python":
        data["python"] = _python(task)
        if getattr(task, "multiple_outputs", False):
            data["python"]["multiple_outputs"] = True
    if task.map_index_template is not None:
        data["map_index_template"] = task.map_index_template
    if task.expand_input is not None:
        if kind == "empty":
            raise SerializationError(f"{task.where}: an EmptyOperator cannot be mapped; it has nothing to map over")
        data["mapping"] = mapping.serialize(task.expand_input, task.where)
    return data


def _python(task: BaseOperator) -> dict[str, Any]:
    if isinstance(task, PythonOperator):
        function: Any = task.python_callable
        name = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', type(function).__name__)}"
        args, kwargs = task.op_args, task.op_kwargs
    else:
        name = f"{type(task).__module__}.{type(task).__qualname__}.execute"
        args, kwargs = [], {field: getattr(task, field, None) for field in task.template_fields}
    data: dict[str, Any] = {
        "callable": name,
        "xcom_inputs": [list(pair) for pair in xcom_inputs_of(task)],
        "op_args_repr": _short_repr(args),
        "op_kwargs_repr": _short_repr(kwargs),
    }
    templates: list[tuple[str, bool]] = []
    call = f"{_stable_repr(_slotted(args, templates))}, {_stable_repr(_slotted(kwargs, templates))}"
    if templates and len(call) <= 4 * REPR_LIMIT:
        data["call_repr"], data["templates"] = call, [list(template) for template in templates]
    return data


class _Slot:
    """Where a template's rendered value goes in a Python task's call_repr."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __repr__(self) -> str:
        return f"{SLOT}{self.number}{SLOT}"


def _slotted(value: Any, templates: list[tuple[str, bool]]) -> Any:
    """`value` with each template a numbered slot: (a Jinja string, False), or (the template of an
    XComArg or @dag parameter, True: the task gets its value, not text)."""
    if isinstance(value, XComArg | DagParam) or (
        isinstance(value, str) and any(mark in value for mark in ("{{", "{%", "{#"))
    ):
        templates.append((str(value), not isinstance(value, str)))
        return _Slot(len(templates) - 1)
    if isinstance(value, list):
        return [_slotted(v, templates) for v in value]
    if isinstance(value, tuple):
        return tuple(_slotted(v, templates) for v in value)
    if isinstance(value, dict):
        return {k: _slotted(v, templates) for k, v in value.items()}
    return value


def _short_repr(value: Any) -> str:
    text = _stable_repr(value)
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def _stable_repr(value: Any) -> str:
    """A repr that is the same in every process (no addresses, sorted sets), so the hash is stable."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_stable_repr(k)}: {_stable_repr(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_stable_repr(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_stable_repr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(_stable_repr(v) for v in value)) + "}"
    return _ADDRESS.sub("", repr(value))
