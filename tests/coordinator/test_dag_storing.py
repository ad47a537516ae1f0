"""The coordinator stores what the DAG processor finds: one transaction a scan, versions pinned to code."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import peewee
import pytest

from coordinator.app import Coordinator
from coordinator.metastore import models as m
from tradewind.client import Client
from tradewind.config import Settings

TASK_DAG = """
from tradewind import DAG, task

with DAG("pinned", schedule=None):
    @task
    def work():
        return {value}

    work()
"""


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", dags_folder=tmp_path / "dags", bind="127.0.0.1:0", parse_timeout=10.0)


def _run(tmp_path: Path, scenario: Callable[[Coordinator, Client], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        coordinator = Coordinator(_settings(tmp_path))
        try:
            address = await coordinator.start()
            with Client(address) as client:
                return await scenario(coordinator, client)
        finally:
            await coordinator.stop()

    return asyncio.run(main())


def test_a_metastore_error_while_storing_a_scan_loses_no_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dags").mkdir()

    async def scenario(coordinator: Coordinator, client: Client) -> None:
        assert coordinator.store is not None
        store = coordinator.store
        (tmp_path / "dags" / "late.py").write_text(TASK_DAG.replace("pinned", "late").format(value=1))
        (tmp_path / "dags" / "other.py").write_text(TASK_DAG.replace("pinned", "other").format(value=1))
        real = store.save_dag_version
        calls: list[str] = []

        def fails_on_the_second_dag(data: dict[str, Any], *args: Any) -> Any:
            calls.append(data["dag_id"])
            if len(calls) == 2:
                raise peewee.OperationalError("database is locked")
            return real(data, *args)

        monkeypatch.setattr(store, "save_dag_version", fails_on_the_second_dag)
        with pytest.raises(peewee.OperationalError):
            await coordinator._scan_once()
        assert m.Dag.select().count() == 0, "the scan's first DAG was committed without the rest"
        assert m.Bundle.select().count() == 0, "the failed scan's bundle was committed"
        await coordinator._scan_once()
        assert {d.dag_id for d in m.Dag.select()} == {"late", "other"}
        assert (await asyncio.to_thread(client.get_dag, "late")).dag.version == 1

    _run(tmp_path, scenario)


def test_editing_a_task_body_is_a_new_version_and_a_live_run_keeps_its_code_across_a_restart(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "pinned.py").write_text(TASK_DAG.format(value=1))

    async def first(coordinator: Coordinator, client: Client) -> tuple[str, str]:
        run = (await asyncio.to_thread(client.trigger_dag, "pinned")).dag_run
        (dags / "pinned.py").write_text(TASK_DAG.format(value=2))
        await coordinator._scan_once()
        assert (await asyncio.to_thread(client.get_dag, "pinned")).dag.version == 2
        return run.run_id, _bundle_of(run.run_id)

    run_id, old_bundle = _run(tmp_path, first)
    (dags / "helper.sql").write_text("select 1\n")

    async def after_restart(coordinator: Coordinator, client: Client) -> None:
        assert coordinator.store is not None
        assert _bundle_of(run_id) == old_bundle
        assert coordinator.store.bundle(old_bundle) is not None, "a live run's bundle was deleted"
        versions = [v.bundle_hash for v in m.DagVersion.select().order_by(m.DagVersion.version)]
        assert len(versions) == 3 and len(set(versions)) == 3, "the helper file made no new version"
        await asyncio.to_thread(client.cancel_dag_run, "pinned", run_id)
        (dags / "helper.sql").write_text("select 2\n")
        await coordinator._scan_once()
        assert coordinator.store.bundle(old_bundle) is None, "an unused bundle was kept"
        latest = m.DagVersion.select().order_by(m.DagVersion.version.desc()).first()
        assert [b.hash for b in m.Bundle.select()] == [latest.bundle_hash]

    _run(tmp_path, after_restart)


def _bundle_of(run_id: str) -> str:
    run = m.DagRun.get(m.DagRun.run_id == run_id)
    return str(m.DagVersion.get_by_id(run.dag_version_id).bundle_hash)


def test_a_dag_whose_file_stops_importing_keeps_the_bundle_it_last_imported_from(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "pinned.py").write_text(TASK_DAG.format(value=1))

    async def scenario(coordinator: Coordinator, client: Client) -> None:
        (dags / "pinned.py").write_text(TASK_DAG.format(value=1) + "\nthis is not python\n")
        await coordinator._scan_once()
        assert [e.fileloc for e in (await asyncio.to_thread(client.list_import_errors)).import_errors] == ["pinned.py"]
        assert (await asyncio.to_thread(client.get_dag, "pinned")).dag.version == 1

    _run(tmp_path, scenario)
