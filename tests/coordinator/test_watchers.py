"""Asset watchers in the core: a live DAG's watcher runs on one live triggerer, moves when that
one is lost, stops when the DAG is paused, deactivated or drops it, and every event (once per
event id) is an asset event that starts the DAG scheduled on the asset."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coordinator.dagspec import DagSpec
from coordinator.engine import Engine
from coordinator.events import DagsDeactivated, TriggererLeft, TriggerFired
from tests.coordinator.engine_kit import add_dag, command, make_engine
from tests.coordinator.test_deferral import commands, triggerer
from tradewind import DAG, Asset, AssetWatcher, BashOperator
from tradewind.serialization import serialize_dag
from tradewind.triggers import FileTrigger

START = datetime(2024, 1, 1, tzinfo=UTC)
URI = "file:///landing"


def watched(folder: str = "/landing/*.csv", name: str = "files") -> Asset:
    return Asset(URI, watchers=[AssetWatcher(name, trigger=FileTrigger(folder, poke_interval=1))])


def on_asset(dag_id: str, asset: Asset, outlet: Asset | None = None) -> dict[str, Any]:
    with DAG(dag_id, schedule=[asset], start_date=START) as dag:
        BashOperator(task_id="load", bash_command="true", outlets=[outlet] if outlet else [])
    return serialize_dag(dag, f"{dag_id}.py")


def fired(name: str, run: Any, payload: Any, event_id: str) -> TriggerFired:
    return TriggerFired(name, 0, run.trigger_id, json.dumps(payload), "", (URI, "files"), event_id)


def new_version(engine: Engine, data: dict[str, Any], file_hash: str) -> None:
    """A later version of a DAG, as the DAG processor stores and registers it."""
    version, _ = engine.store.save_dag_version(data, file_hash, "e" * 64, START, {"fileloc": data["fileloc"]})
    assert version is not None
    engine.scheduler.register_dag(DagSpec.build(version.id, data, "e" * 64), False, None)


def runs_of(engine: Engine, dag_id: str) -> list[Any]:
    return [r for r in engine.scheduler.runs.values() if r.dag_id == dag_id]


def test_a_watchers_every_event_starts_a_run_once_per_event_id(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, on_asset("load", watched()))
        t1 = await triggerer(engine, "t1")
        (run,) = commands(t1, "run")
        assert run.classpath == "tradewind.triggers.file.FileTrigger" and not run.bundle_hash
        assert (run.asset_watcher.asset_uri, run.asset_watcher.name) == (URI, "files")
        assert run.waiter == f"asset watcher files of {URI}"

        await engine.turn([fired("t1", run, "/landing/1.csv", "e1")])
        await engine.turn([fired("t1", run, "/landing/1.csv", "e1")])  # resent after a reconnect
        await engine.turn([fired("t1", run, "/landing/2.csv", "e2")])
        assert [a.event_id for a in commands(t1, "fired_ack")] == ["e1", "e1", "e2"]
        started = sorted(runs_of(engine, "load"), key=lambda r: r.id)
        assert [[e.extra for e in r.asset_events] for r in started] == [
            [{"from_trigger": True, "payload": "/landing/1.csv"}],
            [{"from_trigger": True, "payload": "/landing/2.csv"}],
        ]
        assert engine.scheduler.watchers_by_key[(URI, "files")].id == run.trigger_id  # still running

    asyncio.run(scenario())


def test_a_watcher_waits_for_a_triggerer_and_moves_when_its_triggerer_is_lost(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, on_asset("load", watched()))
        await engine.turn([])
        watcher = engine.scheduler.watchers_by_key[(URI, "files")]
        assert watcher.triggerer == "" and watcher.id in engine.scheduler.unassigned_triggers
        assert engine.scheduler.watchers_by_uri() == {URI: [watcher]}
        t1 = await triggerer(engine, "t1")
        t2 = await triggerer(engine, "t2")
        (run,) = commands(t1, "run")
        assert commands(t2, "run") == []
        await engine.turn([TriggererLeft("t1", engine.scheduler.triggerers["t1"].generation)])
        (moved,) = commands(t2, "run")
        assert moved.trigger_id == run.trigger_id and watcher.triggerer == "t2"

    asyncio.run(scenario())


def test_a_watcher_stops_when_its_dag_is_paused_deactivated_or_drops_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, on_asset("load", watched()))
        t1 = await triggerer(engine, "t1")
        (first,) = commands(t1, "run")

        await command(engine, "set_paused", dag_id="load", paused=True)
        assert [c.trigger_id for c in commands(t1, "cancel")] == [first.trigger_id]
        await command(engine, "set_paused", dag_id="load", paused=False)
        (second,) = commands(t1, "run")
        assert second.trigger_id != first.trigger_id

        new_version(engine, on_asset("load", watched("/other/*.csv")), "h2")  # other arguments
        await engine.turn([])
        out = [m for m in [t1.get_nowait() for _ in range(t1.qsize())]]
        assert [m.cancel.trigger_id for m in out if m.WhichOneof("body") == "cancel"] == [second.trigger_id]
        (third,) = [m.run for m in out if m.WhichOneof("body") == "run"]
        assert json.loads(third.kwargs_json)["filepath"] == "/other/*.csv"

        await engine.turn([DagsDeactivated(("load",))])
        assert [c.trigger_id for c in commands(t1, "cancel")] == [third.trigger_id]
        assert engine.scheduler.watchers_by_key == {}

        new_version(engine, on_asset("load", Asset(URI)), "h3")  # active again, without the watcher
        await engine.turn([])
        assert commands(t1, "run") == [] and engine.scheduler.watchers_by_key == {}

    asyncio.run(scenario())


def test_dags_naming_one_watcher_share_its_trigger_and_an_outlets_watcher_does_not_run(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, on_asset("a", watched()))
        add_dag(engine, on_asset("b", watched()))
        other = Asset("s3://out", watchers=[AssetWatcher("never", trigger=FileTrigger("/never"))])
        add_dag(engine, on_asset("c", Asset("s3://plain"), outlet=other))
        t1 = await triggerer(engine, "t1")
        (run,) = commands(t1, "run")
        await engine.turn([fired("t1", run, "/landing/1.csv", "e1")])
        assert len(runs_of(engine, "a")) == 1 and len(runs_of(engine, "b")) == 1

        await command(engine, "set_paused", dag_id="a", paused=True)
        assert commands(t1, "cancel") == []  # b still wants it

    asyncio.run(scenario())


def test_a_watchers_failure_is_logged_and_a_stale_assets_event_dropped(tmp_path: Path, caplog: Any) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, on_asset("load", watched()))
        t1 = await triggerer(engine, "t1")
        (run,) = commands(t1, "run")
        await engine.turn([TriggerFired("t1", 0, run.trigger_id, "", "OSError: boom", (URI, "files"))])
        assert commands(t1, "fired_ack") == [] and runs_of(engine, "load") == []
        assert "asset watcher files of file:///landing failed on triggerer t1: OSError: boom" in caplog.text
        stale = TriggerFired("t1", 0, run.trigger_id, '"x"', "", ("s3://gone", "files"), "e9")
        await engine.turn([stale])
        assert [a.event_id for a in commands(t1, "fired_ack")] == ["e9"] and runs_of(engine, "load") == []

    asyncio.run(scenario())


def test_a_watchers_trigger_class_from_the_dag_folder_runs_from_its_bundle(tmp_path: Path) -> None:
    class Custom:
        def serialize(self) -> tuple[str, dict[str, Any]]:
            return "my_triggers.Custom", {"n": 1}

    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, on_asset("load", Asset(URI, watchers=[AssetWatcher("files", trigger=Custom())])))
        t1 = await triggerer(engine, "t1")
        (run,) = commands(t1, "run")
        assert (run.classpath, run.bundle_hash) == ("my_triggers.Custom", "e" * 64)

    asyncio.run(scenario())


def test_after_a_restart_the_recovered_dags_watchers_run_again(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, on_asset("load", watched()))
        add_dag(engine, on_asset("paused", Asset("s3://p", watchers=[AssetWatcher("w", FileTrigger("/p"))])))
        await command(engine, "set_paused", dag_id="paused", paused=True)

        restarted = make_engine(tmp_path, store=engine.store)
        t1 = await triggerer(restarted, "t1")
        (run,) = commands(t1, "run")
        assert (run.asset_watcher.asset_uri, run.asset_watcher.name) == (URI, "files")

    asyncio.run(scenario())
