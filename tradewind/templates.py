"""Jinja templates in task fields, with Airflow's context names (ds, ts, params, dag_run, ...).

The coordinator renders bash payloads; Python tasks render their arguments on the worker from
the same context, which crosses the wire as JSON of its inputs.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import jinja2
import pendulum

from tradewind.exceptions import TemplateError

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
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
)
_DATES = ("logical_date", "data_interval_start", "data_interval_end")


def ds_add(ds: str, days: int) -> str:
    """Airflow's macros.ds_add: a YYYY-MM-DD date moved by `days`."""
    return (datetime.strptime(ds, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """Airflow's macros.ds_format: reformat a date string, e.g. ds_format(ds, "%Y-%m-%d", "%d/%m")."""
    return datetime.strptime(ds, input_format).strftime(output_format)


MACROS = SimpleNamespace(datetime=datetime, timedelta=timedelta, ds_add=ds_add, ds_format=ds_format, json=json)


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
) -> dict[str, Any]:
    """Airflow's template context names. `params` are the DAG's params; a trigger's conf stays
    apart in `conf` and `dag_run.conf` (Airflow's dag_run_conf_overrides_params=False).

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
        "params": dict(params),
        "conf": conf,
        "dag_run": dag_run,
        "ti": ti,
        "try_number": try_number,
        "macros": MACROS,
    }


def _utc(moment: datetime) -> pendulum.DateTime:
    return pendulum.instance(moment, tz="UTC").in_timezone("UTC")


def context_to_json(context: dict[str, Any]) -> str:
    """The inputs of a context, so the worker can rebuild the same context."""
    data = {key: context[key] for key in _INPUTS}
    for key in _DATES:
        data[key] = context[key].isoformat()
    return json.dumps(data)


def context_from_json(text: str) -> dict[str, Any]:
    data = json.loads(text)
    for key in _DATES:
        data[key] = datetime.fromisoformat(data[key])
    return build_context(**data)


@functools.lru_cache(maxsize=1024)
def _compile(source: str) -> jinja2.Template:
    """The coordinator renders the same few templates for every run; compile each once."""
    return _ENV.from_string(source)


def render(value: Any, context: dict[str, Any]) -> Any:
    """Render every string inside `value` (lists, tuples and dicts are walked)."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value and "{#" not in value:
            return value
        try:
            return _compile(value).render(context)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"template {value!r} failed to render: {exc}") from None
        except Exception as exc:  # a macro or filter raising is the template's failure too
            raise TemplateError(f"template {value!r} failed to render: {type(exc).__name__}: {exc}") from None
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, tuple):
        return tuple(render(v, context) for v in value)
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    return value
