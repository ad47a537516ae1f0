"""A DAG with nested task groups run end to end by a real coordinator and worker."""

from __future__ import annotations

from tests.harness import Cluster, assert_eventually, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger

NESTED_GROUPS = """
from tradewind import DAG, BashOperator, TaskGroup, task, task_group

with DAG(dag_id="grouped", schedule=None, default_args={"retries": 0}):
    @task
    def start():
        return 2

    @task
    def double(n):
        return n * 2

    @task
    def add_one(n):
        return n + 1

    begun = start()
    with TaskGroup("etl", default_args={"retries": 1}) as etl:
        doubled = double(begun)
        with TaskGroup("clean", prefix_group_id=False):
            value = add_one(doubled)
            value >> BashOperator(task_id="check", bash_command="echo checked")

    @task_group
    def report(n):
        @task
        def show(n):
            print(f"total is {n}")
            return n

        return show(n)

    shown = report(value)
    etl >> BashOperator(task_id="end", bash_command="echo end")
"""


def test_a_dag_with_nested_groups_runs_every_task_in_dependency_order(cluster: Cluster) -> None:
    write_dag(cluster.dags, "grouped.py", NESTED_GROUPS)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "grouped")
    assert finished_run(cluster, "grouped", run_id, timeout=90)["state"] == "success"
    states = tis(cluster, "grouped", run_id)
    assert {task_id: row["state"] for task_id, row in states.items()} == {
        "start": "success",
        "etl.double": "success",
        "add_one": "success",
        "check": "success",
        "report.show": "success",
        "end": "success",
    }
    assert "total is 5" in cluster.cli("tasks", "logs", "grouped", run_id, "report.show").stdout
    with cluster.client() as client:
        tasks = {t.task_id: t for t in assert_eventually(lambda: client.get_dag("grouped").tasks, 30, "the DAG")}
    assert {t.task_id: t.group_id for t in tasks.values()} == {
        "start": "",
        "etl.double": "etl",
        "add_one": "etl.clean",
        "check": "etl.clean",
        "report.show": "report",
        "end": "",
    }
    assert sorted(tasks["end"].upstream_task_ids) == ["check"]
    assert tasks["etl.double"].retries == 1 and tasks["start"].retries == 0


# Written as Airflow's documentation writes groups: no word of Tradewind in it.
AIRFLOW_GROUPS = """
import pendulum

from airflow.sdk import DAG, task, task_group
from airflow.utils.task_group import TaskGroup
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator


@task
def begin():
    return 10


@task
def add(value, amount):
    return value + amount


@task_group
def adjust(value):
    \"\"\"Adds one, then two.\"\"\"
    return add(add(value, 1), 2)


@task
def report(values):
    print(f"results {values}")


with DAG(dag_id="airflow_groups", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    start = begin()
    results = [adjust(start) for _ in range(3)]
    with TaskGroup("checks", tooltip="Checks after the sums") as checks:
        EmptyOperator(task_id="ok") >> BashOperator(task_id="echo", bash_command="echo checked")
    results >> checks
    checks >> report(results)
"""


def test_an_airflow_dag_file_with_task_groups_runs_as_on_airflow(cluster: Cluster) -> None:
    write_dag(cluster.dags, "airflow_groups.py", AIRFLOW_GROUPS)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "airflow_groups")
    assert finished_run(cluster, "airflow_groups", run_id, timeout=90)["state"] == "success"
    states = {task_id: row["state"] for task_id, row in tis(cluster, "airflow_groups", run_id).items()}
    groups = ["adjust", "adjust__1", "adjust__2"]
    assert states == {
        "begin": "success",
        **{f"{g}.{t}": "success" for g in groups for t in ("add", "add__1")},
        "checks.ok": "success",
        "checks.echo": "success",
        "report": "success",
    }
    assert "results [13, 13, 13]" in cluster.cli("tasks", "logs", "airflow_groups", run_id, "report").stdout
    with cluster.client() as client:
        tasks = {t.task_id: t for t in client.get_dag("airflow_groups").tasks}
    assert sorted(tasks["checks.ok"].upstream_task_ids) == [f"{g}.add__1" for g in groups]
    assert sorted(tasks["report"].upstream_task_ids) == [*(f"{g}.add__1" for g in groups), "checks.echo"]
