"""Worker faults with real processes: freezes, refusals, dead addresses, a dead parent, huge results, shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path
from typing import Any

from tests.harness import Cluster, Process, assert_eventually, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger

ECHO = """
from tradewind import DAG, BashOperator

with DAG(dag_id="echo", schedule=None):
    BashOperator(task_id="say", bash_command="echo hello")
"""


def workers(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in json.loads(cluster.cli("workers", "list", "--json").stdout)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def joins(process: Process) -> int:
    return process.output().count("joined coordinator at")


def test_a_worker_frozen_past_the_heartbeat_timeout_comes_back_and_runs_new_work(cluster: Cluster) -> None:
    write_dag(cluster.dags, "echo.py", ECHO)
    cluster.coordinator(heartbeat_timeout=2.0)
    worker = cluster.worker("w1")
    assert_eventually(lambda: workers(cluster).get("w1", {}).get("state") == "active", 30, "w1 to join")
    worker.kill(signal.SIGSTOP)
    try:
        assert_eventually(lambda: workers(cluster)["w1"]["state"] != "active", 30, "w1 to be seen as lost")
    finally:
        worker.kill(signal.SIGCONT)
    run_id = trigger(cluster, "echo")
    assert finished_run(cluster, "echo", run_id, timeout=30)["state"] == "success"
    assert workers(cluster)["w1"]["state"] == "active"


def test_a_permanent_refusal_ends_the_worker_with_the_reason_on_one_line(cluster: Cluster) -> None:
    cluster.coordinator()
    worker = cluster.worker("bad name!")
    assert worker.popen.wait(timeout=60) != 0
    last = worker.output().strip().splitlines()[-1]
    assert last.startswith(f"worker: error: the coordinator at {cluster.address} refused worker 'bad name!': ")
    assert "name" in last.split("refused worker", 1)[1]


def test_a_second_worker_with_a_live_workers_name_exits_and_the_first_stays(cluster: Cluster) -> None:
    cluster.coordinator()
    first = cluster.worker("w1")
    assert_eventually(lambda: workers(cluster).get("w1", {}).get("state") == "active", 30, "w1 to join")
    second = cluster._spawn(
        "worker-w1-again",
        ["-m", "worker", "join", "--host", cluster.address, "--name", "w1", "--home", str(cluster.home / "again")],
    )
    assert second.popen.wait(timeout=60) != 0
    last = second.output().strip().splitlines()[-1]
    assert last.startswith(f"worker: error: the coordinator at {cluster.address} refused worker 'w1': ")
    assert first.popen.poll() is None and joins(first) == 1
    assert workers(cluster)["w1"]["state"] == "active"


def test_a_worker_moves_past_a_dead_address_to_the_live_one(cluster: Cluster) -> None:
    write_dag(cluster.dags, "echo.py", ECHO)
    cluster.coordinator()
    cluster.worker("w1", "--host", f"127.0.0.1:{free_port()},{cluster.address}")
    run_id = trigger(cluster, "echo")
    assert finished_run(cluster, "echo", run_id, timeout=60)["state"] == "success"


def long_task(cluster: Cluster, dag_id: str) -> Path:
    """A DAG whose task writes its pid to a file, then sleeps a minute."""
    pid_file = cluster.home / f"{dag_id}.pid"
    write_dag(
        cluster.dags,
        f"{dag_id}.py",
        f"""
from tradewind import DAG, BashOperator

with DAG(dag_id="{dag_id}", schedule=None):
    BashOperator(task_id="sleep", bash_command="echo $$ > {pid_file}.tmp; mv {pid_file}.tmp {pid_file}; exec sleep 60")
""",
    )
    return pid_file


def test_a_worker_whose_parent_dies_exits_and_kills_its_tasks(cluster: Cluster) -> None:
    pid_file = long_task(cluster, "orphan")
    cluster.coordinator()
    worker_pid_file = cluster.home / "worker.pid"
    script = f"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-m", "worker", "join", "--host", {cluster.address!r}, "--name", "w1",
                          "--home", {str(cluster.home / "w1")!r}, "--parent-pid", str(os.getpid())])
open({str(worker_pid_file)!r}, "w").write(str(child.pid))
time.sleep(300)
"""
    parent = cluster._spawn("parent", ["-c", script])
    trigger(cluster, "orphan")
    task_pid = int(assert_eventually(lambda: pid_file.exists() and pid_file.read_text().strip(), 60, "the task"))
    worker_pid = int(worker_pid_file.read_text())
    os.kill(parent.pid, signal.SIGKILL)
    parent.popen.wait(timeout=10)
    assert_eventually(lambda: not alive(worker_pid), 10, "the worker to exit with its parent")
    assert_eventually(lambda: not alive(task_pid), 10, "the worker's task to be killed")


def test_a_worker_given_another_process_as_parent_exits_when_it_is_gone(cluster: Cluster) -> None:
    cluster.coordinator()
    stand_in = cluster._spawn("stand-in", ["-c", "import time; time.sleep(300)"])
    worker = cluster.worker("w1", "--parent-pid", str(stand_in.pid))
    assert_eventually(lambda: joins(worker) == 1, 30, "w1 to join")
    stand_in.kill()
    assert worker.popen.wait(timeout=15) == 0
    assert "parent process" in worker.output()


def test_a_return_value_over_the_limit_fails_only_its_task_without_reconnects(cluster: Cluster) -> None:
    write_dag(
        cluster.dags,
        "big.py",
        """
from tradewind import dag, task

@dag(schedule=None)
def big():
    @task
    def huge():
        return "x" * (40 * 1024 * 1024 - 2)

    @task
    def small():
        return 1

    huge()
    small()

big()
""",
    )
    cluster.coordinator()
    worker = cluster.worker("w1")
    run_id = trigger(cluster, "big")
    assert finished_run(cluster, "big", run_id, timeout=90)["state"] == "failed"
    states = tis(cluster, "big", run_id)
    assert (states["huge"]["state"], states["small"]["state"]) == ("failed", "success")
    detail = json.loads(cluster.cli("tasks", "show", "big", run_id, "huge", "--json").stdout)
    assert detail["attempts"][-1]["error"] == "return value is 40.0 MB; the limit is 1 MB"
    assert joins(worker) == 1


def test_sigterm_stops_what_outlives_the_grace_as_lost_and_a_second_sigterm_kills_at_once(cluster: Cluster) -> None:
    pid_file = long_task(cluster, "stubborn")
    cluster.coordinator()
    worker = cluster.worker("w1", "--grace", "60")
    run_id = trigger(cluster, "stubborn")
    task_pid = int(assert_eventually(lambda: pid_file.exists() and pid_file.read_text().strip(), 60, "the task"))
    worker.kill(signal.SIGTERM)
    assert_eventually(lambda: "draining (signal)" in worker.output(), 10, "the worker to drain")
    assert alive(task_pid)  # the grace is a minute: the first SIGTERM lets it run
    worker.kill(signal.SIGTERM)
    assert worker.popen.wait(timeout=15) == 0
    assert not alive(task_pid)
    state = tis(cluster, "stubborn", run_id)["sleep"]
    assert (state["state"], state["try_number"]) != ("failed", 1), "a shutdown is not the task's fault"
