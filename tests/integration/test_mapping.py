"""Dynamic task mapping end to end: Airflow-style DAG files (tests/airflow_dags/mapping) run by a
real coordinator and worker, every task instance's final state and XCom value checked."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from tests.harness import Cluster
from tests.integration.test_end_to_end import finished_run, trigger

DAGS = Path(__file__).parent.parent / "airflow_dags" / "mapping"


def instances(cluster: Cluster, dag_id: str, run_id: str) -> dict[tuple[str, int], str]:
    rows = json.loads(cluster.cli("tasks", "list", dag_id, run_id, "--json").stdout)
    return {(row["task_id"], row.get("map_index", -1)): row["state"] for row in rows}


def xcoms(cluster: Cluster, dag_id: str, run_id: str) -> dict[tuple[str, int], Any]:
    """The return values of the run, read from the metastore."""
    with sqlite3.connect(cluster.db_url.removeprefix("sqlite:///")) as conn:
        rows = conn.execute(
            "SELECT x.task_id, x.map_index, x.value FROM xcom x JOIN dag_run r ON r.id = x.dag_run_id "
            "WHERE r.dag_id = ? AND r.run_id = ? AND x.key = 'return_value'",
            (dag_id, run_id),
        ).fetchall()
    conn.close()
    return {(task_id, index): json.loads(value) for task_id, index, value in rows}


def test_airflow_mapping_dags_run_with_one_task_instance_per_item(cluster: Cluster) -> None:
    for path in DAGS.glob("*.py"):
        shutil.copy(path, cluster.dags / path.name)
    cluster.coordinator()
    cluster.worker("w1")
    runs = {dag_id: trigger(cluster, dag_id) for dag_id in EXPECTED}
    for dag_id, (run_state, states, values) in EXPECTED.items():
        run_id = runs[dag_id]
        assert finished_run(cluster, dag_id, run_id, timeout=120)["state"] == run_state, dag_id
        assert instances(cluster, dag_id, run_id) == states, dag_id
        assert xcoms(cluster, dag_id, run_id) == values, dag_id
    rows = json.loads(cluster.cli("tasks", "list", "map_named", runs["map_named"], "--json").stdout)
    assert {(r["task_id"], r["map_index"]): r.get("rendered_map_index") for r in rows} == {
        ("weather", 0): "Lisbon",
        ("weather", 1): "Oslo",
        ("shell", 0): "item 0",
        ("shell", 1): "item 1",
    }
    table = cluster.cli("tasks", "list", "map_named", runs["map_named"]).stdout
    assert "weather[0] Lisbon" in table and "shell[1] item 1" in table


S, F = "success", "failed"
EXPECTED: dict[str, tuple[str, dict[tuple[str, int], str], dict[tuple[str, int], Any]]] = {
    "map_literal": (
        S,
        {("add", 0): S, ("add", 1): S, ("add", 2): S},
        {("add", 0): 11, ("add", 1): 12, ("add", 2): 13},
    ),
    "map_reduce": (
        S,
        {("make_list", -1): S, **{("square", i): S for i in range(4)}, ("total", -1): S},
        {("make_list", -1): [1, 2, 3, 4], ("square", 0): 1, ("square", 1): 4, ("square", 3): 16, ("total", -1): 21},
    ),
    "map_cross": (
        S,
        {("letters", -1): S, **{("pair", i): S for i in range(4)}},
        {
            ("letters", -1): {"a": 1, "b": 2},
            ("pair", 0): "a1-10",
            ("pair", 1): "a1-20",
            ("pair", 2): "b2-10",
            ("pair", 3): "b2-20",
        },
    ),
    "map_kwargs": (
        S,
        {("configs", -1): S, ("combine", 0): S, ("combine", 1): S},
        {("configs", -1): [{"a": 1, "b": 2}, {"a": 5, "b": 7}], ("combine", 0): 2, ("combine", 1): 35},
    ),
    "map_group": (
        S,
        {
            ("per_number.plus_one", 0): S,
            ("per_number.plus_one", 1): S,
            ("per_number.times", 0): S,
            ("per_number.times", 1): S,
            ("collect", -1): S,
        },
        {
            ("per_number.plus_one", 0): 2,
            ("per_number.plus_one", 1): 3,
            ("per_number.times", 0): 6,
            ("per_number.times", 1): 9,
            ("collect", -1): [6, 9],
        },
    ),
    "map_bash": (
        S,  # its leaf succeeded, as Airflow decides a run's state
        {("run", 0): S, ("run", 1): S, ("run", 2): F, ("after", -1): S},
        {("run", 0): "one", ("run", 1): "two", ("after", -1): "after"},
    ),
    "map_zero": (
        S,
        {("nothing", -1): S, ("use", -1): "skipped", ("after", -1): "skipped"},
        {("nothing", -1): []},
    ),
    "map_named": (
        S,
        {("weather", 0): S, ("weather", 1): S, ("shell", 0): S, ("shell", 1): S},
        {("weather", 0): 6, ("weather", 1): 4, ("shell", 0): "a", ("shell", 1): "b"},
    ),
    "map_too_long": (F, {("many", -1): S, ("use", -1): F}, {("many", -1): list(range(1025))}),
    "map_not_list": (F, {("one", -1): S, ("use", -1): F}, {("one", -1): 42}),
}


def test_a_mapped_instance_has_its_own_log_and_the_failure_of_an_expansion_is_told(cluster: Cluster) -> None:
    for name in ("bash_expand.py", "not_iterable.py"):
        shutil.copy(DAGS / name, cluster.dags / name)
    cluster.coordinator()
    cluster.worker("w1")
    bash_run, bad_run = trigger(cluster, "map_bash"), trigger(cluster, "map_not_list")
    finished_run(cluster, "map_bash", bash_run, timeout=90)
    finished_run(cluster, "map_not_list", bad_run, timeout=90)
    log = cluster.cli("tasks", "logs", "map_bash", bash_run, "run", "--map-index", "1").stdout
    assert "two" in log and "one" not in log
    unnamed = cluster.cli("tasks", "show", "map_bash", bash_run, "run", check=False)
    assert unnamed.returncode != 0
    assert "task 'run' of DAG 'map_bash' run" in unnamed.stderr and "is mapped into 3 task instances" in unnamed.stderr
    shown = cluster.cli("tasks", "show", "map_not_list", bad_run, "use").stdout
    assert "task 'use' cannot be mapped over the XCom 'return_value' of task 'one': it is a int" in shown
