"""Backfills with real processes: the CLI creates, follows and cancels them; a backfill carries on
through a coordinator killed and restarted in the middle of it."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from tests.harness import Cluster, assert_eventually, write_dag

GATED = """
from datetime import datetime
from tradewind import DAG, BashOperator

with DAG(dag_id="daily", schedule="@daily", start_date=datetime(2024, 1, 1), is_paused_upon_creation=True):
    wait = "while [ ! -e {gate} ]; do sleep 0.05; done; "
    BashOperator(task_id="work", bash_command=wait + "echo {{{{ ds }}}} >> {ledger}")

with DAG(dag_id="unscheduled", schedule=None):
    BashOperator(task_id="work", bash_command="true")
"""


def start(cluster: Cluster) -> tuple[Path, Path]:
    gate, ledger = cluster.home / "gate", cluster.home / "ledger"
    write_dag(cluster.dags, "daily.py", GATED.format(gate=gate, ledger=ledger))
    cluster.coordinator()
    cluster.worker("w1")
    assert_eventually(lambda: "daily" in cluster.cli("dags", "list").stdout, 30, "DAG daily to be parsed")
    return gate, ledger


def show(cluster: Cluster, backfill_id: int) -> dict[str, Any]:
    return json.loads(cluster.cli("backfills", "show", str(backfill_id), "--json").stdout)


def test_a_backfill_of_a_paused_dag_carries_on_through_a_coordinator_restart(cluster: Cluster) -> None:
    gate, ledger = start(cluster)
    dry = cluster.cli("dags", "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-04", "--dry-run")
    assert "nothing was changed" in dry.stdout and dry.stdout.count("backfill__2024-01-0") == 4
    assert json.loads(cluster.cli("backfills", "list", "--json").stdout) == []
    created = json.loads(
        cluster.cli(
            "dags", "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-04",
            "--max-active-runs", "2", "--run-backwards", "--json",
        ).stdout
    )  # fmt: skip
    backfill_id = int(created["backfill"]["id"])
    states = [(d["run_id"][10:20], d["state"]) for d in show(cluster, backfill_id)["dates"]]
    assert states == [("2024-01-04", "running"), ("2024-01-03", "running")] + [
        ("2024-01-02", "queued"),
        ("2024-01-01", "queued"),
    ]
    second = cluster.cli("dags", "backfill", "daily", "--from", "2024-02-01", "--to", "2024-02-01", check=False)
    assert (second.returncode, second.stderr) == (
        1,
        f"error: DAG 'daily' already has an active backfill ({backfill_id})\n",
    )

    cluster.processes[0].kill(signal.SIGKILL)
    cluster.coordinator(port=cluster.port)
    assert show(cluster, backfill_id)["backfill"]["running_runs"] == 2
    gate.touch()

    def completed() -> dict[str, Any] | None:
        backfill = show(cluster, backfill_id)["backfill"]
        return backfill if backfill["state"] == "completed" else None

    done = assert_eventually(completed, 60, "the backfill to complete")
    assert (done["success_runs"], done["total_runs"]) == (4, 4)
    assert sorted(ledger.read_text().split()) == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    listed = cluster.cli("backfills", "list").stdout
    assert "completed" in listed and "4/4 done (4 success, 0 failed)" in listed


def test_cancel_fails_the_queued_runs_and_lets_the_running_one_finish(cluster: Cluster) -> None:
    gate, _ = start(cluster)
    out = cluster.cli(
        "dags", "backfill", "daily", "--from", "2024-01-01", "--to", "2024-01-03", "--max-active-runs", "1"
    )
    assert out.stdout.startswith("backfill 1 of daily: 3 runs, at most 1 at once")
    assert cluster.cli("backfills", "cancel", "1").stdout == (
        "cancelled backfill 1 of daily: its queued runs failed; running runs finish (1)\n"
    )
    again = cluster.cli("backfills", "cancel", "1", check=False)
    assert (again.returncode, again.stderr) == (1, "error: backfill 1 is already cancelled\n")
    gate.touch()

    def finished() -> list[str] | None:
        states = [d["state"] for d in show(cluster, 1)["dates"]]
        return states if "running" not in states else None

    assert assert_eventually(finished, 60, "the running run to finish") == ["success", "failed", "failed"]
    assert show(cluster, 1)["backfill"]["state"] == "cancelled"


def test_backfill_errors_are_one_line_with_their_exit_code(cluster: Cluster) -> None:
    start(cluster)
    cases = [
        (["unscheduled", "--from", "2024-01-01", "--to", "2024-01-02"], 1,
         "error: DAG 'unscheduled' has no schedule; a backfill needs one to compute its runs"),
        (["daily", "--from", "2024-01-05", "--to", "2024-01-01"], 1,
         "error: from_date 2024-01-05T00:00:00+00:00 is after to_date 2024-01-01T00:00:00+00:00"),
        (["nope", "--from", "2024-01-01", "--to", "2024-01-02"], 1, "error: DAG 'nope' not found"),
        (["daily", "--from", "yesterday", "--to", "2024-01-02"], 2,
         "error: --from must be a date or time like 2024-01-31 or 2024-01-31T06:00:00+00:00, not 'yesterday'"),
        (["daily", "--from", "2024-01-01", "--to", "2024-01-02", "--max-active-runs", "0"], 2,
         "error: --max-active-runs must be between 1 and 1000, not 0"),
    ]  # fmt: skip
    for args, code, message in cases:
        result = cluster.cli("dags", "backfill", *args, check=False)
        assert (result.returncode, result.stderr) == (code, message + "\n"), args
    for args, message in ((["show", "9"], "backfill 9 not found"), (["cancel", "9"], "backfill 9 not found")):
        result = cluster.cli("backfills", *args, check=False)
        assert (result.returncode, result.stderr) == (1, f"error: {message}\n")
