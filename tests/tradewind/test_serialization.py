from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tradewind import DAG, BaseOperator, BashOperator, EmptyOperator, PythonOperator, TriggerRule, task
from tradewind.exceptions import DagDefinitionError, SerializationError
from tradewind.serialization import dag_hash, serialize_dag, xcom_inputs_of


class Notify(BaseOperator):
    template_fields = ("message",)

    def __init__(self, *, message: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def execute(self, context: dict[str, Any]) -> str:
        return str(self.message)


def transform(rows: list, factor: int = 1) -> int:
    return len(rows) * factor


def build() -> DAG:
    with DAG(
        "etl",
        description="Nightly ETL",
        schedule="0 3 * * *",
        start_date=datetime(2024, 1, 1),
        catchup=True,
        default_args={"owner": "data", "retries": 2},
        tags=["etl", "nightly"],
        params={"table": "sales", "limit": 10},
        max_active_runs=1,
    ) as d:
        start = EmptyOperator(task_id="start")
        extract = BashOperator(
            task_id="extract",
            bash_command="dump {{ params.table }} {{ ds }}",
            env={"DAY": "{{ ds }}"},
            skip_on_exit_code=[99, 100],
            execution_timeout=timedelta(minutes=10),
        )
        load = PythonOperator(
            task_id="load",
            python_callable=transform,
            op_args=[[1, 2]],
            op_kwargs={"factor": 3},
            pool="db",
            pool_slots=2,
        )

        @task(trigger_rule=TriggerRule.ALL_DONE, priority_weight=5, weight_rule="absolute")
        def report(count: int) -> str:
            return f"{count} rows"

        start >> extract >> load
        Notify(task_id="notify", message=report(load.output), retry_exponential_backoff=True, max_retry_delay=60)
    return d


def test_a_realistic_dag_serializes_to_the_coordinator_format() -> None:
    data = serialize_dag(build(), "team/etl.py")
    assert json.loads(json.dumps(data)) == data
    top = {k: v for k, v in data.items() if k != "tasks"}
    assert top == {
        "format": 2,
        "dag_id": "etl",
        "fileloc": "team/etl.py",
        "description": "Nightly ETL",
        "owner": "data",
        "schedule": {"kind": "cron", "expr": "0 3 * * *"},
        "start_date": "2024-01-01T00:00:00+00:00",
        "end_date": None,
        "timezone": "UTC",
        "catchup": True,
        "dagrun_timeout": None,
        "callbacks": [],
        "max_active_runs": 1,
        "max_active_tasks": 16,
        "tags": ["etl", "nightly"],
        "params": {"table": "sales", "limit": 10},
        "param_schemas": {},
        "user_defined_macros": {},
        "is_paused_upon_creation": None,
        "task_groups": [],
    }
    tasks = {t["task_id"]: t for t in data["tasks"]}
    assert list(tasks) == ["start", "extract", "load", "report", "notify"]
    assert tasks["start"]["kind"] == "empty" and "bash" not in tasks["start"] and "python" not in tasks["start"]
    assert tasks["extract"] == {
        "task_id": "extract",
        "operator": "BashOperator",
        "kind": "bash",
        "upstream": ["start"],
        "trigger_rule": "all_success",
        "retries": 2,
        "retry_delay": 300.0,
        "retry_exponential_backoff": False,
        "max_retry_delay": None,
        "queue": "default",
        "pool": "default_pool",
        "pool_slots": 1,
        "priority_weight": 1,
        "weight_rule": "downstream",
        "execution_timeout": 600.0,
        "do_xcom_push": True,
        "params": {},
        "param_schemas": {},
        "group_id": "",
        "bash": {
            "bash_command": "dump {{ params.table }} {{ ds }}",
            "env": {"DAY": "{{ ds }}"},
            "append_env": False,
            "cwd": None,
            "skip_on_exit_code": [99, 100],
        },
    }
    assert tasks["load"]["python"] == {
        "callable": f"{__name__}.transform",
        "xcom_inputs": [],
        "op_args_repr": "[[1, 2]]",
        "op_kwargs_repr": "{'factor': 3}",
    }
    assert (tasks["load"]["pool"], tasks["load"]["pool_slots"]) == ("db", 2)
    report = tasks["report"]
    assert (report["upstream"], report["trigger_rule"], report["priority_weight"], report["weight_rule"]) == (
        ["load"],
        "all_done",
        5,
        "absolute",
    )
    assert report["python"]["xcom_inputs"] == [["load", "return_value"]]
    assert report["python"]["callable"].endswith("build.<locals>.report")
    notify = tasks["notify"]
    assert (notify["kind"], notify["operator"], notify["upstream"]) == ("python", "Notify", ["report"])
    assert notify["python"]["callable"] == f"{__name__}.Notify.execute"
    assert notify["python"]["xcom_inputs"] == [["report", "return_value"]]
    assert (notify["retry_exponential_backoff"], notify["max_retry_delay"]) == (True, 60.0)


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (None, None),
        ("@daily", {"kind": "preset", "expr": "@daily"}),
        ("@once", {"kind": "once"}),
        (timedelta(minutes=90), {"kind": "delta", "seconds": 5400.0}),
    ],
)
def test_schedules(schedule: object, expected: object) -> None:
    d = DAG("d", schedule=schedule, start_date=datetime(2024, 1, 1, tzinfo=UTC))
    assert serialize_dag(d, "d.py")["schedule"] == expected


def test_the_hash_is_stable_and_changes_with_the_dag() -> None:
    first, second = serialize_dag(build(), "etl.py"), serialize_dag(build(), "etl.py")
    assert dag_hash(first) == dag_hash(second)
    assert len(dag_hash(first)) == 64
    second["tasks"][1]["retries"] = 5
    assert dag_hash(first) != dag_hash(second)


def test_argument_reprs_carry_no_memory_addresses() -> None:
    with DAG("d") as d:
        PythonOperator(task_id="p", python_callable=print, op_args=[object(), {"b", "a"}])
    python = serialize_dag(d, "d.py")["tasks"][0]["python"]
    assert python["op_args_repr"] == "[<object object>, {'a', 'b'}]"


def test_a_param_that_is_not_json_is_an_error_naming_dag_and_param() -> None:
    d = DAG("d", params={"when": datetime(2024, 1, 1)})
    with pytest.raises(SerializationError, match="DAG 'd' in d.py: param 'when' is not JSON"):
        serialize_dag(d, "d.py")


def test_a_custom_operator_without_execute_cannot_be_serialized() -> None:
    class Nothing(BaseOperator):
        pass

    with DAG("d") as d:
        Nothing(task_id="n")
    with pytest.raises(SerializationError, match="DAG 'd': task 'n': Nothing defines no execute"):
        serialize_dag(d, "d.py")


def test_a_cycle_made_without_a_with_block_is_caught_when_serializing() -> None:
    d = DAG("d")
    a, b = EmptyOperator(task_id="a", dag=d), EmptyOperator(task_id="b", dag=d)
    a >> b >> a
    with pytest.raises(DagDefinitionError, match="DAG 'd': cycle between tasks a -> b -> a"):
        serialize_dag(d, "d.py")


def test_xcom_inputs_are_listed_once_in_order() -> None:
    with DAG("d") as d:
        a = PythonOperator(task_id="a", python_callable=print)
        b = PythonOperator(task_id="b", python_callable=print)
        c = PythonOperator(
            task_id="c", python_callable=print, op_args=[b.output, a.output["x"]], op_kwargs={"again": b.output}
        )
    assert xcom_inputs_of(c) == [("b", "return_value"), ("a", "return_value")]
    assert d.get_task("c").upstream_task_ids == {"a", "b"}
