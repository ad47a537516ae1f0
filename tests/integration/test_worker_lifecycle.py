"""Worker behaviour with real processes: timeouts, SIGTERM drain, reconnecting to a restarted coordinator."""

from __future__ import annotations

import json
import signal

from tests.harness import Cluster, assert_eventually, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger


def test_execution_timeout_kills_the_task(cluster: Cluster) -> None:
    write_dag(
        cluster.dags,
        "slow.py",
        """
from tradewind import DAG, BashOperator

with DAG(dag_id="too_slow", schedule=None):
    BashOperator(task_id="sleepy", bash_command="echo going to sleep; sleep 60", execution_timeout=1)
""",
    )
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "too_slow")
    assert finished_run(cluster, "too_slow", run_id, timeout=30)["state"] == "failed"
    detail = json.loads(cluster.cli("tasks", "show", "too_slow", run_id, "sleepy", "--json").stdout)
    assert detail["attempts"][0]["error"] == "execution_timeout of 1s exceeded"
    assert "going to sleep" in cluster.cli("tasks", "logs", "too_slow", run_id, "sleepy").stdout


def test_sigterm_lets_running_tasks_finish_then_the_worker_exits(cluster: Cluster) -> None:
    marker = cluster.home / "started"
    write_dag(
        cluster.dags,
        "drain.py",
        f"""
from tradewind import DAG, BashOperator

with DAG(dag_id="drain", schedule=None):
    BashOperator(task_id="work", bash_command="touch {marker}; sleep 2; echo finished")
""",
    )
    cluster.coordinator()
    worker = cluster.worker("w1")
    run_id = trigger(cluster, "drain")
    assert_eventually(marker.exists, 30, "the task to start")
    worker.kill(signal.SIGTERM)
    assert worker.popen.wait(timeout=30) == 0
    assert finished_run(cluster, "drain", run_id)["state"] == "success"
    assert tis(cluster, "drain", run_id)["work"]["try_number"] == 1


def test_python_tasks_pass_xcoms_and_follow_logs(cluster: Cluster) -> None:
    write_dag(
        cluster.dags,
        "flow.py",
        """
from tradewind import dag, task

@dag(schedule=None)
def flow():
    @task
    def numbers():
        return [1, 2, 3]

    @task
    def total(values):
        print("adding", values)
        return sum(values)

    total(numbers())

flow()
""",
    )
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "flow")
    assert finished_run(cluster, "flow", run_id)["state"] == "success"
    follow = cluster.cli("tasks", "logs", "flow", run_id, "total", "--follow").stdout
    assert "adding [1, 2, 3]" in follow
