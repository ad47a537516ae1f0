"""Branching, short-circuit, latest-only and the TaskFlow decorators, run in this process."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest

from tradewind import (
    DAG,
    BaseBranchOperator,
    BranchDateTimeOperator,
    BranchDayOfWeekOperator,
    BranchPythonOperator,
    EmptyOperator,
    ExternalTaskMarker,
    ExternalTaskSensor,
    Label,
    LatestOnlyOperator,
    PythonOperator,
    ShortCircuitOperator,
    TaskGroup,
    TriggerDagRunOperator,
    WeekDay,
    task,
)
from tradewind.compat.airflow import airflow_imports
from tradewind.exceptions import DagDefinitionError, TaskFailed, TaskSkipped
from tradewind.operators.bash import BashDecoratedOperator
from tradewind.skipping import FollowTasks, take_decision
from worker.payloads.bash import last_line

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_decision_left_over() -> Any:
    take_decision()
    yield
    take_decision()


def context(**extra: Any) -> dict[str, Any]:
    logical = extra.pop("logical_date", START)
    run = SimpleNamespace(run_type=extra.pop("run_type", "manual"), data_interval_end=extra.pop("end", logical))
    return {"logical_date": logical, "dag_run": run, **extra}


def fork(op_class: type, **kwargs: Any) -> tuple[DAG, Any]:
    """A DAG with `choose` upstream of a, b and c, and d after a."""
    with DAG("d", start_date=START, schedule="@daily") as d:
        choose = op_class(task_id="choose", **kwargs)
        a, b, c, after = (EmptyOperator(task_id=t) for t in ("a", "b", "c", "after_a"))
        choose >> [a, b, c]
        a >> after
    return d, choose


def test_branch_python_follows_the_returned_ids_and_returns_them_as_its_xcom() -> None:
    _, choose = fork(BranchPythonOperator, python_callable=lambda: ["a", "c"])
    assert choose.execute(context()) == ["a", "c"]
    assert take_decision() == FollowTasks(("a", "c"))


def test_branch_returning_one_id_or_none() -> None:
    _, one = fork(BranchPythonOperator, python_callable=lambda: "b")
    assert one.execute(context()) == "b"
    assert take_decision() == FollowTasks(("b",))
    _, none = fork(BranchPythonOperator, python_callable=lambda: None)
    none.execute(context())
    assert take_decision() == FollowTasks(())


def test_a_branch_to_a_task_that_is_not_direct_downstream_fails_naming_it() -> None:
    _, choose = fork(BranchPythonOperator, python_callable=lambda: "after_a")
    with pytest.raises(TaskFailed, match=r"chose task 'after_a', which is not a direct downstream task \(.*a, b, c"):
        choose.execute(context())
    assert take_decision() is None
    _, bad = fork(BranchPythonOperator, python_callable=lambda: 3)
    with pytest.raises(TaskFailed, match="must return None, a task id or a list of task ids, not 3"):
        bad.execute(context())


def test_a_branch_to_a_task_group_follows_the_groups_root_tasks() -> None:
    with DAG("d") as d:
        choose = BranchPythonOperator(task_id="choose", python_callable=lambda: ["load", "other"])
        with TaskGroup("load") as load:
            EmptyOperator(task_id="first") >> EmptyOperator(task_id="after")
            EmptyOperator(task_id="second")
        choose >> [load, EmptyOperator(task_id="other")]
    assert sorted(choose.downstream_task_ids) == ["load.first", "load.second", "other"]
    assert d.get_task("choose").execute(context()) == ["load", "other"]
    assert take_decision() == FollowTasks(("load.first", "load.second", "other"))


def test_labels_on_edges_make_the_edges_they_stand_in_as_in_airflows_branch_examples() -> None:
    with airflow_imports():
        from airflow.sdk import Label as SdkLabel
        from airflow.utils.edgemodifier import Label as UtilsLabel
    assert SdkLabel is UtilsLabel is Label
    with DAG("d") as d:

        @task.branch
        def branching() -> str:
            return "branch_a"

        choice = branching()
        join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
        for option in ("a", "b"):
            choice >> Label(option) >> EmptyOperator(task_id=f"branch_{option}") >> join
        late = EmptyOperator(task_id="late")
        late << Label("from both") << [d.get_task("branch_a"), d.get_task("branch_b")]
    assert d.get_task("branching").downstream_task_ids == {"branch_a", "branch_b"}
    assert d.get_task("join").upstream_task_ids == {"branch_a", "branch_b"}
    assert late.upstream_task_ids == {"branch_a", "branch_b"}


def test_base_branch_operator_follows_choose_branch() -> None:
    class Even(BaseBranchOperator):
        def choose_branch(self, context: dict[str, Any]) -> str:
            return "a" if context["logical_date"].day % 2 == 0 else "b"

    _, choose = fork(Even)
    choose.execute(context(logical_date=datetime(2026, 1, 2, tzinfo=UTC)))
    assert take_decision() == FollowTasks(("a",))


def test_branch_datetime_compares_the_logical_date_with_its_bounds() -> None:
    _, op = fork(
        BranchDateTimeOperator,
        follow_task_ids_if_true=["a"],
        follow_task_ids_if_false="b",
        target_lower=time(22, 0),
        target_upper=time(2, 0),
        use_task_logical_date=True,
    )
    op.execute(context(logical_date=datetime(2026, 1, 1, 23, 30, tzinfo=UTC)))
    assert take_decision() == FollowTasks(("a",))
    op.execute(context(logical_date=datetime(2026, 1, 1, 12, 0, tzinfo=UTC)))
    assert take_decision() == FollowTasks(("b",))
    _, upper_only = fork(
        BranchDateTimeOperator,
        follow_task_ids_if_true="a",
        follow_task_ids_if_false="b",
        target_upper=datetime(2026, 6, 1),
        use_task_logical_date=True,
    )
    upper_only.execute(context())
    assert take_decision() == FollowTasks(("a",))
    with pytest.raises(DagDefinitionError, match="Both target_upper and target_lower are None"):
        fork(BranchDateTimeOperator, follow_task_ids_if_true="a", follow_task_ids_if_false="b")


def test_branch_day_of_week_takes_weekdays_and_names() -> None:
    _, op = fork(
        BranchDayOfWeekOperator,
        follow_task_ids_if_true="a",
        follow_task_ids_if_false="b",
        week_day={WeekDay.SATURDAY, "sunday"},
        use_task_logical_date=True,
    )
    op.execute(context(logical_date=datetime(2026, 1, 3, tzinfo=UTC)))  # a Saturday
    assert take_decision() == FollowTasks(("a",))
    op.execute(context(logical_date=datetime(2026, 1, 5, tzinfo=UTC)))  # a Monday
    assert take_decision() == FollowTasks(("b",))
    with pytest.raises(DagDefinitionError, match='Invalid Week Day passed: "Caturday"'):
        fork(BranchDayOfWeekOperator, follow_task_ids_if_true="a", follow_task_ids_if_false="b", week_day="Caturday")


def test_naive_datetime_bounds_and_the_week_day_are_read_in_the_dags_time_zone() -> None:
    with DAG("tokyo", start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Tokyo")):
        between = BranchDateTimeOperator(
            task_id="between",
            follow_task_ids_if_true="a",
            follow_task_ids_if_false="b",
            target_lower=time(9, 0),
            target_upper=time(10, 0),
            use_task_logical_date=True,
        )
    assert between.condition(datetime(2026, 1, 1, 0, 30, tzinfo=UTC))  # 09:30 in Tokyo
    assert not between.condition(datetime(2026, 1, 1, 9, 30, tzinfo=UTC))
    with DAG("auckland", start_date=pendulum.datetime(2026, 1, 1, tz="Pacific/Auckland")):
        saturday = BranchDayOfWeekOperator(
            task_id="saturday", follow_task_ids_if_true="a", follow_task_ids_if_false="b", week_day="Saturday"
        )
    assert saturday.condition(datetime(2026, 1, 2, 12, 0, tzinfo=UTC))  # Friday in UTC, Saturday in Auckland


def test_short_circuit_skips_all_downstream_or_only_direct_ones_on_a_falsy_result() -> None:
    _, go = fork(ShortCircuitOperator, python_callable=lambda: 5)
    assert go.execute(context()) == 5
    assert take_decision() is None
    _, stop = fork(ShortCircuitOperator, python_callable=lambda: [])
    assert stop.execute(context()) == []
    assert take_decision() == FollowTasks(skip_all_downstream=True)
    _, gentle = fork(ShortCircuitOperator, python_callable=lambda: False, ignore_downstream_trigger_rules=False)
    gentle.execute(context())
    assert take_decision() == FollowTasks(())


def test_latest_only_proceeds_for_manual_and_latest_runs_and_skips_older_ones() -> None:
    _, op = fork(LatestOnlyOperator)
    op.execute(context(run_type="manual"))
    assert take_decision() == FollowTasks(("a", "b", "c"))
    op.execute(context(run_type="scheduled", end=datetime(2026, 1, 2, tzinfo=UTC)))
    assert take_decision() == FollowTasks(())
    latest_end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if datetime.now(UTC) == latest_end:
        latest_end -= timedelta(days=1)
    op.execute(context(run_type="scheduled", end=latest_end))
    assert take_decision() == FollowTasks(("a", "b", "c"))


def test_latest_only_reads_a_cron_schedule_in_the_dags_time_zone() -> None:
    with DAG("ny", start_date=pendulum.datetime(2026, 1, 1, tz="America/New_York"), schedule="@daily"):
        op = LatestOnlyOperator(task_id="latest")
        EmptyOperator(task_id="a").set_upstream(op)
    end = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # New York's midnight, in daylight saving time
    assert op.next_window(end) == (end, datetime(2026, 3, 11, 4, 0, tzinfo=UTC))


def test_task_branch_and_short_circuit_decorators_make_those_operators() -> None:
    with DAG("d") as d:

        @task.branch
        def pick() -> str:
            return "x"

        @task.short_circuit(ignore_downstream_trigger_rules=False)
        def check() -> bool:
            return True

        pick() >> EmptyOperator(task_id="x")
        check()
    assert isinstance(d.get_task("pick"), BranchPythonOperator)
    circuit = d.get_task("check")
    assert isinstance(circuit, ShortCircuitOperator) and not circuit.ignore_downstream_trigger_rules


def test_task_bash_runs_the_returned_command_and_returns_its_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    with DAG("d") as d:

        @task.bash(env={"WHO": "world"})
        def hello(greeting: str) -> str:
            return "echo first; echo $WHO; echo {{ ds }} " + greeting

        @task.bash
        def skip() -> str:
            return "exit 99"

        @task.bash
        def nothing() -> str:
            return ""

        hello("hi")
        skip()
        nothing()
    op = d.get_task("hello")
    assert isinstance(op, BashDecoratedOperator)
    assert op.execute(context(ds="2026-01-01")) == "2026-01-01 hi"
    assert capsys.readouterr().out == "first\nworld\n2026-01-01 hi\n"
    with pytest.raises(TaskSkipped, match="exit code 99"):
        d.get_task("skip").execute(context())
    with pytest.raises(TaskFailed, match="must return a non-empty string"):
        d.get_task("nothing").execute(context())


def test_override_makes_another_task_with_other_options() -> None:
    with DAG("d") as d:

        @task(retries=1)
        def load() -> None:
            pass

        load()
        load.override(task_id="load_again", retries=3)()
    assert d.task_ids == ["load", "load_again"]
    assert (d.get_task("load").retries, d.get_task("load_again").retries) == (1, 3)


def test_multiple_outputs_is_on_when_asked_or_when_the_return_hint_is_a_dict() -> None:
    with DAG("d") as d:

        @task
        def hinted() -> dict[str, int]:
            return {"a": 1}

        @task(multiple_outputs=True)
        def asked():  # type: ignore[no-untyped-def]
            return 5

        @task
        def plain() -> list[int]:
            return [1]

        hinted()
        asked()
        plain()
    assert [d.get_task(t).multiple_outputs for t in ("hinted", "asked", "plain")] == [True, True, False]
    with pytest.raises(TaskFailed, match="returned a int; multiple_outputs expects a dict"):
        d.get_task("asked").execute({})


def test_dag_task_binds_the_decorator_to_the_dag() -> None:
    d = DAG("d")

    @d.task
    def one() -> int:
        return 1

    @d.task(retries=2)
    def two(x: int) -> int:
        return x

    two(one())
    assert d.task_ids == ["one", "two"]
    assert isinstance(d.get_task("two"), PythonOperator)
    assert d.get_task("two").upstream_task_ids == {"one"}


def test_external_task_sensor_and_marker_check_their_arguments_at_parse_time() -> None:
    with DAG("d"):
        with pytest.raises(DagDefinitionError, match="task 'a': give external_task_id or external_task_ids"):
            ExternalTaskSensor(task_id="a", external_dag_id="other", external_task_id="t", external_task_ids=["u"])
        with pytest.raises(DagDefinitionError, match="task 'b': allowed_states has 'done', not a task instance state"):
            ExternalTaskSensor(task_id="b", external_dag_id="other", external_task_id="t", allowed_states=["done"])
        with pytest.raises(DagDefinitionError, match="task 'c': allowed_states has 'skipped', not a DAG run state"):
            ExternalTaskSensor(task_id="c", external_dag_id="other", allowed_states=["skipped"])
        deferring = ExternalTaskSensor(task_id="d", external_dag_id="other", deferrable=True, poll_interval=5)
        assert deferring.deferrable and deferring.poll_interval == 5.0
        with pytest.raises(DagDefinitionError, match="task 'e': recursion_depth must be a positive integer"):
            ExternalTaskMarker(task_id="e", external_dag_id="other", external_task_id="t", recursion_depth=0)
        marker = ExternalTaskMarker(task_id="mark", external_dag_id="other", external_task_id="t")
    assert isinstance(marker, EmptyOperator) and marker.logical_date == "{{ logical_date.isoformat() }}"


def test_trigger_dag_run_rejects_what_it_cannot_do_at_parse_time() -> None:
    with DAG("d"):
        with pytest.raises(DagDefinitionError, match=r"does not support TriggerDagRunOperator\(reset_dag_run=True\)"):
            TriggerDagRunOperator(task_id="t1", trigger_dag_id="other", reset_dag_run=True)
        with pytest.raises(DagDefinitionError, match="allowed_states has 'done', not a DAG run state"):
            TriggerDagRunOperator(task_id="t2", trigger_dag_id="other", allowed_states=["done"])
        op = TriggerDagRunOperator(task_id="t3", trigger_dag_id="other", conf={"n": 1}, wait_for_completion=True)
    assert (op.allowed_states, op.failed_states, op.poke_interval) == (["success"], ["failed"], 60.0)


@pytest.mark.parametrize(
    ("output", "line"),
    [(b"a\nb\n", "b"), (b"a\nb", "b"), (b"a\n\n", ""), (b"", ""), (b"x  \r\n", "x")],
)
def test_bash_keeps_the_last_line_of_output_as_airflow_does(output: bytes, line: str) -> None:
    assert last_line(output) == line
