"""Assets with real processes: `tradewind assets emit`, outlets, conditions and a restart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.harness import ROOT, Cluster, assert_eventually, write_dag

ASSET_DAGS = """
from datetime import datetime
from airflow.sdk import DAG, Asset, task
from airflow.providers.standard.operators.bash import BashOperator

orders = Asset("s3://lake/orders")
prices = Asset("s3://lake/prices")
OUT = {out!r}

with DAG(dag_id="make_orders", schedule=None, start_date=datetime(2024, 1, 1)):
    @task(outlets=[orders])
    def write_orders(outlet_events=None):
        outlet_events[orders].extra = {{"rows": 42}}

    write_orders()

with DAG(dag_id="on_orders_and_prices", schedule=orders & prices, start_date=datetime(2024, 1, 1)):
    @task
    def report(triggering_asset_events=None, run_id=None):
        seen = {{str(asset.uri): [e.extra for e in events] for asset, events in triggering_asset_events.items()}}
        with open(OUT + "/" + run_id, "w") as handle:
            handle.write(__import__("json").dumps(seen, sort_keys=True))

    report()

with DAG(dag_id="on_either", schedule=orders | prices, start_date=datetime(2024, 1, 1)):
    BashOperator(task_id="note", bash_command="echo either")

    @task(inlets=[prices])
    def read_prices(inlet_events=None, run_id=None):
        with open(OUT + "/inlets-" + run_id, "w") as handle:
            handle.write(__import__("json").dumps([e.extra for e in inlet_events[prices]]))

    read_prices()
"""


def runs(cluster: Cluster, dag_id: str) -> list[dict[str, Any]]:
    return json.loads(cluster.cli("runs", "list", "--dag", dag_id, "--json").stdout)


def succeeded(cluster: Cluster, dag_id: str, count: int) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        found = [r for r in runs(cluster, dag_id) if r["state"] == "success"]
        return found if len(found) >= count else None

    return assert_eventually(done, 60, f"{count} successful runs of {dag_id}")


def emit(cluster: Cluster, uri: str, extra: str = "{}") -> dict[str, Any]:
    return json.loads(cluster.cli("assets", "emit", uri, "--extra", extra, "--json").stdout)


def test_emit_outlets_and_conditions_start_dags_and_the_queue_survives_a_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_dag(cluster.dags, "assets.py", ASSET_DAGS.format(out=str(out)))
    coordinator = cluster.coordinator()
    cluster.worker("w1")
    assert_eventually(lambda: "on_either" in cluster.cli("dags", "list").stdout, 30, "the DAGs to be parsed")

    # An external event: `a | b` starts at once; `a & b` waits for prices.
    first = emit(cluster, "s3://lake/prices", '{"day": "mon"}')
    assert [r["dag_id"] for r in first["dag_runs"]] == ["on_either"]
    assert all(r["run_type"] == "asset_triggered" for r in first["dag_runs"])
    assert runs(cluster, "on_orders_and_prices") == []

    # Restart the coordinator: the queued prices event is still there.
    coordinator.kill()
    coordinator.popen.wait(timeout=10)
    cluster.coordinator(port=cluster.port)

    # A task with outlets: its success emits the orders event, with the extra it set.
    cluster.cli("dags", "trigger", "make_orders")
    (run,) = succeeded(cluster, "on_orders_and_prices", 1)
    seen = assert_eventually(lambda: (out / run["run_id"]).exists() and (out / run["run_id"]).read_text(), 30, "report")
    assert json.loads(seen) == {"s3://lake/orders": [{"rows": 42}], "s3://lake/prices": [{"day": "mon"}]}
    either = succeeded(cluster, "on_either", 2)
    for run_either in either:
        assert json.loads((out / f"inlets-{run_either['run_id']}").read_text()) == [{"day": "mon"}]

    events = json.loads(cluster.cli("assets", "events", "--json").stdout)
    assert [(e["uri"], e.get("source_dag_id", "")) for e in events] == [
        ("s3://lake/orders", "make_orders"),
        ("s3://lake/prices", ""),
    ]
    assets = {a["uri"]: a for a in json.loads(cluster.cli("assets", "list", "--json").stdout)}
    assert assets["s3://lake/orders"]["producing_tasks"] == ["make_orders.write_orders"]
    assert assets["s3://lake/prices"]["consuming_dag_ids"] == ["on_either", "on_orders_and_prices"]


def test_emitting_an_unknown_asset_is_one_line_and_exit_1(cluster: Cluster) -> None:
    cluster.coordinator()
    result = cluster.cli("assets", "emit", "s3://nowhere", check=False)
    assert result.returncode == 1
    assert result.stderr == "error: asset 's3://nowhere' not found: no DAG in the DAG folder names it\n"


def test_the_readme_example_runs_the_consumer_after_the_producer_and_an_emitted_event(cluster: Cluster) -> None:
    shutil.copy(ROOT / "dags" / "example_assets.py", cluster.dags / "example_assets.py")
    cluster.coordinator()
    cluster.worker("w1")
    assert_eventually(lambda: "example_asset_consumer" in cluster.cli("dags", "list").stdout, 30, "the DAGs")
    cluster.cli("dags", "trigger", "example_asset_producer")
    succeeded(cluster, "example_asset_producer", 1)
    assert runs(cluster, "example_asset_consumer") == []
    cluster.cli("assets", "emit", "s3://lake/prices", "--extra", '{"day": "mon"}')
    (run,) = succeeded(cluster, "example_asset_consumer", 1)
    log = cluster.cli("tasks", "logs", "example_asset_consumer", run["run_id"], "report").stdout
    assert "s3://lake/orders [{'rows': 42}]" in log and "s3://lake/prices [{'day': 'mon'}]" in log


ALIAS_DAGS = """
from datetime import datetime
from airflow.sdk import DAG, Asset, AssetAlias, Metadata, task

OUT = {out!r}
files = AssetAlias("daily-files")

with DAG(dag_id="write_files", schedule=None, start_date=datetime(2024, 1, 1)):
    @task(outlets=[files])
    def write(outlet_events=None):
        outlet_events[files].add(Asset("s3://files/a.csv"), extra={{"rows": 1}})
        yield Metadata(Asset("s3://files/b.csv"), {{"rows": 2}}, alias=files)

    write()

with DAG(dag_id="on_files", schedule=[files], start_date=datetime(2024, 1, 1)):
    @task
    def read(triggering_asset_events=None, run_id=None):
        seen = {{str(asset.uri): [e.extra for e in events] for asset, events in triggering_asset_events.items()}}
        seen["through the alias"] = [e.asset.uri for e in triggering_asset_events[files]]
        with open(OUT + "/" + run_id, "w") as handle:
            handle.write(__import__("json").dumps(seen, sort_keys=True))

    read()
"""


def test_events_added_through_an_alias_start_the_dag_scheduled_on_it(cluster: Cluster, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_dag(cluster.dags, "aliases.py", ALIAS_DAGS.format(out=str(out)))
    cluster.coordinator()
    cluster.worker("w1")
    assert_eventually(lambda: "on_files" in cluster.cli("dags", "list").stdout, 30, "the DAGs to be parsed")
    cluster.cli("dags", "trigger", "write_files")
    (run,) = succeeded(cluster, "on_files", 1)
    seen = json.loads((out / run["run_id"]).read_text())
    assert seen == {
        "s3://files/a.csv": [{"rows": 1}],
        "s3://files/b.csv": [{"rows": 2}],
        "through the alias": ["s3://files/a.csv", "s3://files/b.csv"],
    }
    events = json.loads(cluster.cli("assets", "events", "--json").stdout)
    assert [e.get("source_aliases") for e in events] == [["daily-files"], ["daily-files"]]
    emitted = emit(cluster, "s3://files/a.csv")
    assert [r["dag_id"] for r in emitted["dag_runs"]] == ["on_files"]
