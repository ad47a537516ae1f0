"""Sensors end to end with real processes: a FileSensor waits for a file a test writes, in each
mode; a timed-out soft_fail sensor is skipped; a rescheduling sensor holds no slot between pokes."""

from __future__ import annotations

import json
import re
import shutil
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.harness import ROOT, Cluster, assert_eventually, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger
from tradewind.v1 import common_pb2

FILE_SENSORS = """
from tradewind import DAG, BashOperator, FileSensor

with DAG(dag_id="wait_for_file", schedule=None):
    wait = FileSensor(task_id="wait", filepath="{folder}/ready/*.csv", mode="{mode}", poke_interval=0.2, timeout=60)
    wait >> BashOperator(task_id="load", bash_command="echo loaded")

with DAG(dag_id="give_up", schedule=None):
    gone = FileSensor(task_id="gone", filepath="{folder}/never", mode="{mode}", poke_interval=0.2, timeout=1,
                      soft_fail=True)
    gone >> BashOperator(task_id="after", bash_command="echo after")
"""


def file_sensor_dags(folder: Path, mode: str) -> str:
    return FILE_SENSORS.replace("{folder}", str(folder)).replace("{mode}", mode)


@pytest.mark.parametrize(("mode", "waiting"), [("poke", "running"), ("reschedule", "up_for_reschedule")])
def test_a_file_sensor_waits_for_the_file_then_its_downstream_runs(
    cluster: Cluster, tmp_path: Path, mode: str, waiting: str
) -> None:
    write_dag(cluster.dags, "sensors.py", file_sensor_dags(tmp_path, mode))
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "wait_for_file")
    assert_eventually(lambda: tis(cluster, "wait_for_file", run_id)["wait"]["state"] == waiting, 30, "sensor waits")
    assert tis(cluster, "wait_for_file", run_id)["load"]["state"] == "none"
    (tmp_path / "ready").mkdir()
    (tmp_path / "ready" / "data.csv").write_text("1,2\n")
    assert finished_run(cluster, "wait_for_file", run_id)["state"] == "success"
    assert "Found " in cluster.cli("tasks", "logs", "wait_for_file", run_id, "wait").stdout


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_a_timed_out_soft_fail_sensor_is_skipped_with_its_downstream(
    cluster: Cluster, tmp_path: Path, mode: str
) -> None:
    write_dag(cluster.dags, "sensors.py", file_sensor_dags(tmp_path, mode))
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "give_up")
    assert finished_run(cluster, "give_up", run_id)["state"] == "success"
    states = {task_id: row["state"] for task_id, row in tis(cluster, "give_up", run_id).items()}
    assert states == {"gone": "skipped", "after": "skipped"}


WHILE_WAITING = """
from tradewind import DAG, BashOperator, FileSensor

with DAG(dag_id="share_the_slot", schedule=None):
    FileSensor(task_id="wait", filepath="{folder}/flag", mode="reschedule", poke_interval=0.3, timeout=120) >> (
        BashOperator(task_id="after", bash_command="echo after")
    )
    BashOperator(task_id="meanwhile", bash_command="echo meanwhile")
"""


def test_a_rescheduling_sensor_frees_the_only_slot_between_pokes_for_another_task(
    cluster: Cluster, tmp_path: Path
) -> None:
    write_dag(cluster.dags, "sensors.py", WHILE_WAITING.replace("{folder}", str(tmp_path)))
    cluster.coordinator()
    cluster.worker("w1", "--slots", "1")
    run_id = trigger(cluster, "share_the_slot")

    def meanwhile_done_while_waiting() -> bool:
        states = {task_id: row["state"] for task_id, row in tis(cluster, "share_the_slot", run_id).items()}
        assert states["wait"] in ("scheduled", "queued", "running", "up_for_reschedule"), states
        return states["meanwhile"] == "success"

    assert_eventually(meanwhile_done_while_waiting, 60, "the other task to run while the sensor waits")

    def explained_between_pokes() -> str | None:
        # Pokes come every 0.3 s: ask again until the question lands between two of them.
        why = cluster.cli("tasks", "why", "share_the_slot", run_id, "wait").stdout
        return why if "up_for_reschedule" in why or "reschedule mode" in why else None

    why = assert_eventually(explained_between_pokes, 30, "tasks why to explain a reschedule")
    assert "reschedule mode" in why and "no slot is held" in why
    (tmp_path / "flag").write_text("")
    assert finished_run(cluster, "share_the_slot", run_id)["state"] == "success"
    row = tis(cluster, "share_the_slot", run_id)["wait"]
    assert row["try_number"] == 1


DEFERRED = """
from tradewind import DAG, BashOperator, FileSensor

with DAG(dag_id="deferred_wait", schedule=None):
    FileSensor(task_id="wait", filepath="{folder}/flag", deferrable=True, poke_interval=30, timeout=120) >> (
        BashOperator(task_id="after", bash_command="echo after")
    )
    BashOperator(task_id="meanwhile", bash_command="echo meanwhile")
"""


def test_a_deferrable_file_sensor_waits_in_the_triggerer_with_the_only_slot_free(
    cluster: Cluster, tmp_path: Path
) -> None:
    write_dag(cluster.dags, "sensors.py", DEFERRED.replace("{folder}", str(tmp_path)))
    cluster.coordinator()
    cluster.worker("w1", "--slots", "1")
    cluster.triggerer("t1")
    run_id = trigger(cluster, "deferred_wait")

    def deferred_and_meanwhile_done() -> bool:
        states = {task_id: row["state"] for task_id, row in tis(cluster, "deferred_wait", run_id).items()}
        return states["wait"] == "deferred" and states["meanwhile"] == "success"

    assert_eventually(deferred_and_meanwhile_done, 60, "the other task to run while the sensor is deferred")
    why = cluster.cli("tasks", "why", "deferred_wait", run_id, "wait").stdout
    assert "tradewind.triggers.file.FileTrigger" in why and "on triggerer 't1'" in why
    (tmp_path / "flag").write_text("")
    assert finished_run(cluster, "deferred_wait", run_id)["state"] == "success"
    assert tis(cluster, "deferred_wait", run_id)["wait"]["try_number"] == 1
    assert "the trigger fired (True)" in cluster.cli("tasks", "logs", "deferred_wait", run_id, "wait").stdout


MANY_DEFERRED = """
from tradewind import DAG, FileSensor

with DAG(dag_id="many_deferred", schedule=None):
    for n in range(5):
        FileSensor(task_id=f"wait_{n}", filepath="{folder}/go", deferrable=True, poke_interval=30, timeout=300)
"""


def test_a_killed_triggerers_triggers_move_to_a_new_one_and_each_task_resumes_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    write_dag(cluster.dags, "sensors.py", MANY_DEFERRED.replace("{folder}", str(tmp_path)))
    cluster.coordinator()
    cluster.worker("w1", "--slots", "2")
    first = cluster.triggerer("t1")
    run_id = trigger(cluster, "many_deferred")

    with cluster.client() as client:

        def all_deferred_on(name: str) -> bool:
            explained = [client.explain_task_instance("many_deferred", run_id, f"wait_{n}") for n in range(5)]
            return all(
                e.task_instance.state == common_pb2.TASK_STATE_DEFERRED
                and f"on triggerer {name!r}" in e.conditions[0].message
                for e in explained
            )

        assert_eventually(lambda: all_deferred_on("t1"), 60, "every sensor deferred on t1")
        first.kill(signal.SIGKILL)
        cluster.triggerer("t2")
        assert_eventually(lambda: all_deferred_on("t2"), 30, "every trigger to move to t2")
        (tmp_path / "go").write_text("")
        assert finished_run(cluster, "many_deferred", run_id)["state"] == "success"
        for n in range(5):
            attempts = client.get_task_instance("many_deferred", run_id, f"wait_{n}").attempts
            assert [(a.try_number, a.state) for a in attempts] == [
                (1, common_pb2.TASK_STATE_DEFERRED),
                (1, common_pb2.TASK_STATE_SUCCESS),
            ]


def test_the_readme_examples_of_sensors_and_deferral_run_to_success(cluster: Cluster, tmp_path: Path) -> None:
    for name in ("example_sensors.py", "example_deferral.py"):
        shutil.copy(ROOT / "dags" / name, cluster.dags / name)
    cluster.coordinator()
    cluster.worker("w1", "--slots", "2")
    cluster.triggerer("t1")
    sensors = trigger(cluster, "example_sensors", "--conf", json.dumps({"folder": str(tmp_path)}))
    deferral = trigger(cluster, "example_deferral")
    assert_eventually(
        lambda: tis(cluster, "example_sensors", sensors)["deferred"]["state"] == "deferred", 60, "the deferral"
    )
    (tmp_path / "ready.csv").write_text("1,2\n3,4\n")
    assert finished_run(cluster, "example_sensors", sensors, timeout=90)["state"] == "success"
    assert "loading 2 rows" in cluster.cli("tasks", "logs", "example_sensors", sensors, "load").stdout
    assert finished_run(cluster, "example_deferral", deferral)["state"] == "success"
    assert "waited 2s in the triggerer" in cluster.cli("tasks", "logs", "example_deferral", deferral, "wait").stdout


def test_standalone_starts_a_triggerer_that_resumes_deferred_tasks_and_dies_with_it(cluster: Cluster) -> None:
    shutil.copy(ROOT / "dags" / "example_deferral.py", cluster.dags / "example_deferral.py")
    standalone = cluster._spawn(
        "standalone",
        ["-m", "coordinator", "standalone", "--workers", "1", "--bind", "127.0.0.1:0", "--dags", str(cluster.dags)]
        + ["--home", str(cluster.home), "--db", cluster.db_url],
    )
    cluster.address = assert_eventually(
        lambda: (found := re.search(r"coordinator listening on (\S+)", standalone.output())) and found.group(1),
        30,
        "standalone to listen",
    )
    run_id = trigger(cluster, "example_deferral")
    assert finished_run(cluster, "example_deferral", run_id)["state"] == "success"
    triggerers = _triggerers(cluster.home)
    assert len(triggerers) == 1 and f"--parent-pid {standalone.pid}" in next(iter(triggerers.values()))
    standalone.kill(signal.SIGKILL)
    assert_eventually(lambda: not _triggerers(cluster.home), 15, "the local triggerer to exit with standalone")


def _triggerers(home: Path) -> dict[int, str]:
    """pid -> command line of every live `triggerer join` whose home is `home`."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if "triggerer join" in command and f"--home {home} " in command + " " and state != "Z":
            found[int(entry.name)] = command
    return found


EXTERNAL = """
from datetime import timedelta
from tradewind import DAG, BashOperator, ExternalTaskMarker, ExternalTaskSensor

with DAG(dag_id="producer", schedule=None):
    BashOperator(task_id="produce", bash_command="sleep 1; echo produced") >> ExternalTaskMarker(
        task_id="mark", external_dag_id="consumer", external_task_id="wait"
    )

with DAG(dag_id="consumer", schedule=None):
    ExternalTaskSensor(
        task_id="wait", external_dag_id="producer", external_task_id="produce", poke_interval=0.3, timeout=60,
        mode="reschedule",
    ) >> BashOperator(task_id="consume", bash_command="echo consumed")
    ExternalTaskSensor(task_id="whole_run", external_dag_id="producer", poke_interval=0.3, timeout=60)
    ExternalTaskSensor(
        task_id="in_triggerer", external_dag_id="producer", external_task_id="produce", deferrable=True,
        poll_interval=0.3, timeout=60,
    )
    ExternalTaskSensor(
        task_id="earlier", external_dag_id="producer", external_task_ids=["produce"], poke_interval=0.3,
        timeout=1, soft_fail=True, execution_delta=timedelta(days=1),
    )
"""


def test_an_external_task_sensor_waits_for_the_other_dags_task_at_the_same_logical_date(cluster: Cluster) -> None:
    write_dag(cluster.dags, "external.py", EXTERNAL)
    cluster.coordinator()
    cluster.worker("w1")
    cluster.triggerer("t1")
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    trigger(cluster, "producer")  # known to the coordinator before the triggers below
    trigger(cluster, "consumer")
    with cluster.client() as client:
        consumer = client.trigger_dag("consumer", logical_date=moment).dag_run.run_id
        assert_eventually(
            lambda: tis(cluster, "consumer", consumer)["wait"]["state"] == "up_for_reschedule", 30, "the wait"
        )
        assert_eventually(
            lambda: tis(cluster, "consumer", consumer)["in_triggerer"]["state"] == "deferred", 30, "the deferral"
        )
        producer = client.trigger_dag("producer", logical_date=moment).dag_run.run_id
    assert finished_run(cluster, "producer", producer)["state"] == "success"
    assert finished_run(cluster, "consumer", consumer)["state"] == "success"
    states = {task_id: row["state"] for task_id, row in tis(cluster, "consumer", consumer).items()}
    assert states == {
        "wait": "success",
        "consume": "success",
        "whole_run": "success",
        "earlier": "skipped",
        "in_triggerer": "success",
    }
    assert "is done" in cluster.cli("tasks", "logs", "consumer", consumer, "in_triggerer").stdout
    assert tis(cluster, "producer", producer)["mark"]["state"] == "success"


CUSTOM_TRIGGER = '''
import asyncio
from tradewind import BaseTrigger, TriggerEvent


class Countdown(BaseTrigger):
    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def serialize(self):
        return "countdown.Countdown", {"steps": self.steps}

    async def run(self):
        for _ in range(self.steps):
            await asyncio.sleep(0.05)
        yield TriggerEvent({"counted": self.steps})
'''

USES_CUSTOM_TRIGGER = """
from tradewind import DAG, BaseOperator
from countdown import Countdown


class CountThenSay(BaseOperator):
    def execute(self, context):
        self.defer(trigger=Countdown(steps=3), method_name="say")

    def say(self, context, event=None):
        print(f"the countdown said {event}")
        return event["counted"]


with DAG(dag_id="custom_trigger", schedule=None):
    CountThenSay(task_id="count")
"""


def test_a_trigger_defined_in_the_dag_folder_runs_in_the_triggerer_from_the_bundle(cluster: Cluster) -> None:
    write_dag(cluster.dags, "countdown.py", CUSTOM_TRIGGER)
    write_dag(cluster.dags, "custom.py", USES_CUSTOM_TRIGGER)
    cluster.coordinator()
    cluster.worker("w1")
    cluster.triggerer("t1")
    run_id = trigger(cluster, "custom_trigger")
    assert finished_run(cluster, "custom_trigger", run_id)["state"] == "success"
    assert "the countdown said {'counted': 3}" in cluster.cli("tasks", "logs", "custom_trigger", run_id, "count").stdout


IN_A_POOL = """
from tradewind import DAG, FileSensor

with DAG(dag_id="pooled_wait", schedule=None):
    FileSensor(task_id="wait", filepath="{folder}/flag", deferrable=True, pool="waiting", timeout=120)
"""


def test_a_pool_set_to_include_deferred_counts_a_deferred_task(cluster: Cluster, tmp_path: Path) -> None:
    write_dag(cluster.dags, "pooled.py", IN_A_POOL.replace("{folder}", str(tmp_path)))
    cluster.coordinator()
    cluster.worker("w1")
    cluster.triggerer("t1")
    said = cluster.cli("pools", "set", "waiting", "2", "--include-deferred").stdout
    assert said.strip() == "pool waiting has 2 slots; deferred task instances keep their slots"
    run_id = trigger(cluster, "pooled_wait")
    assert_eventually(lambda: tis(cluster, "pooled_wait", run_id)["wait"]["state"] == "deferred", 60, "the deferral")
    (pool,) = [p for p in json.loads(cluster.cli("pools", "list", "--json").stdout) if p["name"] == "waiting"]
    assert pool["include_deferred"] is True and pool["occupied"] == 1
    (tmp_path / "flag").write_text("")
    assert finished_run(cluster, "pooled_wait", run_id)["state"] == "success"
    (pool,) = [p for p in json.loads(cluster.cli("pools", "list", "--json").stdout) if p["name"] == "waiting"]
    assert pool.get("occupied", 0) == 0


def test_triggerers_are_listed_with_the_workers_and_serve_starts_none_of_its_own(cluster: Cluster) -> None:
    from tui.screens.workers import triggerer_summary

    cluster.coordinator()
    cluster.worker("w1")
    cluster.triggerer("t1", "--capacity", "50")

    def listed() -> list[Any] | None:
        with cluster.client() as client:
            return [t for t in client.list_workers().triggerers if t.name == "t1"] or None

    (triggerer,) = assert_eventually(listed, 30, "the triggerer to be listed")
    assert _triggerers(cluster.home) == {}, "coordinator serve started a triggerer of its own"
    assert (triggerer.name, triggerer.triggers, triggerer.capacity) == ("t1", 0, 50)
    assert triggerer_summary([triggerer]).startswith(" · triggerers: t1 0/50 triggers, ")
    out = cluster.cli("workers", "list").stdout
    assert "TRIGGERER" in out and "t1" in out and "0/50" in out
