"""Jinja templates in task fields, with Airflow's context names (ds, ts, params, dag_run, ...).

The coordinator renders bash payloads; Python tasks render their arguments on the worker from
the same context, which crosses the wire as JSON of its inputs.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import jinja2
import jinja2.nativetypes
import pendulum

from tradewind.asset_events import InletEventAccessors, OutletEventAccessors, TriggeringAssetEvents
from tradewind.exceptions import TemplateError
from tradewind.macros import MACROS
from tradewind.params import DagParam
from tradewind.template_settings import TemplateSettings
from tradewind.variables import ConnectionAccessor, VariableAccessor

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
#: Airflow's date filters: `{{ data_interval_end | ds }}`; None stays None, as in Airflow.
_ENV.filters.update(
    ds=lambda moment: moment and moment.strftime("%Y-%m-%d"),
    ds_nodash=lambda moment: moment and moment.strftime("%Y%m%d"),
    ts=lambda moment: moment and moment.isoformat(),
    ts_nodash=lambda moment: moment and moment.strftime("%Y%m%dT%H%M%S"),
    ts_nodash_with_tz=lambda moment: moment and moment.isoformat().replace("-", "").replace(":", ""),
)
_INPUTS = (
    "dag_id",
    "task_id",
    "run_id",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "params",
    "conf",
    "try_number",
    "run_type",
    "prev_data_interval_start_success",
    "prev_data_interval_end_success",
    "prev_start_date_success",
    "triggering_asset_events",
    "inlet_events",
)
_DATES = ("logical_date", "data_interval_start", "data_interval_end")
_PREVIOUS = ("prev_data_interval_start_success", "prev_data_interval_end_success", "prev_start_date_success")


def build_context(
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    logical_date: datetime,
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    params: dict[str, Any],
    conf: dict[str, Any],
    try_number: int,
    run_type: str,
    task_params: dict[str, Any] | None = None,
    prev_data_interval_start_success: datetime | None = None,
    prev_data_interval_end_success: datetime | None = None,
    prev_start_date_success: datetime | None = None,
    triggering_asset_events: list[dict[str, Any]] | None = None,
    inlet_events: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Airflow's template context names, with Airflow's values. `params` are the DAG's params,
    overridden by the task's, overridden by the trigger's conf (Airflow's precedence); the conf
    itself is `dag_run.conf` (and `conf`). `var` and `conn` look variables and connections up
    where the context is used (tradewind/variables.py). The prev_*_success dates are those of the
    DAG's last successful run before this one, None when there is none. `triggering_asset_events`
    are the events that started an asset-triggered run, as JSON (tradewind.assets.AssetEventResult);
    `inlet_events` the task's inlets' event counts and newest events (tradewind.assets.InletEvents).

    As in Airflow, dates are pendulum DateTimes in UTC whatever the DAG's time zone (`ds` is the
    logical date's UTC day; `{{ logical_date.in_timezone("Europe/Paris") }}` converts)."""
    logical_date = _utc(logical_date)
    start = _utc(data_interval_start or logical_date)
    end = _utc(data_interval_end or logical_date)
    dag_run = SimpleNamespace(
        dag_id=dag_id,
        run_id=run_id,
        conf=conf,
        logical_date=logical_date,
        run_type=run_type,
        data_interval_start=start,
        data_interval_end=end,
    )
    ti = SimpleNamespace(dag_id=dag_id, task_id=task_id, run_id=run_id, try_number=try_number)
    ds_nodash = logical_date.strftime("%Y%m%d")
    previous = (prev_data_interval_start_success, prev_data_interval_end_success, prev_start_date_success)
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "run_type": run_type,
        "logical_date": logical_date,
        "data_interval_start": start,
        "data_interval_end": end,
        "ds": logical_date.strftime("%Y-%m-%d"),
        "ds_nodash": logical_date.strftime("%Y%m%d"),
        "ts": logical_date.isoformat(),
        "ts_nodash": logical_date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": logical_date.isoformat().replace("-", "").replace(":", ""),
        "params": {**params, **(task_params or {}), **conf},
        "conf": AirflowConf(),
        "dag_run": dag_run,
        "ti": ti,
        "try_number": try_number,
        "macros": MACROS,
        "var": VariableAccessor(),
        "conn": ConnectionAccessor(),
        "task_instance": ti,
        "task_instance_key_str": f"{dag_id}__{task_id}__{ds_nodash}",
        "triggering_asset_events": TriggeringAssetEvents(triggering_asset_events or []),
        "outlet_events": OutletEventAccessors(),
        "inlet_events": InletEventAccessors(inlet_events or {}),
        "dag": SimpleNamespace(dag_id=dag_id, params=dict(params)),
        "task": SimpleNamespace(task_id=task_id, dag_id=dag_id, params={**params, **(task_params or {})}),
        **{key: None if value is None else _utc(value) for key, value in zip(_PREVIOUS, previous, strict=True)},
        **AIRFLOW_2_NAMES,
    }


#: The Airflow 2 context names Airflow 3 removed, and what to write instead: a template (or a
#: task reading its context) that uses one fails naming it, as it fails on Airflow 3.
_REMOVED = {
    "execution_date": "use logical_date",
    "next_execution_date": "use data_interval_end",
    "next_ds": "use {{ data_interval_end | ds }}",
    "next_ds_nodash": "use {{ data_interval_end | ds_nodash }}",
    "prev_ds": "use {{ prev_data_interval_start_success | ds }} or {{ data_interval_start | ds }}",
    "prev_ds_nodash": "use {{ prev_data_interval_start_success | ds_nodash }}",
    "prev_execution_date": "use prev_data_interval_start_success or data_interval_start",
    "prev_execution_date_success": "use prev_data_interval_start_success",
    "tomorrow_ds": "use {{ macros.ds_add(ds, 1) }}",
    "tomorrow_ds_nodash": "use {{ macros.ds_format(macros.ds_add(ds, 1), '%Y-%m-%d', '%Y%m%d') }}",
    "yesterday_ds": "use {{ macros.ds_add(ds, -1) }}",
    "yesterday_ds_nodash": "use {{ macros.ds_format(macros.ds_add(ds, -1), '%Y-%m-%d', '%Y%m%d') }}",
}


class Removed:
    """A context name Airflow 3 removed: any use of it in a template fails naming it."""

    def __init__(self, name: str, hint: str) -> None:
        self.name, self.hint = name, hint

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise TemplateError(f"{self.name!r} was removed in Airflow 3 and Tradewind does not provide it; {self.hint}")

    __str__ = __call__ = __getitem__ = __iter__ = __bool__ = _fail

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return self._fail()


AIRFLOW_2_NAMES = {name: Removed(name, hint) for name, hint in _REMOVED.items()}


class AirflowConf:
    """`conf` in Airflow's context is Airflow's configuration (`conf.get(section, key)`), not the
    run's conf. Tradewind has no Airflow configuration, so any use fails naming what was asked
    for; the run's conf is `dag_run.conf`."""

    def _fail(self, what: str) -> Any:
        raise TemplateError(
            f"{what}: `conf` is Airflow's configuration, which Tradewind does not have; "
            "the run's conf is {{ dag_run.conf }}"
        )

    def get(self, section: str, key: str, *args: Any, **kwargs: Any) -> Any:
        return self._fail(f"conf.get({section!r}, {key!r})")

    getboolean = getint = getfloat = getlist = getjson = has_option = get

    def __str__(self) -> str:
        return str(self._fail("{{ conf }}"))

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return self._fail(f"conf.{attribute}")

    def __getitem__(self, item: Any) -> Any:
        return self._fail(f"conf[{item!r}]")

    __iter__ = __bool__ = __len__ = lambda self: self._fail("conf")  # noqa: E731


def _utc(moment: datetime) -> pendulum.DateTime:
    return pendulum.instance(moment, tz="UTC").in_timezone("UTC")


def context_to_json(context: dict[str, Any]) -> str:
    """The inputs of a context, so the worker can rebuild the same context."""
    data = {key: context[key] for key in _INPUTS if key != "conf"}
    data["conf"] = context["dag_run"].conf
    data["params"], data["task_params"] = context["dag"].params, context["task"].params
    data["triggering_asset_events"] = context["triggering_asset_events"].raw
    data["inlet_events"] = context["inlet_events"].raw
    for key in (*_DATES, *_PREVIOUS):
        data[key] = None if context[key] is None else context[key].isoformat()
    return json.dumps(data)


def context_from_json(text: str) -> dict[str, Any]:
    data = json.loads(text)
    for key in (*_DATES, *_PREVIOUS):
        data[key] = None if data.get(key) is None else datetime.fromisoformat(data[key])
    return build_context(**data)


_NATIVE = jinja2.nativetypes.NativeEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
_NATIVE.filters.update(_ENV.filters)


def render_value(source: str, context: dict[str, Any]) -> Any:
    """The Python value a one-expression template stands for (an XComArg's, a DagParam's)."""
    try:
        return _NATIVE.from_string(source).render(context)
    except Exception as exc:  # a macro or filter raising is the template's failure too
        raise TemplateError(f"template {source!r} failed to render: {type(exc).__name__}: {exc}") from None


_ENVIRONMENTS: dict[int, tuple[TemplateSettings, jinja2.Environment]] = {}


def _environment(settings: TemplateSettings) -> jinja2.Environment:
    """One environment per DAG's settings, built on first use."""
    known = _ENVIRONMENTS.get(id(settings))
    if known is None or known[0] is not settings:
        known = _ENVIRONMENTS[id(settings)] = (settings, settings.environment(_ENV))
    return known[1]


#: Templates compiled per DAG environment and source; a fork server fills it before it forks.
_COMPILED: dict[tuple[jinja2.Environment, str], jinja2.Template] = {}
_COMPILED_LIMIT = 4096


def compiled(settings: TemplateSettings, source: str) -> jinja2.Template:
    """`source` compiled in the DAG's environment, once per process (a task child forked from a
    warm fork server finds its task's templates compiled already)."""
    environment = _environment(settings)
    key = (environment, source)
    found = _COMPILED.get(key)
    if found is None:
        if len(_COMPILED) >= _COMPILED_LIMIT:
            _COMPILED.clear()
        found = _COMPILED[key] = environment.from_string(source)
    return found


@functools.lru_cache(maxsize=1024)
def _compile(source: str) -> jinja2.Template:
    """The coordinator renders the same few templates for every run; compile each once."""
    return _ENV.from_string(source)


def render(value: Any, context: dict[str, Any], settings: TemplateSettings | None = None) -> Any:
    """Render every string inside `value` (lists, tuples and dicts are walked); an @dag function's
    parameter becomes the run's value of its param. `settings` are the DAG's (user macros and
    filters, template files, native objects); without them, Airflow's defaults."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value and "{#" not in value:
            return value
        try:
            if settings is not None:
                return compiled(settings, value).render({**settings.macros, **context})
            return _compile(value).render(context)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template {value!r} failed to render: {exc}") from None
        except Exception as exc:  # a macro or filter raising is the template's failure too
            raise TemplateError(f"template {value!r} failed to render: {type(exc).__name__}: {exc}") from None
    if isinstance(value, DagParam):
        return value.resolve(context["params"])
    if isinstance(value, list):
        return [render(v, context, settings) for v in value]
    if isinstance(value, tuple):
        return tuple(render(v, context, settings) for v in value)
    if isinstance(value, dict):
        return {k: render(v, context, settings) for k, v in value.items()}
    return value
