"""Dynamic task mapping in the SDK: parse-time checks, what is serialized for the scheduler, and
a mapped instance run with its own arguments."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tradewind import DAG, BashOperator, PythonOperator, task
from tradewind.exceptions import DagDefinitionError
from tradewind.execution import run_python_task
from tradewind.serialization import serialize_dag
from tradewind.templates import build_context


@task
def add(x: int, y: int = 0) -> int:
    return x + y


@task(multiple_outputs=True)
def split() -> dict[str, Any]:
    return {"items": [1, 2]}


def mapping_of(dag: DAG, task_id: str) -> Any:
    return next(t for t in serialize_dag(dag, "f.py")["tasks"] if t["task_id"] == task_id).get("mapping")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: add.expand(x=3), "expand() argument 'x' must be a list, a dict or an XComArg, not int"),
        (lambda: add.expand(z=[1]), "expand() got an unexpected argument 'z'"),
        (lambda: add.expand(), "expand() needs at least one argument"),
        (lambda: add.partial(x=1).expand(x=[2]), "'x' is given to both partial() and expand()"),
        (lambda: add.expand_kwargs(5), "expand_kwargs() takes a list of dicts or an XComArg, not int"),
        (
            lambda: BashOperator.partial(task_id="b", bash_command="true").expand(retries=[1]),
            "cannot map over 'retries'; pass it to partial() instead",
        ),
        (lambda: add.partial(y=1)(2), "after partial(), call expand() or expand_kwargs(), not the task"),
    ],
)
def test_a_mapping_airflow_refuses_is_refused_at_parse_time(build: Any, message: str) -> None:
    with DAG("d", schedule=None), pytest.raises(DagDefinitionError, match=re.escape(message)):
        build()


def test_the_mapping_names_each_argument_in_order_with_its_literal_or_the_xcom_it_reads() -> None:
    with DAG("d", schedule=None) as dag:
        produced = split()
        add.partial(y=1).expand(x=produced["items"])
        classic = PythonOperator(task_id="classic", python_callable=lambda: [1])
        PythonOperator.partial(task_id="mapped", python_callable=print).expand(op_args=classic.output)
        add.override(task_id="both").expand(y=[1, 2], x={"a": 1})
    assert mapping_of(dag, "add") == {
        "kind": "dict",
        "target": "op_kwargs",
        "group": "",
        "args": [["x", {"xcom": ["split", "return_value", ["items"]]}]],
    }
    assert mapping_of(dag, "mapped")["args"] == [["op_args", {"xcom": ["classic", "return_value", []]}]]
    assert mapping_of(dag, "mapped")["target"] == "attributes"
    assert [name for name, _ in mapping_of(dag, "both")["args"]] == ["y", "x"]
    upstream = {t["task_id"]: t["upstream"] for t in serialize_dag(dag, "f.py")["tasks"]}
    assert upstream["add"] == ["split"] and upstream["mapped"] == ["classic"]


DAG_FILE = """
from tradewind import DAG, PythonOperator, task, task_group

with DAG("flow", schedule=None):
    @task
    def add(x, y):
        return x + y

    add.partial(y=100).expand(x=[1, 2])
    PythonOperator.partial(task_id="classic", python_callable=lambda a, b: a - b).expand(op_args=[[5, 1]])

    @task
    def label(name, suffix):
        return f"{name}{suffix}"

    @task_group
    def per_name(name):
        return label(name, "!")

    per_name.expand(name=["a", "b"])

    @task
    def texts():
        return ["{{ run_id }}"]

    @task
    def echo(text):
        return text

    echo.expand(text=["{{ run_id }}"])
    echo.override(task_id="echo_xcom").expand(text=texts())
"""


def run(tmp_path: Path, task_id: str, mapped: dict[str, Any]) -> Any:
    (tmp_path / "flow.py").write_text(DAG_FILE)
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    context = build_context(
        dag_id="flow",
        task_id=task_id,
        run_id="r",
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=moment,
        params={},
        conf={},
        try_number=1,
        run_type="manual",
    )
    return run_python_task(tmp_path, "flow.py", "flow", task_id, {}, context, mapped=mapped)


def test_a_mapped_instance_runs_with_its_own_arguments(tmp_path: Path) -> None:
    assert run(tmp_path, "add", {"x": 2}) == 102
    assert run(tmp_path, "classic", {"op_args": [9, 4]}) == 5
    assert run(tmp_path, "per_name.label", {"name": "b"}) == "b!"


def test_a_mapped_value_written_in_the_dag_file_renders_and_one_from_an_xcom_does_not(tmp_path: Path) -> None:
    assert run(tmp_path, "echo", {"text": "{{ run_id }}"}) == "r"
    assert run(tmp_path, "echo_xcom", {"text": "{{ run_id }}"}) == "{{ run_id }}"
