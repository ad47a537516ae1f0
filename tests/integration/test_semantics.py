"""Airflow scheduling semantics on a real coordinator and worker, from unchanged Airflow-style
DAG files in tests/airflow_dags/semantics/ (one file per feature)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.harness import Cluster, assert_eventually

DAGS = Path(__file__).parent.parent / "airflow_dags" / "semantics"


def start(cluster: Cluster, name: str, dag_id: str) -> None:
    shutil.copy(DAGS / f"{name}.py", cluster.dags / f"{name}.py")
    cluster.coordinator()
    cluster.worker("w1")
    assert_eventually(lambda: dag_id in cluster.cli("dags", "list").stdout, 30, f"DAG {dag_id} to be parsed")


def trigger(cluster: Cluster, dag_id: str, *extra: str) -> str:
    return str(json.loads(cluster.cli("dags", "trigger", dag_id, "--json", *extra).stdout)["run_id"])


def finished_run(cluster: Cluster, dag_id: str, run_id: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        found = json.loads(cluster.cli("runs", "list", "--dag", dag_id, "--json").stdout)
        return next((r for r in found if r["run_id"] == run_id and r["state"] in ("success", "failed")), None)

    return assert_eventually(finished, 60, f"run {run_id} of {dag_id} to finish")


def task_states(cluster: Cluster, dag_id: str, run_id: str) -> dict[str, str]:
    rows = json.loads(cluster.cli("tasks", "list", dag_id, run_id, "--json").stdout)
    return {row["task_id"]: row["state"] for row in rows}


def test_teardowns_run_after_failed_work_and_their_failure_does_not_fail_the_run(cluster: Cluster) -> None:
    start(cluster, "setup_teardown", "setup_teardown")
    run_id = trigger(cluster, "setup_teardown")
    run = finished_run(cluster, "setup_teardown", run_id)
    assert task_states(cluster, "setup_teardown", run_id) == {
        "create_cluster": "success",
        "query": "failed",
        "delete_cluster": "success",
        "make_bucket": "success",
        "use_bucket": "success",
        "drop_bucket": "failed",
    }
    assert run["state"] == "failed"
    assert "deleting c-1" in cluster.cli("tasks", "logs", "setup_teardown", run_id, "delete_cluster").stdout


def test_depends_on_past_holds_a_task_whose_previous_instance_failed_and_says_why(cluster: Cluster) -> None:
    start(cluster, "depends_on_past", "depends_on_past")
    first = finished_run(cluster, "depends_on_past", "scheduled__2026-01-01T00:00:00+00:00")
    second = finished_run(cluster, "depends_on_past", "scheduled__2026-01-02T00:00:00+00:00")
    assert (first["state"], second["state"]) == ("success", "failed")
    third = "scheduled__2026-01-03T00:00:00+00:00"
    assert task_states(cluster, "depends_on_past", third) == {"load": "none", "report": "none"}
    why = cluster.cli("tasks", "why", "depends_on_past", third, "load").stdout
    assert "waiting for load in the previous run scheduled__2026-01-02T00:00:00+00:00" in why


def test_a_run_past_its_dagrun_timeout_fails_and_its_running_task_is_killed_and_skipped(cluster: Cluster) -> None:
    start(cluster, "dagrun_timeout", "dagrun_timeout")
    run_id = trigger(cluster, "dagrun_timeout")
    run = finished_run(cluster, "dagrun_timeout", run_id)
    assert run["state"] == "failed"
    assert task_states(cluster, "dagrun_timeout", run_id) == {"quick": "success", "slow": "skipped", "after": "skipped"}

    def slow_ended() -> bool:
        return "sleep 987" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout

    assert_eventually(slow_ended, 30, "the timed-out task's process to be killed")


def test_task_callbacks_run_in_the_task_process_and_their_errors_change_nothing(cluster: Cluster) -> None:
    start(cluster, "task_callbacks", "task_callbacks")
    run_id = trigger(cluster, "task_callbacks")
    finished_run(cluster, "task_callbacks", run_id)
    assert task_states(cluster, "task_callbacks", run_id) == {
        "works": "success",
        "fails": "failed",
        "skips": "skipped",
        "hangs": "failed",
        "killed": "failed",
        "shell": "success",
        "echo_xcom": "success",
        "shell_fails": "failed",
    }

    def log(task_id: str) -> str:
        return cluster.cli("tasks", "logs", "task_callbacks", run_id, task_id).stdout

    works = log("works")
    assert "CALLBACK execute works try 1" in works and "CALLBACK success works try 1" in works
    assert "on_success_callback broken failed; the task's state is unchanged" in works
    assert "ValueError: the callback itself is broken" in works
    fails = log("fails")
    assert "CALLBACK retry fails try 1 error=RuntimeError('boom')" in fails
    assert "CALLBACK failure fails try 2 error=RuntimeError('boom')" in fails
    assert "CALLBACK skipped skips try 1" in log("skips")
    assert "CALLBACK failure hangs try 1" in log("hangs")
    killed = log("killed")
    assert "the task process ended without running its on_failure_callback" in killed
    assert "CALLBACK failure killed try 1 error=RuntimeError(" in killed
    assert "CALLBACK execute shell try 1" in log("shell") and "CALLBACK success shell try 1" in log("shell")
    assert "got the last line" in log("echo_xcom")
    assert "CALLBACK failure shell_fails try 1" in log("shell_fails")


def test_dag_run_callbacks_run_when_a_run_ends_and_their_log_is_readable(cluster: Cluster) -> None:
    start(cluster, "dag_callbacks", "dag_callbacks_fail")
    assert_eventually(lambda: "dag_callbacks_ok" in cluster.cli("dags", "list").stdout, 30, "both DAGs parsed")
    ok = trigger(cluster, "dag_callbacks_ok")
    bad = trigger(cluster, "dag_callbacks_fail")
    assert finished_run(cluster, "dag_callbacks_ok", ok)["state"] == "success"
    assert finished_run(cluster, "dag_callbacks_fail", bad)["state"] == "failed"

    def callback_log(dag_id: str, run_id: str, text: str) -> str | None:
        found = cluster.cli("runs", "callback-log", dag_id, run_id).stdout
        return found if text in found else None

    ok_log = assert_eventually(
        lambda: callback_log("dag_callbacks_ok", ok, "RUN CALLBACK"), 30, "the success callback to run"
    )
    assert f"RUN CALLBACK dag_callbacks_ok {ok} state=success reason=success" in ok_log
    bad_log = assert_eventually(
        lambda: callback_log("dag_callbacks_fail", bad, "RUN CALLBACK"), 30, "the failure callbacks to run"
    )
    assert "on_failure_callback broken failed; the run's state is unchanged" in bad_log
    assert "RuntimeError: the run callback is broken" in bad_log
    assert f"RUN CALLBACK dag_callbacks_fail {bad} state=failed reason=task_failure" in bad_log
    assert finished_run(cluster, "dag_callbacks_fail", bad)["state"] == "failed"
    missing = cluster.cli("runs", "callback-log", "dag_callbacks_ok", "no_such_run", check=False)
    assert missing.returncode != 0 and "no_such_run" in missing.stderr


def test_airflow_arguments_are_honoured_display_names_task_dates_default_args_and_auto_pause(
    cluster: Cluster,
) -> None:
    start(cluster, "arguments", "gives_up")
    assert_eventually(lambda: "arguments" in cluster.cli("dags", "list").stdout, 30, "both DAGs parsed")
    assert "arguments (Nightly arguments)" in cluster.cli("dags", "list").stdout
    assert "greet (Say hello)" in cluster.cli("dags", "show", "arguments").stdout
    day_one = "scheduled__2026-01-01T00:00:00+00:00"
    day_two = "scheduled__2026-01-02T00:00:00+00:00"
    assert finished_run(cluster, "arguments", day_one)["state"] == "success"
    assert "greet (Say hello)" in cluster.cli("tasks", "list", "arguments", day_one).stdout
    assert finished_run(cluster, "arguments", day_two)["state"] == "success"
    assert task_states(cluster, "arguments", day_one) == {"greet": "success", "last": "success"}
    assert task_states(cluster, "arguments", day_two) == {
        "greet": "success",
        "from_day_two": "success",
        "last": "success",
    }
    assert "hello from default_args" in cluster.cli("tasks", "logs", "arguments", day_one, "greet").stdout

    for _ in range(2):
        run_id = trigger(cluster, "gives_up")
        assert finished_run(cluster, "gives_up", run_id)["state"] == "failed"

    def paused() -> bool:
        return bool(json.loads(cluster.cli("dags", "show", "gives_up", "--json").stdout)["dag"].get("paused"))

    assert_eventually(paused, 30, "gives_up to be paused after two failed runs")


def test_conf_and_airflow_2_names_fail_naming_themselves_and_a_triggers_conf_overrides_params(
    cluster: Cluster,
) -> None:
    start(cluster, "template_context", "template_context")
    refused = cluster.cli("dags", "trigger", "template_context", "--conf", '{"limit": 0}', check=False)
    assert refused.returncode != 0
    assert "param 'limit': 0 is less than the minimum of 1" in refused.stderr
    run_id = trigger(cluster, "template_context", "--conf", json.dumps({"limit": 9}))
    finished_run(cluster, "template_context", run_id)
    assert task_states(cluster, "template_context", run_id) == {
        "airflow_config": "failed",
        "airflow_2_name": "failed",
        "run_conf": "success",
        "uses_macros": "success",
    }

    def log(task_id: str) -> str:
        return cluster.cli("tasks", "logs", "template_context", run_id, task_id).stdout

    assert "conf.get('core', 'dags_folder'): `conf` is Airflow's configuration" in log("airflow_config")
    assert "'execution_date' was removed in Airflow 3" in log("airflow_2_name")
    assert "table=sales limit=9 conf=9" in log("run_conf")
    assert "next day 2026-" in log("uses_macros")
