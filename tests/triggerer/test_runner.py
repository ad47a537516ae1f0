"""The triggerer's runner on a real loop: built-in and bundle triggers fire, broken ones fail,
cancelled ones stop, and one that blocks the loop is logged by name."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tradewind import xcom_codec
from tradewind.v1 import triggerer_pb2
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
    caplog.set_level(logging.WARNING, logger="asyncio")
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
