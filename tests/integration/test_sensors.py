"""Sensors end to end with real processes: a FileSensor waits for a file a test writes, in each
mode; a timed-out soft_fail sensor is skipped; a rescheduling sensor holds no slot between pokes."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Cluster, assert_eventually, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger

FILE_SENSORS = """
from tradewind import DAG, BashOperator, FileSensor

with DAG(dag_id="wait_for_file", schedule=None, params={"mode": "poke"}):
    wait = FileSensor(task_id="wait", filepath="{folder}/ready/*.csv", mode="{mode}", poke_interval=0.2, timeout=60)
    wait >> BashOperator(task_id="load", bash_command="echo loaded")

with DAG(dag_id="give_up", schedule=None):
    gone = FileSensor(task_id="gone", filepath="{folder}/never", mode="{mode}", poke_interval=0.2, timeout=1,
                      soft_fail=True)
    gone >> BashOperator(task_id="after", bash_command="echo after")
"""


def file_sensor_dags(folder: Path, mode: str) -> str:
    return FILE_SENSORS.replace("{folder}", str(folder)).replace("{mode}", mode)


def test_a_poking_file_sensor_waits_for_the_file_then_its_downstream_runs(cluster: Cluster, tmp_path: Path) -> None:
    write_dag(cluster.dags, "sensors.py", file_sensor_dags(tmp_path, "poke"))
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "wait_for_file")
    assert_eventually(lambda: tis(cluster, "wait_for_file", run_id)["wait"]["state"] == "running", 30, "sensor runs")
    assert tis(cluster, "wait_for_file", run_id)["load"]["state"] == "none"
    (tmp_path / "ready").mkdir()
    (tmp_path / "ready" / "data.csv").write_text("1,2\n")
    assert finished_run(cluster, "wait_for_file", run_id)["state"] == "success"
    assert "Found " in cluster.cli("tasks", "logs", "wait_for_file", run_id, "wait").stdout


def test_a_timed_out_soft_fail_sensor_is_skipped_with_its_downstream(cluster: Cluster, tmp_path: Path) -> None:
    write_dag(cluster.dags, "sensors.py", file_sensor_dags(tmp_path, "poke"))
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "give_up")
    assert finished_run(cluster, "give_up", run_id)["state"] == "success"
    states = {task_id: row["state"] for task_id, row in tis(cluster, "give_up", run_id).items()}
    assert states == {"gone": "skipped", "after": "skipped"}
