"""dag.test(): a DAG file run with plain `python`, no coordinator running: one whole run through
the real engine and a worker child, each task's log on stdout, the finished run returned."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tradewind import DAG, BashOperator
from tradewind.dagbag import load_dag_file
from tradewind.exceptions import DagDefinitionError

BRANCHING = """
from datetime import datetime, timedelta
from tradewind import DAG, BashOperator, task

with DAG(dag_id="branching", schedule="@daily", start_date=datetime(2024, 1, 1), is_paused_upon_creation=True) as dag:
    @task
    def measure():
        print("measured")
        return {"n": 3}

    @task.branch
    def choose(value):
        return "big" if value["n"] > 2 else "small"

    @task
    def big(value):
        print("big got", value["n"])
        return value["n"] * 2

    @task
    def small():
        print("small ran")

    @task(retries=1, retry_delay=timedelta(seconds=0))
    def broken():
        print("about to fail")
        raise ValueError("this task always fails")

    value = measure()
    choose(value) >> [big(value), small()]
    pulled = "{{ ti.xcom_pull(task_ids='measure')['n'] }}"
    value >> BashOperator(task_id="templated", bash_command="echo {{ ds }} n=" + pulled)
    broken()
    BashOperator(task_id="ledger", bash_command="echo {{ run_id }} >> LEDGER")

if __name__ == "__main__":
    run = dag.test(logical_date=datetime(2024, 3, 1), run_conf={"who": "test"})
    print("RUN", run.run_id, run.run_type, run.state, run.conf)
    for ti in run.get_task_instances():
        print("TI", ti.task_id, ti.state, ti.try_number, ti.xcoms.get("return_value"))
"""

AIRFLOW = """
from airflow.sdk import DAG, task

with DAG(dag_id="from_airflow", schedule=None) as dag:
    @task
    def hello():
        print("hello from an Airflow DAG file")

    hello()

if __name__ == "__main__":
    print("RUN", dag.test().state)
"""


def run_file(tmp_path: Path, source: str, *prefix: str) -> subprocess.CompletedProcess[str]:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "the_dag.py").write_text(source)
    return subprocess.run(
        [sys.executable, *prefix, str(dags / "the_dag.py")], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )


def test_a_dag_file_run_with_python_tests_its_dag_branching_xcoms_templates_retries_and_a_failure(
    tmp_path: Path,
) -> None:
    result = run_file(tmp_path, BRANCHING.replace("LEDGER", str(tmp_path / "ledger")))
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "RUN manual__2024-03-01T00:00:00+00:00 manual failed {'who': 'test'}" in out
    tis = {line.split()[1]: line.split()[2:] for line in out.splitlines() if line.startswith("TI ")}
    assert tis == {
        "measure": ["success", "1", "{'n':", "3}"],
        "choose": ["success", "1", "big"],
        "big": ["success", "1", "6"],
        "small": ["skipped", "0", "None"],
        "templated": ["success", "1", "2024-03-01", "n=3"],
        "broken": ["failed", "2", "None"],
        "ledger": ["success", "1"],
    }
    # the DAG is scheduled and paused upon creation: the test run ran, and it was the only run
    assert (tmp_path / "ledger").read_text() == "manual__2024-03-01T00:00:00+00:00\n"
    # each try's log, as it ended
    assert "[branching] big try 1: success\nbig got 3\n" in out
    assert "[branching] small: skipped\n" in out
    assert "[branching] templated try 1: success\n2024-03-01 n=3\n" in out
    assert "[branching] broken try 1: up_for_retry\nabout to fail\n" in out
    assert "[branching] broken try 2: failed\nabout to fail\n" in out and "this task always fails" in out


def test_an_airflow_dag_file_runs_its_dag_test_through_the_airflow_imports(tmp_path: Path) -> None:
    result = run_file(tmp_path, AIRFLOW, "-m", "coordinator.dag_test")
    assert result.returncode == 0, result.stderr
    assert "[from_airflow] hello try 1: success\nhello from an Airflow DAG file\n" in result.stdout
    assert result.stdout.endswith("RUN success\n")


@pytest.mark.parametrize("argument", ["conn_file_path", "variable_file_path", "mark_success_pattern"])
def test_unsupported_arguments_are_errors_naming_them(argument: str) -> None:
    dag = DAG(dag_id="x", schedule=None)
    message = rf"DAG 'x': Tradewind does not support dag.test\({argument}=...\) yet"
    with pytest.raises(DagDefinitionError, match=message):
        dag.test(**{argument: "value"})


def test_dag_test_while_the_file_is_loaded_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loads.py"
    path.write_text(
        "from tradewind import DAG, BashOperator\n"
        "with DAG(dag_id='x', schedule=None) as dag:\n"
        "    BashOperator(task_id='a', bash_command='true')\n"
        "dag.test()\n"
    )
    with pytest.raises(DagDefinitionError, match="dag.test\\(\\) runs from a script"):
        load_dag_file(path, tmp_path)


def test_a_bad_run_conf_is_a_clear_error() -> None:
    with DAG(dag_id="x", schedule=None) as dag:
        BashOperator(task_id="a", bash_command="true")
    with pytest.raises(DagDefinitionError, match="run_conf must be a dict, not 'a=1'"):
        dag.test(run_conf="a=1")  # type: ignore[arg-type]


def test_airflow_2s_execution_date_and_unknown_arguments_are_named() -> None:
    dag = DAG(dag_id="x", schedule=None)
    with pytest.raises(DagDefinitionError, match=r"execution_date=...\) is Airflow 2's name; write logical_date"):
        dag.test(execution_date=None)
    with pytest.raises(DagDefinitionError, match="dag.test\\(\\) has no argument 'sessio'"):
        dag.test(sessio=1)
