"""The triggerer's runner on a real loop: built-in and bundle triggers fire, broken ones fail,
cancelled ones stop, and one that blocks the loop is logged by name."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tradewind import xcom_codec
from tradewind.v1 import triggerer_pb2
from triggerer import runner as runner_module
from triggerer.runner import TriggerRunner, watch_blocking

CUSTOM = """
import time
from tradewind import BaseTrigger, TriggerEvent


class Ready(BaseTrigger):
    def __init__(self, value, block=0.0):
        super().__init__()
        self.value, self.block = value, block

    def serialize(self):
        return "helpers.Ready", {"value": self.value, "block": self.block}

    async def run(self):
        time.sleep(self.block)
        yield TriggerEvent({"value": self.value})
"""


def run_triggers(
    tmp_path: Path, *runs: triggerer_pb2.RunTrigger, cancel: int = 0
) -> list[triggerer_pb2.TriggererMessage]:
    (tmp_path / "helpers.py").write_text(CUSTOM)
    reports: list[triggerer_pb2.TriggererMessage] = []

    async def bundle_dir(bundle_hash: str) -> Path:
        assert bundle_hash == "b" * 64
        return tmp_path

    async def scenario() -> None:
        watch_blocking(asyncio.get_running_loop())
        runner = TriggerRunner(reports.append, bundle_dir)
        for run in runs:
            runner.start(run)
        if cancel:
            runner.cancel(cancel)
        for _ in range(200):
            if not runner.running:
                return
            await asyncio.sleep(0.01)
        runner.cancel_all()

    asyncio.run(scenario())
    return reports


def test_built_in_and_bundle_triggers_fire_and_broken_ones_fail(tmp_path: Path) -> None:
    reports = run_triggers(
        tmp_path,
        triggerer_pb2.RunTrigger(
            trigger_id=1,
            classpath="tradewind.triggers.temporal.TimeDeltaTrigger",
            kwargs_json=xcom_codec.dumps({"delta": __import__("datetime").timedelta(seconds=0.01)}),
        ),
        triggerer_pb2.RunTrigger(
            trigger_id=2, classpath="helpers.Ready", kwargs_json='{"value": 7}', bundle_hash="b" * 64
        ),
        triggerer_pb2.RunTrigger(trigger_id=3, classpath="helpers.Missing", kwargs_json="{}", bundle_hash="b" * 64),
        triggerer_pb2.RunTrigger(
            trigger_id=4, classpath="tradewind.triggers.file.FileTrigger", kwargs_json='{"filepath": "/nonexistent/x"}'
        ),
        cancel=4,
    )
    by_id = {(r.fired.trigger_id or r.failed.trigger_id): r for r in reports}
    assert sorted(by_id) == [1, 2, 3]
    assert xcom_codec.loads(by_id[2].fired.event_json) == {"value": 7}
    assert by_id[3].WhichOneof("body") == "failed" and "Missing" in by_id[3].failed.error


def test_a_trigger_blocking_the_loop_is_logged_by_name(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tradewind.triggerer")
    run_triggers(
        tmp_path,
        triggerer_pb2.RunTrigger(
            trigger_id=9,
            classpath="helpers.Ready",
            kwargs_json='{"value": 1, "block": 0.3}',
            bundle_hash="b" * 64,
            waiter="d.slow of run r1",
        ),
    )
    assert any("trigger 9 helpers.Ready for d.slow of run r1" in r.getMessage() for r in caplog.records)


def watch_until(
    tmp_path: Path,
    run: triggerer_pb2.RunTrigger,
    enough: int,
    meanwhile: Callable[[], Awaitable[None]] | None = None,
    armed: str = "",
) -> list[triggerer_pb2.TriggererMessage]:
    """Run an asset watcher's trigger until it has reported `enough` times, then cancel it;
    `meanwhile` runs once the trigger has logged `armed` (at once when empty)."""
    (tmp_path / "helpers.py").write_text(CUSTOM)
    reports: list[triggerer_pb2.TriggererMessage] = []

    async def bundle_dir(bundle_hash: str) -> Path:
        return tmp_path

    async def scenario() -> None:
        runner = TriggerRunner(reports.append, bundle_dir)
        logged: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
        triggers_log = logging.getLogger("tradewind.triggers")
        level = triggers_log.level
        triggers_log.addHandler(handler)
        triggers_log.setLevel(logging.INFO)
        try:
            runner.start(run)
            for _ in range(500):
                if not armed or any(armed in message for message in logged):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError(f"the trigger did not log {armed!r} within 5 s")
        finally:
            triggers_log.removeHandler(handler)
            triggers_log.setLevel(level)
        if meanwhile is not None:
            await meanwhile()
        for _ in range(500):
            if len(reports) >= enough:
                break
            await asyncio.sleep(0.01)
        runner.cancel_all()
        await asyncio.sleep(0)

    asyncio.run(scenario())
    return reports


def watcher_run(classpath: str, kwargs: dict[str, object]) -> triggerer_pb2.RunTrigger:
    ref = triggerer_pb2.AssetWatcherRef(asset_uri="file:///in", name="files")
    return triggerer_pb2.RunTrigger(
        trigger_id=7,
        classpath=classpath,
        kwargs_json=xcom_codec.dumps(kwargs),
        bundle_hash="b" * 64,
        waiter="asset watcher files of file:///in",
        asset_watcher=ref,
    )


def test_a_watchers_trigger_is_re_armed_after_each_event_and_each_event_has_its_own_id(tmp_path: Path) -> None:
    reports = watch_until(tmp_path, watcher_run("helpers.Ready", {"value": 1}), 3)
    assert len(reports) >= 3 and all(r.WhichOneof("body") == "fired" for r in reports)
    assert all(r.fired.asset_watcher.name == "files" and r.fired.trigger_id == 7 for r in reports)
    assert len({r.fired.event_id for r in reports}) == len(reports)
    assert xcom_codec.loads(reports[0].fired.event_json) == {"value": 1}


def test_a_watchers_file_trigger_fires_once_per_new_file_and_not_for_files_already_there(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "old.csv").write_text("x")

    async def land() -> None:
        (landing / "1.csv").write_text("1")
        (landing / "2.csv").write_text("2")

    run = watcher_run("tradewind.triggers.file.FileTrigger", {"filepath": f"{landing}/*.csv", "poke_interval": 0.1})
    reports = watch_until(tmp_path, run, 2, land, armed="watching")
    assert sorted(xcom_codec.loads(r.fired.event_json) for r in reports) == [f"{landing}/1.csv", f"{landing}/2.csv"]


def test_a_failing_watcher_reports_each_failure_and_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_module, "WATCHER_BACKOFF", 0.01)
    reports = watch_until(tmp_path, watcher_run("helpers.Missing", {}), 2)
    assert len(reports) >= 2 and all(r.WhichOneof("body") == "failed" for r in reports)
    assert "Missing" in reports[0].failed.error and reports[0].failed.asset_watcher.asset_uri == "file:///in"


def test_a_watchers_file_delete_trigger_fires_and_deletes_each_time_the_file_is_written(tmp_path: Path) -> None:
    target = tmp_path / "go"

    async def land_twice() -> None:
        target.write_text("1")
        for _ in range(500):
            if not target.exists():
                break
            await asyncio.sleep(0.01)
        target.write_text("2")

    run = watcher_run("tradewind.triggers.file.FileDeleteTrigger", {"filepath": str(target), "poke_interval": 0.1})
    reports = watch_until(tmp_path, run, 2, land_twice)
    assert [xcom_codec.loads(r.fired.event_json) for r in reports] == [True, True]
    assert not target.exists()
