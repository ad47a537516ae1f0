from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pendulum
import pytest

from tradewind.exceptions import TemplateError
from tradewind.templates import build_context, context_from_json, context_to_json, render

MOMENT = datetime(2024, 3, 1, 6, 30, tzinfo=UTC)


def context(**overrides: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "dag_id": "etl",
        "task_id": "load",
        "run_id": "scheduled__2024-03-01",
        "logical_date": MOMENT,
        "data_interval_start": MOMENT - timedelta(days=1),
        "data_interval_end": MOMENT,
        "params": {"table": "sales"},
        "conf": {"table": "override"},
        "try_number": 2,
        "run_type": "scheduled",
    }
    return build_context(**{**inputs, **overrides})


def test_the_context_has_airflow_names() -> None:
    ctx = context()
    assert (ctx["ds"], ctx["ds_nodash"], ctx["ts"], ctx["ts_nodash"]) == (
        "2024-03-01",
        "20240301",
        "2024-03-01T06:30:00+00:00",
        "20240301T063000",
    )
    assert ctx["data_interval_start"] == datetime(2024, 2, 29, 6, 30, tzinfo=UTC)
    assert (ctx["dag_id"], ctx["task_id"], ctx["run_id"], ctx["try_number"]) == (
        "etl",
        "load",
        "scheduled__2024-03-01",
        2,
    )
    assert (ctx["dag_run"].run_id, ctx["dag_run"].run_type, ctx["dag_run"].conf) == (
        "scheduled__2024-03-01",
        "scheduled",
        {"table": "override"},
    )


def test_a_triggers_conf_overrides_task_params_which_override_dag_params() -> None:
    ctx = context(params={"table": "sales", "limit": 5, "mode": "full"}, task_params={"limit": 9, "mode": "delta"})
    assert render("{{ params.table }}/{{ params.limit }}/{{ params.mode }}/{{ dag_run.conf['table'] }}", ctx) == (
        "override/9/delta/override"
    )
    assert render("{{ dag.params.table }}/{{ task.params.limit }}", ctx) == "sales/9"


def test_airflow_context_names_have_airflow_values() -> None:
    ctx = context(prev_data_interval_start_success=MOMENT - timedelta(days=2))
    text = (
        "{{ task_instance_key_str }}|{{ ts_nodash_with_tz }}|{{ logical_date }}|{{ data_interval_end | ds }}|"
        "{{ data_interval_end | ds_nodash }}|{{ macros.ds_add(ds, 1) }}|{{ data_interval_start | ds }}|"
        "{{ prev_data_interval_start_success | ds_nodash }}|{{ prev_start_date_success }}|{{ ti.task_id }}"
    )
    assert render(text, ctx) == (
        "etl__load__20240301|20240301T063000+0000|2024-03-01 06:30:00+00:00|2024-03-01|20240301|"
        "2024-03-02|2024-02-29|20240228|None|load"
    )
    assert ctx["task_instance"] is ctx["ti"]


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("prev_ds", "prev_data_interval_start_success"),
        ("execution_date", "logical_date"),
        ("next_ds", "data_interval_end"),
        ("next_ds_nodash", "data_interval_end"),
        ("next_execution_date", "data_interval_end"),
        ("prev_execution_date", "prev_data_interval_start_success"),
        ("prev_execution_date_success", "prev_data_interval_start_success"),
        ("tomorrow_ds", "macros.ds_add"),
        ("tomorrow_ds_nodash", "macros.ds_add"),
        ("yesterday_ds", "macros.ds_add"),
        ("yesterday_ds_nodash", "macros.ds_add"),
    ],
)
def test_an_airflow_2_name_that_airflow_3_removed_fails_naming_it_and_what_to_write(name: str, hint: str) -> None:
    with pytest.raises(TemplateError, match=f"'{name}' was removed in Airflow 3.*{hint}"):
        render(f"echo {{{{ {name} }}}}", context())


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("{{ conf.get('core', 'dags_folder') }}", "conf.get('core', 'dags_folder')"),
        ("{{ conf }}", "{{ conf }}"),
        ("{{ conf['table'] }}", "conf['table']"),
        ("{{ conf.table }}", "conf.table"),
    ],
)
def test_conf_is_airflows_configuration_not_the_runs_conf_and_fails_naming_the_option(source: str, named: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(named) + ".*Airflow's configuration.*dag_run.conf"):
        render(source, context())
    assert render("{{ dag_run.conf.table }}", context()) == "override"


def test_macros_have_airflows_names() -> None:
    text = (
        "{{ macros.uuid.UUID(int=1) }} {{ macros.time.gmtime(0).tm_year }} {{ macros.random() < 1 }} "
        "{{ macros.dateutil.relativedelta.relativedelta(months=1) }} {{ macros.datetime(2024, 1, 2).day }}"
    )
    assert render(text, context()) == "00000000-0000-0000-0000-000000000001 1970 True relativedelta(months=+1) 2"


def test_macros() -> None:
    text = "{{ macros.ds_add(ds, 5) }} {{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m') }} {{ macros.timedelta(days=1) }}"
    assert render(text, context()) == "2024-03-06 01/03 1 day, 0:00:00"
    assert render("{{ (logical_date + macros.timedelta(hours=1)).hour }}", context()) == "7"


def test_render_walks_lists_tuples_and_dicts_and_leaves_other_values() -> None:
    value = {"cmd": ["echo {{ ds }}", ("{{ ds_nodash }}", 3)], "n": None}
    assert render(value, context()) == {"cmd": ["echo 2024-03-01", ("20240301", 3)], "n": None}


def test_an_undefined_name_is_an_error_naming_the_template_and_the_name() -> None:
    with pytest.raises(TemplateError, match=r"template 'echo \{\{ nope \}\}' failed to render: 'nope' is undefined"):
        render("echo {{ nope }}", context())


def test_a_missing_param_is_an_error() -> None:
    with pytest.raises(TemplateError, match="has no attribute 'missing'"):
        render("{{ params.missing }}", context())


def test_a_syntax_error_and_a_failing_macro_are_template_errors() -> None:
    with pytest.raises(TemplateError, match="failed to render"):
        render("{{ ds ", context())
    with pytest.raises(TemplateError, match="ValueError"):
        render("{{ macros.ds_add('not a date', 1) }}", context())


def test_the_context_survives_the_wire() -> None:
    again = context_from_json(context_to_json(context()))
    assert again["logical_date"] == MOMENT
    assert again["data_interval_start"] == MOMENT - timedelta(days=1)
    text = "{{ ds }} {{ ts }} {{ params.table }} {{ dag_run.conf.table }} {{ try_number }} {{ dag_run.run_type }}"
    assert render(text, again) == render(text, context())


def test_missing_interval_defaults_to_the_logical_date() -> None:
    ctx = context(data_interval_start=None, data_interval_end=None)
    assert ctx["data_interval_start"] == ctx["data_interval_end"] == MOMENT


def test_template_dates_are_pendulum_utc_whatever_the_dags_zone_as_in_airflow() -> None:
    tokyo_midnight = pendulum.datetime(2026, 11, 22, tz="Asia/Tokyo")
    ctx = context(logical_date=tokyo_midnight, data_interval_start=None, data_interval_end=None)
    assert isinstance(ctx["logical_date"], pendulum.DateTime)
    assert (ctx["ds"], ctx["ts"]) == ("2026-11-21", "2026-11-21T15:00:00+00:00")
    assert render("{{ logical_date.in_timezone('Asia/Tokyo').strftime('%Y-%m-%d %H:%M') }}", ctx) == "2026-11-22 00:00"
    assert context_from_json(context_to_json(ctx))["ts"] == "2026-11-21T15:00:00+00:00"
