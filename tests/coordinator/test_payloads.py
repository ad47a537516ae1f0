"""What a worker is sent: templates rendered on the coordinator with the run's XComs, params and conf."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from coordinator.clock import FakeClock
from coordinator.events import AttemptRef, Finished
from tests.coordinator.conftest import Harness, dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine
from tests.coordinator.test_scheduler import run_to_end
from tests.pg import fresh_database
from tradewind import DAG, BashOperator, xcom_codec
from tradewind import dag as dag_decorator
from tradewind import task as task_decorator
from tradewind.exceptions import InvalidArgument
from tradewind.serialization import serialize_dag
from tradewind.wire import Outcome


def bash(task_id: str, command: str, upstream: list[str] | None = None, **extra: object) -> dict[str, object]:
    data = task(task_id, upstream, **extra)
    data["bash"] = {**data["bash"], "bash_command": command}  # type: ignore[dict-item]
    return data


def test_an_xcomarg_in_an_f_string_renders_to_the_upstream_value(harness: Harness) -> None:
    with DAG("x") as d:
        push = BashOperator(task_id="push", bash_command="echo hi")
        BashOperator(task_id="show", bash_command=f"echo {push.output} {push.output['day']}") << push
    harness.add_dag(serialize_dag(d, "x.py"))
    harness.worker()
    harness.scheduler.trigger("x", {}, "r", None, False)
    [first] = harness.assignments(harness.turn())
    value = {"day": date(2026, 11, 25), "n": Decimal("1.5")}
    run_to_end(harness, first, value=xcom_codec.dumps(value))
    [assign] = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    assert assign.payload.fields["bash_command"] == (
        "echo {'day': datetime.date(2026, 11, 25), 'n': Decimal('1.5')} 2026-11-25"
    )
    assert assign.payload.rendered == assign.payload.fields["bash_command"]


def test_a_missing_xcom_pulled_in_a_template_renders_as_none(harness: Harness) -> None:
    command = "echo {{ ti.xcom_pull(task_ids='a') }}/{{ ti.xcom_pull(['a', 'a']) }}"
    harness.add_dag(dag("d", [bash("a", "true"), bash("b", command, ["a"])]))
    harness.worker()
    harness.scheduler.trigger("d", {}, "r", None, False)
    [first] = harness.assignments(harness.turn())
    run_to_end(harness, first)
    [second] = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    assert second.payload.fields["bash_command"] == "echo None/[None, None]"


def test_an_xcom_pushed_in_a_bash_template_is_stored_when_the_task_is_sent(harness: Harness) -> None:
    command = "echo {{ ti.xcom_push(key='k', value=[1, 2]) }}"
    harness.add_dag(dag("d", [bash("a", command), bash("b", "echo {{ ti.xcom_pull(task_ids='a', key='k') }}", ["a"])]))
    harness.worker()
    harness.scheduler.trigger("d", {}, "r", None, False)
    effects = harness.turn()
    [sent] = [e for e in effects if type(e).__name__ == "Assign"]
    assert sent.payload.fields["bash_command"] == "echo None"
    [first] = harness.assignments(effects)
    run = harness.scheduler.run_for("d", "r")
    assert run is not None and run.xcoms[("a", -1, "k")] == xcom_codec.dumps([1, 2])
    run_to_end(harness, first)
    [second] = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    assert second.payload.fields["bash_command"] == "echo [1, 2]"


def test_conf_overrides_task_params_which_override_dag_params(harness: Harness) -> None:
    command = "echo {{ params.table }} {{ params.limit }} {{ params.mode }}"
    harness.add_dag(
        dag(
            "d",
            [bash("a", command, params={"limit": 9, "mode": "delta"}, param_schemas={})],
            params={"table": "sales", "limit": 5, "mode": "full"},
        )
    )
    harness.worker()
    harness.scheduler.trigger("d", {"table": "orders"}, "r", None, False)
    [assign] = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    assert assign.payload.fields["bash_command"] == "echo orders 9 delta"


def test_a_conf_that_breaks_a_param_schema_is_refused_at_trigger_naming_the_field(harness: Harness) -> None:
    schemas = {"limit": {"type": "integer", "minimum": 1}, "day": {"type": "string", "format": "date"}}
    harness.add_dag(dag("d", [bash("a", "true")], params={"limit": 5, "day": "2026-01-01"}, param_schemas=schemas))
    with pytest.raises(InvalidArgument, match="DAG 'd': conf_json: param 'limit': 0 is less than the minimum of 1"):
        harness.scheduler.trigger("d", {"limit": 0}, "r1", None, False)
    with pytest.raises(InvalidArgument, match="param 'day': 'tomorrow' is not a 'date'"):
        harness.scheduler.trigger("d", {"day": "tomorrow"}, "r1", None, False)
    assert harness.scheduler.trigger("d", {"limit": 2, "extra": True}, "r1", None, False).conf["limit"] == 2


def test_a_task_param_broken_by_the_conf_fails_the_try_naming_it(harness: Harness) -> None:
    harness.add_dag(
        dag("d", [bash("a", "echo {{ params.n }}", params={"n": 1}, param_schemas={"n": {"type": "integer"}})])
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {"n": "many"}, "r", None, False)
    harness.turn()
    ti = run.tis["a"]
    assert ti.state.value == "failed"
    assert "task 'a': param 'n': 'many' is not of type 'integer'" in ti.attempt.error


def test_the_template_dates_of_a_run_are_airflows(harness: Harness) -> None:
    command = (
        "{{ ds }} {{ ts_nodash_with_tz }} {{ task_instance_key_str }} "
        "{{ data_interval_end | ds }} {{ logical_date | ds }}"
    )
    harness.add_dag(dag("d", [bash("a", command)]))
    harness.worker()
    harness.scheduler.trigger("d", {}, "r", datetime(2026, 11, 25, 6, tzinfo=UTC), False)
    [assign] = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    expected = "2026-11-25 20261125T060000+0000 d__a__20261125 2026-11-25 2026-11-25"
    assert assign.payload.fields["bash_command"] == expected


PREVIOUS = (
    "{{ prev_data_interval_start_success | ds }} {{ prev_data_interval_end_success | ds }} "
    "{{ prev_start_date_success is none }} {{ prev_data_interval_start_success }}"
)


def test_prev_success_names_are_the_latest_older_successful_runs_dates(harness: Harness) -> None:
    harness.add_dag(dag("d", [bash("a", PREVIOUS)]))
    harness.worker()
    harness.scheduler.trigger("d", {}, "first", datetime(2026, 11, 20, tzinfo=UTC), False)
    [first] = harness.assignments(harness.turn())
    [assign] = [e for e in harness.effects if type(e).__name__ == "Assign"]
    assert assign.payload.fields["bash_command"].startswith("None None True None")
    run_to_end(harness, first)
    harness.scheduler.trigger("d", {}, "second", datetime(2026, 11, 22, tzinfo=UTC), False)
    harness.scheduler.trigger("d", {}, "older", datetime(2026, 11, 1, tzinfo=UTC), False)
    assigned = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    commands = {e.ti.run.run_id: e.payload.fields["bash_command"] for e in assigned}
    assert commands["second"] == "2026-11-20 2026-11-20 False 2026-11-20 00:00:00+00:00"
    assert commands["older"] == "None None True None"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_latest_successful_run_is_remembered_across_a_restart(tmp_path: Path, backend: str) -> None:
    if backend == "postgres":
        with fresh_database() as url:
            asyncio.run(_remembered_across_a_restart(tmp_path, url))
    else:
        asyncio.run(_remembered_across_a_restart(tmp_path, ""))


async def _remembered_across_a_restart(tmp_path: Path, url: str) -> None:
    clock = FakeClock()
    first = make_engine(tmp_path, clock, url)
    add_dag(first, dag("d", [task("a")]))
    for run_id, day in (("r1", 20), ("r2", 21)):
        logical = datetime(2026, 11, day, tzinfo=UTC)
        await command(first, "trigger", dag_id="d", conf={}, run_id=run_id, logical_date=logical)
    await join(first)
    generation = first.scheduler.workers["w1"].generation
    for run_id, outcome in (("r1", Outcome.SUCCESS), ("r2", Outcome.FAILED)):
        ti = first.scheduler.run_for("d", run_id).tis["a"]
        ended = Finished("w1", AttemptRef(ti.id, 1, ti.token), outcome, 0, "", "", None, generation=generation)
        await first.turn([ended])
    last = make_engine(tmp_path, clock, url).scheduler.dags["d"].last_success
    assert last is not None and last.logical_date == datetime(2026, 11, 20, tzinfo=UTC)
    assert last.data_interval_end == datetime(2026, 11, 20, tzinfo=UTC)


def test_a_dags_plain_user_macros_render_in_bash_templates(harness: Harness) -> None:
    harness.add_dag(dag("d", [bash("a", "echo {{ team }} {{ ds }}")], user_defined_macros={"team": "data"}))
    harness.worker()
    harness.scheduler.trigger("d", {}, "r", datetime(2026, 11, 25, tzinfo=UTC), False)
    [assign] = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    assert assign.payload.fields["bash_command"] == "echo data 2026-11-25"


def test_a_python_tasks_rendered_call_shows_the_values_not_the_templates(harness: Harness) -> None:
    @dag_decorator(schedule=None)
    def shown(table: str = "sales") -> None:
        @task_decorator
        def push() -> dict[str, int]:
            return {"n": 1}

        @task_decorator
        def load(data: Any, where: str, table: str, raw: str) -> None:
            pass

        load(push(), "day {{ ds }}", table, raw="{{ ti.xcom_pull(task_ids='push')['n'] + 1 }}")

    harness.add_dag(serialize_dag(shown(), "shown.py"))
    harness.worker()
    harness.scheduler.trigger("shown", {"table": "orders"}, "r", datetime(2026, 11, 25, tzinfo=UTC), False)
    [first] = harness.assignments(harness.turn())
    run_to_end(harness, first, value=xcom_codec.dumps({"n": 1}))
    [assign] = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    assert assign.payload.rendered.endswith("load([{'n': 1}, 'day 2026-11-25', 'orders'], {'raw': '2'})"), (
        assign.payload.rendered
    )
