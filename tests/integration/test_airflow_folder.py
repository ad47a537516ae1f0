"""A folder of DAG files written for Airflow 3, in the style of its tutorials, runs unchanged.

The files in tests/airflow_dags/tutorial import only `airflow.*` (never `tradewind`), and each run
must end in the state it ends in on Airflow, task by task.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pendulum

from tests.harness import Cluster, assert_eventually
from tests.integration.test_end_to_end import finished_run, runs, trigger

FOLDER = Path(__file__).resolve().parent.parent / "airflow_dags" / "tutorial"


def states(cluster: Cluster, dag_id: str, run_id: str) -> dict[str, str]:
    rows = json.loads(cluster.cli("tasks", "list", dag_id, run_id, "--json").stdout)
    return {
        row["task_id"] + (f"[{row['map_index']}]" if row.get("map_index", -1) >= 0 else ""): row["state"]
        for row in rows
    }


def log(cluster: Cluster, dag_id: str, run_id: str, task_id: str) -> str:
    return cluster.cli("tasks", "logs", dag_id, run_id, task_id).stdout


def started(cluster: Cluster) -> Cluster:
    for path in FOLDER.glob("*.py"):
        shutil.copy(path, cluster.dags / path.name)
    cluster.coordinator()
    cluster.worker("w1", "--slots", "4")
    return cluster


def test_no_file_of_the_folder_mentions_tradewind() -> None:
    for path in FOLDER.glob("*.py"):
        assert "tradewind" not in path.read_text(), path.name


def test_every_file_of_the_tutorial_folder_parses_without_an_import_error(cluster: Cluster) -> None:
    started(cluster)
    expected = {path.stem for path in FOLDER.glob("*.py")}

    def parsed() -> set[str] | None:
        dags = {row["dag_id"] for row in json.loads(cluster.cli("dags", "list", "--json").stdout)}
        return dags if expected <= dags else None

    assert_eventually(parsed, 60, "every DAG of the folder to be parsed")
    assert json.loads(cluster.cli("import-errors", "--json").stdout) == []


def test_tutorial_dags_end_in_airflows_states(cluster: Cluster) -> None:
    started(cluster)
    run_ids = {
        dag_id: trigger(cluster, dag_id)
        for dag_id in (
            "taskflow_etl",
            "branching",
            "short_circuit",
            "task_groups",
            "xcom_operators",
            "mapping_reduce",
            "setup_teardown",
        )
    }
    finished = {dag_id: finished_run(cluster, dag_id, run_id, 90) for dag_id, run_id in run_ids.items()}

    assert finished["taskflow_etl"]["state"] == "success"
    assert states(cluster, "taskflow_etl", run_ids["taskflow_etl"]) == {
        "extract": "success",
        "transform": "success",
        "load": "success",
    }
    assert "Total order value is: 1236.70 over 3 orders" in log(
        cluster, "taskflow_etl", run_ids["taskflow_etl"], "load"
    )

    branching = states(cluster, "branching", run_ids["branching"])
    assert finished["branching"]["state"] == "success"
    assert branching["branching"] == "success" and branching["branch_b"] == branching["follow_branch_b"] == "success"
    for other in ("branch_a", "branch_c", "branch_d"):
        assert branching[other] == branching[f"follow_{other}"] == "skipped", branching
    assert branching["join"] == "success"
    assert branching["classic_yes"] == "success" and branching["classic_no"] == "skipped"

    short = states(cluster, "short_circuit", run_ids["short_circuit"])
    assert finished["short_circuit"]["state"] == "success"
    assert short["true_1"] == short["true_2"] == "success"
    assert short["false_1"] == short["false_2"] == "skipped"
    # chain pairs equal lists: task_2 >> task_3 >> task_5 and short_circuit >> task_4 >> task_6.
    # ignore_downstream_trigger_rules=False: only the direct downstream task is skipped and the
    # rest follow their trigger rules (task_6 is all_success, task_7 is all_done).
    assert short["task_3"] == short["task_5"] == "success"
    assert short["task_4"] == short["task_6"] == "skipped"
    assert short["task_7"] == "success"

    groups = states(cluster, "task_groups", run_ids["task_groups"])
    assert finished["task_groups"]["state"] == "success"
    assert set(groups) >= {
        "section_1.task_1",
        "section_2.inner_section_2.task_4",
        "math.double",
        "math.add_one",
        "check",
        "end",
    }
    assert set(groups.values()) == {"success"}

    assert finished["xcom_operators"]["state"] == "success", states(
        cluster, "xcom_operators", run_ids["xcom_operators"]
    )
    assert "pulled" in log(cluster, "xcom_operators", run_ids["xcom_operators"], "bash_pull")

    assert finished["mapping_reduce"]["state"] == "success"
    assert states(cluster, "mapping_reduce", run_ids["mapping_reduce"]) == {
        "make_list": "success",
        "add_one[0]": "success",
        "add_one[1]": "success",
        "add_one[2]": "success",
        "sum_it": "success",
    }
    assert "Total was 36" in log(cluster, "mapping_reduce", run_ids["mapping_reduce"], "sum_it")

    # The work failed, so the run fails; the teardown still ran after it.
    assert finished["setup_teardown"]["state"] == "failed"
    assert states(cluster, "setup_teardown", run_ids["setup_teardown"]) == {
        "create_cluster": "success",
        "run_query": "failed",
        "delete_cluster": "success",
    }
    assert "deleting cluster-1" in log(cluster, "setup_teardown", run_ids["setup_teardown"], "delete_cluster")


def test_trigger_conf_overrides_params_and_bad_conf_is_refused_naming_the_field(cluster: Cluster) -> None:
    started(cluster)
    run_id = trigger(cluster, "params_conf", "--conf", json.dumps({"greeting": "Bonjour", "count": 2}))
    assert finished_run(cluster, "params_conf", run_id, 60)["state"] == "success"
    assert "Bonjour x2 english=True" in log(cluster, "params_conf", run_id, "say")
    assert "Bonjour Linda\nBonjour Martha\nBonjour Thomas\nBonjour Linda" in log(
        cluster, "params_conf", run_id, "check"
    )

    refused = cluster.cli("dags", "trigger", "params_conf", "--conf", json.dumps({"count": 11}), check=False)
    assert refused.returncode != 0
    assert "count" in refused.stderr and "11" in refused.stderr


def test_latest_only_skips_all_but_the_latest_scheduled_run(cluster: Cluster) -> None:
    started(cluster)

    def two_done() -> list[dict[str, Any]] | None:
        found = [r for r in runs(cluster, "latest_only") if r["state"] in ("success", "failed")]
        return found if len(found) == 2 else None

    found = sorted(
        assert_eventually(two_done, 90, "two runs of latest_only to finish"), key=lambda r: r["logical_date"]
    )
    older, latest = (states(cluster, "latest_only", run["run_id"]) for run in found)
    assert older == {
        "latest_only": "success",
        "task1": "skipped",
        "task2": "success",
        "task3": "skipped",
        "task4": "success",
    }
    assert set(latest.values()) == {"success"}


def test_a_time_zoned_daily_dag_catches_up_on_local_midnights(cluster: Cluster) -> None:
    started(cluster)
    zone = pendulum.timezone("Europe/Amsterdam")
    start = pendulum.now(zone).start_of("day").subtract(days=3)

    def three_done() -> list[dict[str, Any]] | None:
        found = [r for r in runs(cluster, "timezone_daily") if r["state"] == "success"]
        return found if len(found) >= 3 else None

    found = assert_eventually(three_done, 90, "three runs of timezone_daily to succeed")
    logical = sorted(datetime.fromisoformat(r["logical_date"].replace("Z", "+00:00")) for r in found)[:3]
    assert [pendulum.instance(moment).in_timezone(zone) for moment in logical] == [
        start.add(days=day) for day in range(3)
    ]
    # As on Airflow, template dates stay in UTC: ds of a run at Amsterdam midnight is the day before.
    first = sorted(found, key=lambda r: r["logical_date"])[0]
    utc_start, utc_end = start.in_timezone("UTC"), start.add(days=1).in_timezone("UTC")
    expected = f"interval {utc_start} to {utc_end} ds={utc_start.to_date_string()}"
    assert expected in log(cluster, "timezone_daily", first["run_id"], "report")
