from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tradewind import DAG, EmptyOperator
from tradewind.dag import current_dag
from tradewind.exceptions import DagDefinitionError

START = datetime(2024, 1, 1)


@pytest.mark.parametrize("schedule", [None, "0 3 * * *", "@once", "@hourly", "@annually", timedelta(minutes=5)])
def test_good_schedules_are_kept(schedule: object) -> None:
    assert DAG("d", schedule=schedule, start_date=START).schedule == schedule


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("every day", "DAG 'd': schedule 'every day' is not a valid cron expression"),
        ("@sometimes", "DAG 'd': unknown schedule preset '@sometimes'; use one of @once, @hourly"),
        ("@continuous", "DAG 'd': schedule '@continuous' is not supported"),
        (timedelta(0), "DAG 'd': a timedelta schedule must be positive"),
        (5, "DAG 'd': schedule must be a cron string, a preset, a timedelta, assets or None, not 5"),
    ],
)
def test_bad_schedules_are_errors_naming_the_dag(schedule: object, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        DAG("d", schedule=schedule, start_date=START)


def test_a_scheduled_dag_needs_a_start_date() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'd': a scheduled DAG needs a start_date"):
        DAG("d", schedule="@daily")


def test_naive_dates_are_utc_and_aware_dates_are_converted() -> None:
    d = DAG("d", start_date=START, end_date=datetime(2024, 2, 1, 5, tzinfo=timezone(timedelta(hours=2))))
    assert d.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert d.end_date == datetime(2024, 2, 1, 3, tzinfo=UTC)


@pytest.mark.parametrize("dag_id", ["has space", "", "x" * 251, "ünïcode", None])
def test_bad_dag_ids_are_errors(dag_id: object) -> None:
    with pytest.raises(DagDefinitionError, match="dag_id .* is not valid"):
        DAG(dag_id)  # type: ignore[arg-type]


def test_ids_may_use_dots_dashes_and_underscores() -> None:
    assert DAG("team.etl-daily_v2").dag_id == "team.etl-daily_v2"


def test_an_unknown_argument_is_an_error_with_the_new_name() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'd': unknown argument 'schedule_interval'; use 'schedule'"):
        DAG("d", schedule_interval="@daily")


def test_bad_limits_are_errors() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'd': max_active_runs must be a positive integer, not 0"):
        DAG("d", max_active_runs=0)


def test_the_owner_comes_from_default_args() -> None:
    assert DAG("d").owner == "tradewind"
    assert DAG("d", default_args={"owner": "ana"}).owner == "ana"


def test_nested_dag_contexts_attach_tasks_to_the_innermost() -> None:
    with DAG("outer") as outer:
        EmptyOperator(task_id="a")
        with DAG("inner") as inner:
            EmptyOperator(task_id="b")
        EmptyOperator(task_id="c")
    assert outer.task_ids == ["a", "c"]
    assert inner.task_ids == ["b"]
    assert current_dag() is None


def test_a_duplicate_task_id_is_an_error() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="DAG 'd': duplicate task id 'x'"):
        EmptyOperator(task_id="x")
        EmptyOperator(task_id="x")


def test_a_cycle_is_an_error_naming_the_path_when_the_block_ends() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'd': cycle between tasks a -> b -> c -> a"), DAG("d"):
        a, b, c = (EmptyOperator(task_id=n) for n in "abc")
        a >> b >> c >> a


def test_a_long_chain_is_validated_without_recursion() -> None:
    with DAG("d") as d:
        tasks = [EmptyOperator(task_id=f"t{i}") for i in range(3000)]
        for up, down in zip(tasks, tasks[1:], strict=False):
            up >> down
    assert d.get_task("t2999").upstream_task_ids == {"t2998"}


def test_get_task_names_the_missing_task() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'd' has no task 'nope'"):
        DAG("d").get_task("nope")


def test_dagrun_timeout_is_stored_in_seconds_and_a_bad_one_is_refused_naming_it() -> None:
    from tradewind.serialization import serialize_dag

    with DAG("d", schedule=None, dagrun_timeout=timedelta(minutes=2)) as d:
        pass
    assert serialize_dag(d, "d.py")["dagrun_timeout"] == 120.0
    with pytest.raises(DagDefinitionError, match="DAG 'd': dagrun_timeout must be more than zero, not 0"):
        DAG("d", schedule=None, dagrun_timeout=0)


def test_display_names_and_max_consecutive_failed_dag_runs_are_stored_and_checked() -> None:
    from tradewind.serialization import serialize_dag

    with DAG("d", schedule=None, dag_display_name="My DAG", max_consecutive_failed_dag_runs=3) as d:
        EmptyOperator(task_id="a", task_display_name="First step")
    data = serialize_dag(d, "d.py")
    assert data["dag_display_name"] == "My DAG" and data["max_consecutive_failed_dag_runs"] == 3
    assert data["tasks"][0]["task_display_name"] == "First step"
    with pytest.raises(DagDefinitionError, match="dag_display_name must be a non-empty string"):
        DAG("d", dag_display_name="")
    with pytest.raises(DagDefinitionError, match="max_consecutive_failed_dag_runs must be an integer of at least 0"):
        DAG("d", max_consecutive_failed_dag_runs=-1)
