"""End to end with real processes: a coordinator, workers and the CLI on loopback."""

from __future__ import annotations

import json
import shutil
import signal
from typing import Any

from tests.harness import ROOT, Cluster, assert_eventually, write_dag

CHAIN_WITH_FAILURE = """
from datetime import timedelta
from tradewind import DAG, BashOperator

with DAG(dag_id="flaky_chain", schedule=None):
    first = BashOperator(task_id="first", bash_command="echo first ran")
    middle = BashOperator(task_id="middle", bash_command="echo middle is failing; exit 3",
                          retries=2, retry_delay=timedelta(seconds=0))
    last = BashOperator(task_id="last", bash_command="echo last ran")
    first >> middle >> last
"""


def runs(cluster: Cluster, dag_id: str = "") -> list[dict[str, Any]]:
    args = ["runs", "list", "--json"] + (["--dag", dag_id] if dag_id else [])
    return json.loads(cluster.cli(*args).stdout)


def tis(cluster: Cluster, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    rows = json.loads(cluster.cli("tasks", "list", dag_id, run_id, "--json").stdout)
    return {row["task_id"]: row for row in rows}


def trigger(cluster: Cluster, dag_id: str, *extra: str) -> str:
    assert_eventually(lambda: dag_id in cluster.cli("dags", "list").stdout, 30, f"DAG {dag_id} to be parsed")
    out = json.loads(cluster.cli("dags", "trigger", dag_id, "--json", *extra).stdout)
    return out["run_id"]


def finished_run(cluster: Cluster, dag_id: str, run_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        for run in runs(cluster, dag_id):
            if run["run_id"] == run_id and run["state"] in ("success", "failed"):
                return run
        return None

    return assert_eventually(done, timeout, f"run {run_id} of {dag_id} to finish")


def test_example_dags_run_to_success_and_show_in_runs_list(cluster: Cluster) -> None:
    for path in (ROOT / "dags").glob("*.py"):
        shutil.copy(path, cluster.dags / path.name)
    cluster.coordinator()
    cluster.worker("w1")
    expected = {"example_bash", "example_taskflow", "example_fanout", "example_sql"}

    def all_succeeded() -> bool:
        states = {run["dag_id"]: run["state"] for run in runs(cluster)}
        return all(states.get(dag_id) == "success" for dag_id in expected)

    assert_eventually(all_succeeded, 90, "every example DAG to succeed")
    table = cluster.cli("runs", "list").stdout
    assert all(dag_id in table for dag_id in expected)
    taskflow = next(r for r in runs(cluster, "example_taskflow"))
    log = cluster.cli("tasks", "logs", "example_taskflow", taskflow["run_id"], "report").stdout
    assert "49.75" in log


def test_failing_middle_task_retries_then_fails_the_run(cluster: Cluster) -> None:
    write_dag(cluster.dags, "flaky.py", CHAIN_WITH_FAILURE)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "flaky_chain")
    run = finished_run(cluster, "flaky_chain", run_id)
    assert run["state"] == "failed"
    states = tis(cluster, "flaky_chain", run_id)
    assert states["first"]["state"] == "success"
    assert states["middle"]["state"] == "failed"
    assert states["middle"]["try_number"] == 3
    assert states["last"]["state"] == "upstream_failed"
    logs = cluster.cli("tasks", "logs", "flaky_chain", run_id, "middle").stdout
    for n in (1, 2, 3):
        assert f"--- try {n} ---" in logs
    assert logs.count("middle is failing") == 3


def test_tasks_on_a_named_queue_run_only_on_the_worker_serving_it(cluster: Cluster) -> None:
    write_dag(
        cluster.dags,
        "queues.py",
        """
from tradewind import DAG, BashOperator

with DAG(dag_id="queues", schedule=None):
    for i in range(4):
        BashOperator(task_id=f"plain_{i}", bash_command="echo plain")
        BashOperator(task_id=f"special_{i}", bash_command="echo special", queue="q2")
""",
    )
    cluster.coordinator()
    cluster.worker("w1", "--queues", "default")
    cluster.worker("w2", "--queues", "q2")
    run_id = trigger(cluster, "queues")
    assert finished_run(cluster, "queues", run_id)["state"] == "success"
    for task_id, row in tis(cluster, "queues", run_id).items():
        assert row["worker"] == ("w2" if task_id.startswith("special") else "w1"), (task_id, row)


def test_a_killed_workers_task_runs_again_elsewhere_without_using_a_retry(cluster: Cluster) -> None:
    marker = cluster.home / "started"
    write_dag(
        cluster.dags,
        "slow.py",
        f"""
from tradewind import DAG, BashOperator

with DAG(dag_id="slow", schedule=None):
    BashOperator(task_id="work", bash_command="touch {marker}; sleep 3; echo finished")
""",
    )
    cluster.coordinator(heartbeat_timeout=2.0)
    doomed = cluster.worker("doomed")
    run_id = trigger(cluster, "slow")
    assert_eventually(marker.exists, 30, "the task to start on the first worker")
    assert tis(cluster, "slow", run_id)["work"]["worker"] == "doomed"
    cluster.worker("survivor")
    doomed.kill_group()
    run = finished_run(cluster, "slow", run_id, timeout=60)
    assert run["state"] == "success"
    detail = json.loads(cluster.cli("tasks", "show", "slow", run_id, "work", "--json").stdout)
    attempts = detail["attempts"]
    assert [(a["worker"], a["try_number"], a.get("lost", False)) for a in attempts] == [
        ("doomed", 1, True),
        ("survivor", 1, False),
    ]
    assert "lost" in attempts[0]["error"]
    assert detail["task_instance"]["try_number"] == 1
    assert all(row["state"] != "running" for row in tis(cluster, "slow", run_id).values())


def test_coordinator_killed_mid_run_resumes_on_restart(cluster: Cluster) -> None:
    ledger = cluster.home / "ledger"
    gate = cluster.home / "gate"
    write_dag(
        cluster.dags,
        "resume.py",
        f"""
from tradewind import DAG, BashOperator

with DAG(dag_id="resume", schedule=None):
    previous = None
    for i in range(6):
        command = "echo {{{{ task_id }}}} {{{{ try_number }}}} >> {ledger}"
        if i == 2:
            command = "while [ ! -e {gate} ]; do sleep 0.05; done; " + command
        current = BashOperator(task_id=f"step_{{i}}", bash_command=command)
        if previous is not None:
            previous >> current
        previous = current
""",
    )
    coordinator = cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "resume")
    assert_eventually(lambda: tis(cluster, "resume", run_id)["step_2"]["state"] == "running", 30, "step_2 to run")
    coordinator.kill(signal.SIGKILL)
    gate.touch()
    cluster.coordinator(port=cluster.port)
    run = finished_run(cluster, "resume", run_id, timeout=60)
    assert run["state"] == "success"
    lines = ledger.read_text().split()
    ran = [lines[i] for i in range(0, len(lines), 2)]
    assert sorted(ran) == [f"step_{i}" for i in range(6)], ledger.read_text()
    for task_id, row in tis(cluster, "resume", run_id).items():
        assert row["state"] == "success"
        assert row["try_number"] == 1, (task_id, row)


def test_broken_and_hanging_dag_files_are_import_errors_while_others_run(cluster: Cluster) -> None:
    write_dag(
        cluster.dags, "broken.py", "from tradewind import DAG\nwith DAG(dag_id='broken' schedule=None):\n  pass\n"
    )
    write_dag(cluster.dags, "hangs.py", "from tradewind import DAG\nwhile True:\n    pass\n")
    write_dag(cluster.dags, "fine.py", CHAIN_WITH_FAILURE.replace("exit 3", "exit 0"))
    cluster.coordinator()
    cluster.worker("w1")

    def both_reported() -> list[dict[str, Any]]:
        errors = json.loads(cluster.cli("import-errors", "--json").stdout)
        return errors if {e["fileloc"] for e in errors} == {"broken.py", "hangs.py"} else []

    errors = {e["fileloc"]: e["traceback"] for e in assert_eventually(both_reported, 60, "two import errors")}
    assert "SyntaxError" in errors["broken.py"]
    assert "parse_timeout" in errors["hangs.py"]
    run_id = trigger(cluster, "flaky_chain")
    assert finished_run(cluster, "flaky_chain", run_id)["state"] == "success"


def test_cli_errors_are_one_line_with_an_exit_code(cluster: Cluster) -> None:
    cluster.coordinator()
    result = cluster.cli("dags", "trigger", "no_such_dag", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: DAG 'no_such_dag' not found"
    assert "Traceback" not in result.stderr
