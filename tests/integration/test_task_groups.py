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
