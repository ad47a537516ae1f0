"""DAG files written for Airflow, unchanged, on a real coordinator and worker."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pendulum

from tests.harness import Cluster, assert_eventually, write_dag

# Not a word of Tradewind in it: the DAG processor must not skip it, and the task process must
# resolve the airflow import the task makes while it runs.
AIRFLOW_3_FILE = """
import pendulum

from airflow.sdk import DAG, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG(
    dag_id="airflow_style",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example"],
):
    hello = BashOperator(task_id="hello", bash_command="echo hello from {{ ds }}")

    @task
    def numbers():
        from airflow.exceptions import AirflowFailException

        assert AirflowFailException.__name__
        return [1, 2, 3]

    @task
    def total(values):
        print(f"total is {sum(values)}")

    hello >> total(numbers())
"""

NEW_YORK_DAILY = """
import pendulum

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(
    dag_id="new_york_daily",
    schedule="@daily",
    start_date=pendulum.parse({start!r}),
    end_date=pendulum.parse({end!r}),
    catchup=True,
):
    EmptyOperator(task_id="noop")
"""


def runs(cluster: Cluster, dag_id: str) -> list[dict[str, Any]]:
    return list(json.loads(cluster.cli("runs", "list", "--dag", dag_id, "--json").stdout))


def test_an_unchanged_airflow_3_dag_file_runs_to_success(cluster: Cluster) -> None:
    write_dag(cluster.dags, "airflow_style.py", AIRFLOW_3_FILE)
    cluster.coordinator()
    cluster.worker("w1")
    assert_eventually(lambda: "airflow_style" in cluster.cli("dags", "list").stdout, 30, "the DAG to be parsed")
    run_id = json.loads(cluster.cli("dags", "trigger", "airflow_style", "--json").stdout)["run_id"]

    def finished() -> dict[str, Any] | None:
        return next((r for r in runs(cluster, "airflow_style") if r["state"] in ("success", "failed")), None)

    run = assert_eventually(finished, 60, "the run to finish")
    rows = json.loads(cluster.cli("tasks", "list", "airflow_style", run_id, "--json").stdout)
    assert {row["task_id"]: row["state"] for row in rows} == {
        "hello": "success",
        "numbers": "success",
        "total": "success",
    }
    assert run["state"] == "success"
    assert "total is 6" in cluster.cli("tasks", "logs", "airflow_style", run_id, "total").stdout
    assert "hello from " in cluster.cli("tasks", "logs", "airflow_style", run_id, "hello").stdout


def test_a_new_york_daily_dag_catches_up_at_new_york_midnights(cluster: Cluster) -> None:
    start = pendulum.now("America/New_York").start_of("day").subtract(days=3)
    write_dag(
        cluster.dags,
        "new_york.py",
        NEW_YORK_DAILY.format(start=start.isoformat(), end=start.add(days=2).isoformat()),
    )
    cluster.coordinator()
    cluster.worker("w1")
    expected = [start.add(days=day).in_timezone("UTC") for day in range(3)]

    def three_succeeded() -> list[dict[str, Any]] | None:
        found = runs(cluster, "new_york_daily")
        return found if len(found) == 3 and all(r["state"] == "success" for r in found) else None

    found = assert_eventually(three_succeeded, 60, "three runs of new_york_daily to succeed")
    logical = sorted(datetime.fromisoformat(r["logical_date"].replace("Z", "+00:00")) for r in found)
    assert logical == [datetime.fromtimestamp(moment.timestamp(), UTC) for moment in expected]
