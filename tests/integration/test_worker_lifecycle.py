"""Worker behaviour with real processes: timeouts, SIGTERM drain, keeping a task through a coordinator
kill and restart, and logs that follow a running task."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

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


def test_a_worker_keeps_its_task_through_a_coordinator_kill_and_restart(cluster: Cluster) -> None:
    started, release = cluster.home / "started", cluster.home / "release"
    write_dag(
        cluster.dags,
        "long.py",
        f"""
from tradewind import DAG, BashOperator

with DAG(dag_id="outlives", schedule=None):
    BashOperator(
        task_id="work",
        bash_command="touch {started}; for i in $(seq 600); do [ -e {release} ] && break; sleep 0.1; done; "
        "echo finished",
    )
""",
    )
    coordinator = cluster.coordinator()
    worker = cluster.worker("w1")
    run_id = trigger(cluster, "outlives")
    assert_eventually(started.exists, 30, "the task to start")

    coordinator.kill_group()
    cluster.coordinator(port=cluster.port)

    def reclaimed() -> bool:
        workers = {w["name"]: w for w in json.loads(cluster.cli("workers", "list", "--json").stdout)}
        return workers.get("w1", {}).get("state") == "active" and workers["w1"].get("running") == 1

    assert_eventually(reclaimed, 30, "the worker to rejoin the restarted coordinator with its task")
    assert tis(cluster, "outlives", run_id)["work"]["state"] == "running"
    release.touch()
    assert finished_run(cluster, "outlives", run_id)["state"] == "success"
    assert worker.popen.poll() is None, "the worker exited instead of reconnecting"
    detail = json.loads(cluster.cli("tasks", "show", "outlives", run_id, "work", "--json").stdout)
    assert detail["task_instance"]["try_number"] == 1
    assert [a["try_number"] for a in detail["attempts"]] == [1]
    assert "finished" in cluster.cli("tasks", "logs", "outlives", run_id, "work").stdout


def test_python_tasks_pass_xcoms_and_logs_follow_a_running_task(cluster: Cluster) -> None:
    go = cluster.home / "go"
    write_dag(
        cluster.dags,
        "flow.py",
        f"""
import os, time
from tradewind import dag, task

@dag(schedule=None)
def flow():
    @task
    def numbers():
        return [1, 2, 3]

    @task
    def total(values):
        print("adding", values, flush=True)
        give_up = time.monotonic() + 60
        while not os.path.exists({str(go)!r}) and time.monotonic() < give_up:
            time.sleep(0.05)
        print("added them up", flush=True)
        return sum(values)

    total(numbers())

flow()
""",
    )
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "flow")
    assert_eventually(lambda: tis(cluster, "flow", run_id)["total"]["state"] == "running", 30, "total to run")

    followed = cluster.home / "follow.txt"
    with open(followed, "wb") as out:
        follow = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tradewind.cli",
                "--host",
                cluster.address,
                "tasks",
                "logs",
                "flow",
                run_id,
                "total",
                "--follow",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert_eventually(lambda: "adding [1, 2, 3]" in followed.read_text(), 30, "the first line while total runs")
        assert follow.poll() is None, f"--follow returned while the task was running: {followed.read_text()}"
        assert tis(cluster, "flow", run_id)["total"]["state"] == "running"
        go.touch()
        assert follow.wait(timeout=30) == 0, followed.read_text()
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
    lines = followed.read_text().splitlines()
    assert lines.index("added them up") > lines.index("adding [1, 2, 3]"), lines
    assert finished_run(cluster, "flow", run_id)["state"] == "success"
    detail = json.loads(cluster.cli("tasks", "show", "flow", run_id, "total", "--json").stdout)
    assert detail["task_instance"]["state"] == "success"
