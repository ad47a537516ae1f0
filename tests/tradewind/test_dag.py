from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tradewind import DAG, BashOperator, EmptyOperator, PythonOperator, chain, dag, task
from tradewind.dagbag import load_dag_file
from tradewind.exceptions import DagDefinitionError
from tradewind.serialization import dag_hash, serialize_dag


def test_shift_operators_accept_lists_on_either_side() -> None:
    with DAG("d") as d:
        a, b, c, e = (EmptyOperator(task_id=n) for n in "abce")
        a >> [b, c] >> e
        [a] << EmptyOperator(task_id="z")
    assert d.task_dict["e"].upstream_task_ids == {"b", "c"}
    assert d.task_dict["a"].upstream_task_ids == {"z"}


def test_chain_pairs_equal_length_lists() -> None:
    with DAG("d") as d:
        a, b1, b2, c1, c2, e = (EmptyOperator(task_id=n) for n in ("a", "b1", "b2", "c1", "c2", "e"))
        chain(a, [b1, b2], [c1, c2], e)
    assert d.task_dict["c1"].upstream_task_ids == {"b1"}
    assert d.task_dict["c2"].upstream_task_ids == {"b2"}
    assert d.task_dict["e"].upstream_task_ids == {"c1", "c2"}


def test_default_args_fill_in_and_explicit_arguments_win() -> None:
    with DAG("d", default_args={"retries": 3, "queue": "q", "retry_delay": timedelta(seconds=7)}):
        inherited = BashOperator(task_id="a", bash_command="true")
        explicit = BashOperator(task_id="b", bash_command="true", retries=1)
    assert (inherited.retries, inherited.queue, inherited.retry_delay) == (3, "q", 7.0)
    assert explicit.retries == 1


def test_a_cycle_is_an_error_naming_the_dag_the_file_and_the_cycle(tmp_path: Path) -> None:
    (tmp_path / "loop.py").write_text(
        "from tradewind import DAG, EmptyOperator\n"
        "with DAG('looping') as d:\n"
        "    a = EmptyOperator(task_id='a'); b = EmptyOperator(task_id='b')\n"
        "    a >> b >> a\n"
    )
    with pytest.raises(DagDefinitionError, match=r"DAG 'looping' in loop.py: cycle between tasks a -> b -> a"):
        load_dag_file(tmp_path / "loop.py", tmp_path)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: [EmptyOperator(task_id="x"), EmptyOperator(task_id="x")], "DAG 'd': duplicate task id 'x'"),
        (lambda: EmptyOperator(task_id="x", trigger_rule="sometimes"), "unknown trigger rule 'sometimes'"),
        (lambda: EmptyOperator(task_id="bad id"), "task_id 'bad id' is not valid"),
        (lambda: EmptyOperator(task_id="x", colour="red"), "unknown argument 'colour' for EmptyOperator"),
        (lambda: EmptyOperator(task_id="x", retries=-1), "retries must be an integer of at least 0"),
    ],
)
def test_bad_tasks_are_errors_naming_dag_and_task(build, message: str) -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match=message):
        build()


def test_task_depending_on_itself_is_an_error() -> None:
    with DAG("d"):
        a = EmptyOperator(task_id="a")
        with pytest.raises(DagDefinitionError, match="task 'a' depends on itself"):
            a >> a


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("every day", "not a valid cron expression"),
        ("@sometimes", "unknown schedule preset"),
        (timedelta(0), "must be positive"),
    ],
)
def test_bad_schedules_are_errors(schedule: object, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        DAG("d", schedule=schedule, start_date=datetime(2024, 1, 1))


def test_a_scheduled_dag_needs_a_start_date() -> None:
    with pytest.raises(DagDefinitionError, match="DAG 'd': a scheduled DAG needs a start_date"):
        DAG("d", schedule="@daily")


def test_taskflow_wires_dependencies_and_records_xcom_inputs() -> None:
    @dag(schedule=None)
    def flow():
        @task
        def one() -> int:
            return 1

        @task(retries=2)
        def add(x: int, y: int) -> int:
            return x + y

        first = one()
        add(first, add(first, 1))

    built = flow()
    assert set(built.task_dict) == {"one", "add", "add__1"}
    assert built.task_dict["add__1"].upstream_task_ids == {"one", "add"}
    data = serialize_dag(built, "flow.py")
    tasks = {t["task_id"]: t for t in data["tasks"]}
    assert tasks["add__1"]["python"]["xcom_inputs"] == [["one", "return_value"], ["add", "return_value"]]
    assert tasks["add"]["retries"] == 2


def test_serialization_is_stable_and_naive_dates_are_utc() -> None:
    def build() -> DAG:
        with DAG("d", schedule="@daily", start_date=datetime(2024, 1, 1), tags=["t"], params={"n": 1}) as d:
            BashOperator(task_id="a", bash_command="echo {{ ds }}") >> PythonOperator(
                task_id="b", python_callable=print
            )
        return d

    first, second = serialize_dag(build(), "d.py"), serialize_dag(build(), "d.py")
    assert dag_hash(first) == dag_hash(second)
    assert first["start_date"] == datetime(2024, 1, 1, tzinfo=UTC).isoformat()
    assert first["schedule"] == {"kind": "preset", "expr": "@daily"}
    assert first["tasks"][1]["upstream"] == ["a"]


def test_two_files_with_the_same_name_in_subfolders_do_not_collide(tmp_path: Path) -> None:
    for sub in ("one", "two"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "etl.py").write_text(f"from tradewind import DAG\nd = DAG('etl_{sub}')\n")
    assert [d.dag_id for d in load_dag_file(tmp_path / "one" / "etl.py", tmp_path)] == ["etl_one"]
    assert [d.dag_id for d in load_dag_file(tmp_path / "two" / "etl.py", tmp_path)] == ["etl_two"]
