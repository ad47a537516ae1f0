"""Asset watchers with real processes: the README's AssetWatcher example (a FileTrigger on a
landing folder) starts a run of its DAG for each new file, and keeps doing so after its
triggerer is SIGKILLed and another takes the watcher over."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.harness import ROOT, Cluster, Process, assert_eventually, write_dag
from tests.integration.test_assets import succeeded

DAG_ID = "example_asset_watcher"


def the_example(landing: Path) -> str:
    """The README's example DAG on `landing`, writing each event's payload to the task's log."""
    return (ROOT / "dags" / "example_asset_watcher.py").read_text().replace("/tmp/landing", str(landing))


def armed(cluster: Cluster, triggerer: Process, landing: Path) -> None:
    """The watcher runs on `triggerer` (as `assets list` says) and has looked at the folder."""
    assert_eventually(
        lambda: f"new_csv@{triggerer.name.removeprefix('triggerer-')}" in cluster.cli("assets", "list").stdout,
        60,
        f"assets list to show the watcher on {triggerer.name}",
    )
    assert_eventually(
        lambda: f"watching {landing}/*.csv for new files" in triggerer.output(),
        60,
        f"the watcher to run on {triggerer.name}",
    )


def loaded(cluster: Cluster, count: int) -> list[str]:
    """The files the first `count` successful runs were started for, oldest first."""
    runs = sorted(succeeded(cluster, DAG_ID, count), key=lambda r: r["run_id"])
    assert len(runs) == count, f"{len(runs)} runs of {DAG_ID}, expected {count}"
    return [
        line.split("new file: ", 1)[1].strip()
        for run in runs
        for line in cluster.cli("tasks", "logs", DAG_ID, run["run_id"], "load").stdout.splitlines()
        if "new file: " in line
    ]


def test_each_new_file_starts_a_run_and_the_watcher_survives_its_triggerer_being_killed(
    cluster: Cluster, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "old.csv").write_text("there before the watcher")
    write_dag(cluster.dags, "example_asset_watcher.py", the_example(landing))
    cluster.coordinator()
    cluster.worker("w1")
    first = cluster.triggerer("t1")
    armed(cluster, first, landing)

    (landing / "1.csv").write_text("1")
    assert loaded(cluster, 1) == [f"{landing}/1.csv"]
    (landing / "2.csv").write_text("2")
    assert loaded(cluster, 2) == [f"{landing}/1.csv", f"{landing}/2.csv"]

    first.kill(signal.SIGKILL)
    second = cluster.triggerer("t2")
    armed(cluster, second, landing)
    (landing / "3.csv").write_text("3")
    assert loaded(cluster, 3)[2:] == [f"{landing}/3.csv"]
    events = cluster.cli("assets", "events").stdout
    assert f"{landing}/3.csv" in events and "old.csv" not in events


AIRFLOWS_EXAMPLE = """
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.triggers.file import FileDeleteTrigger
from airflow.sdk import DAG, Asset, AssetWatcher

trigger = FileDeleteTrigger(filepath="{path}", poke_interval=1)
asset = Asset("example_asset", watchers=[AssetWatcher(name="test_asset_watcher", trigger=trigger)])

with DAG(dag_id="example_asset_with_watchers", schedule=[asset], catchup=False):
    task = EmptyOperator(task_id="task")
"""


def test_airflows_watcher_example_runs_each_time_the_file_is_written_and_deletes_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    target = tmp_path / "test"
    write_dag(cluster.dags, "example_asset_with_watchers.py", AIRFLOWS_EXAMPLE.replace("{path}", str(target)))
    cluster.coordinator()
    cluster.worker("w1")
    cluster.triggerer("t1")
    for count in (1, 2):
        target.write_text(str(count))
        succeeded(cluster, "example_asset_with_watchers", count)
        assert_eventually(lambda: not target.exists(), 30, "the trigger to delete the file")
