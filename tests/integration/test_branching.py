"""Branching, short-circuit, latest-only, TaskFlow decorators and triggering another DAG, end to
end with real processes: a coordinator and a worker on loopback."""

from __future__ import annotations

from tests.harness import Cluster, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger

BRANCHING = """
from tradewind import DAG, BashOperator, EmptyOperator, task

with DAG(dag_id="branching", schedule=None):
    count = BashOperator(task_id="count", bash_command="echo noise; echo 2")

    @task.branch
    def pick(n):
        return "small" if int(n) < 5 else "large"

    @task
    def small():
        return {"total": 2, "unit": "kg"}

    @task
    def report(total, unit, ti=None):
        print(f"reported {total} {unit}; the unit XCom is {ti.xcom_pull(task_ids='small', key='unit')}")

    @task.bash
    def shout(total):
        return f"echo loud {total}"

    large = EmptyOperator(task_id="large")
    after_large = EmptyOperator(task_id="after_large")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    chosen = pick(count.output)
    parts = small.override(multiple_outputs=True)()
    chosen >> [parts.operator, large]
    large >> after_large
    spoken = shout(parts["total"])
    report(parts["total"], parts["unit"]) >> join
    [after_large, spoken.operator] >> join

    @task.branch
    def stray():
        return "join"

    stray() >> EmptyOperator(task_id="next_to_stray")
"""

SHORT_CIRCUIT = """
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.latest_only import LatestOnlyOperator
from airflow.providers.standard.operators.python import ShortCircuitOperator

with DAG(dag_id="circuits", schedule=None):
    stop_all = ShortCircuitOperator(task_id="stop_all", python_callable=lambda: 0)
    first = EmptyOperator(task_id="first")
    done_anyway = EmptyOperator(task_id="done_anyway", trigger_rule="all_done")
    stop_all >> first >> done_anyway

    stop_near = ShortCircuitOperator(
        task_id="stop_near", python_callable=lambda: [], ignore_downstream_trigger_rules=False
    )
    near = EmptyOperator(task_id="near")
    runs_by_rule = EmptyOperator(task_id="runs_by_rule", trigger_rule="all_done")
    stop_near >> near >> runs_by_rule

    latest = LatestOnlyOperator(task_id="latest")
    latest >> EmptyOperator(task_id="after_latest")
"""

TRIGGERS = """
from airflow.sdk import DAG, get_current_context, task
from airflow.operators.bash import BashOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator

with DAG(dag_id="parent", schedule=None):
    start = TriggerDagRunOperator(
        task_id="start_child",
        trigger_dag_id="child",
        trigger_run_id="from_parent",
        conf={"size": 7},
        wait_for_completion=True,
        poke_interval=0.5,
    )

    @task
    def report(ti=None):
        print("child run", ti.xcom_pull(task_ids="start_child", key="trigger_run_id"))
        print("return value", ti.xcom_pull(task_ids="start_child"))
        print("running", get_current_context()["ti"].task_id)

    start >> report()

with DAG(dag_id="child", schedule=None):
    BashOperator(task_id="work", bash_command="echo child got {{ dag_run.conf['size'] }}")

with DAG(dag_id="parent_again", schedule=None):
    TriggerDagRunOperator(
        task_id="again_skipped", trigger_dag_id="child", trigger_run_id="from_parent", skip_when_already_exists=True
    )
    TriggerDagRunOperator(task_id="again_failed", trigger_dag_id="child", trigger_run_id="from_parent")
    TriggerDagRunOperator(
        task_id="wait_failing", trigger_dag_id="failing_child", wait_for_completion=True, poke_interval=0.5
    )

with DAG(dag_id="failing_child", schedule=None):
    BashOperator(task_id="boom", bash_command="exit 1")
"""


def test_branches_skip_what_was_not_chosen_and_outputs_flow_between_tasks(cluster: Cluster) -> None:
    write_dag(cluster.dags, "branching.py", BRANCHING)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "branching")
    assert finished_run(cluster, "branching", run_id, timeout=90)["state"] == "failed"  # only `stray` fails
    states = {task_id: row["state"] for task_id, row in tis(cluster, "branching", run_id).items()}
    assert states == {
        "count": "success",
        "pick": "success",
        "small": "success",
        "large": "skipped",
        "after_large": "skipped",
        "report": "success",
        "shout": "success",
        "join": "success",
        "stray": "failed",
        "next_to_stray": "upstream_failed",
    }
    logs = {t: cluster.cli("tasks", "logs", "branching", run_id, t).stdout for t in ("report", "shout", "stray")}
    assert "reported 2 kg; the unit XCom is kg" in logs["report"]
    assert "loud 2" in logs["shout"]
    assert "chose task 'join', which is not a direct downstream task" in logs["stray"]


def test_short_circuits_and_latest_only_from_an_airflow_dag_file(cluster: Cluster) -> None:
    write_dag(cluster.dags, "circuits.py", SHORT_CIRCUIT)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "circuits")
    assert finished_run(cluster, "circuits", run_id, timeout=90)["state"] == "success"
    states = {task_id: row["state"] for task_id, row in tis(cluster, "circuits", run_id).items()}
    assert states == {
        "stop_all": "success",
        "first": "skipped",
        "done_anyway": "skipped",
        "stop_near": "success",
        "near": "skipped",
        "runs_by_rule": "success",
        "latest": "success",
        "after_latest": "success",  # a manual run is always the latest
    }


def test_trigger_dag_run_starts_the_other_dag_with_its_conf_and_waits_for_it(cluster: Cluster) -> None:
    """Written for Airflow: the run id goes to the "trigger_run_id" XCom and nothing is returned."""
    write_dag(cluster.dags, "triggers.py", TRIGGERS)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "parent")
    assert finished_run(cluster, "parent", run_id, timeout=90)["state"] == "success"
    assert finished_run(cluster, "child", "from_parent")["state"] == "success"
    assert "child got 7" in cluster.cli("tasks", "logs", "child", "from_parent", "work").stdout
    parent_log = cluster.cli("tasks", "logs", "parent", run_id, "start_child").stdout
    assert "Triggered DAG 'child': run 'from_parent'" in parent_log
    report_log = cluster.cli("tasks", "logs", "parent", run_id, "report").stdout
    assert "child run from_parent" in report_log and "return value None" in report_log
    assert "running report" in report_log

    again = trigger(cluster, "parent_again")
    assert finished_run(cluster, "parent_again", again, timeout=90)["state"] == "failed"
    states = {task_id: row["state"] for task_id, row in tis(cluster, "parent_again", again).items()}
    assert states == {"again_skipped": "skipped", "again_failed": "failed", "wait_failing": "failed"}
    failed_log = cluster.cli("tasks", "logs", "parent_again", again, "again_failed").stdout
    assert "DAG 'child' already has a run with run_id 'from_parent'" in failed_log
    waiting_log = cluster.cli("tasks", "logs", "parent_again", again, "wait_failing").stdout
    assert "failing_child failed with failed state failed" in waiting_log
