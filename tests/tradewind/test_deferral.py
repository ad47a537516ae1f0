"""Deferral in the task: defer() and resume_execution(), deferrable sensors, and the triggers
they defer to, run in this process."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tradewind import (
    DAG,
    BaseOperator,
    DateTimeSensor,
    DateTimeTrigger,
    FileSensor,
    FileTrigger,
    SensorTimeout,
    TaskDeferralTimeout,
    TaskDeferred,
    TimeDeltaTrigger,
    TriggerEvent,
    xcom_codec,
)
from tradewind.compat.airflow import airflow_imports
from tradewind.exceptions import TaskFailed, TaskSkipped
from tradewind.execution import deferral_of, outcome_of
from tradewind.triggers import inotify

START = datetime(2026, 1, 1, tzinfo=UTC)


def context() -> dict[str, Any]:
    return {"ti": SimpleNamespace(), "logical_date": START, "data_interval_end": START}


class Waits(BaseOperator):
    def execute(self, context: dict[str, Any]) -> Any:
        self.defer(trigger=TimeDeltaTrigger(timedelta(hours=1)), method_name="done", kwargs={"n": 2}, timeout=60)

    def done(self, context: dict[str, Any], n: int, event: Any = None) -> Any:
        return {"n": n, "event": event}


def test_defer_raises_task_deferred_that_travels_as_a_deferral() -> None:
    with DAG("d", schedule=None):
        task = Waits(task_id="waits")
    with pytest.raises(TaskDeferred) as raised:
        task.execute(context())
    assert outcome_of(raised.value) == ("deferred", "")
    deferral = deferral_of(raised.value)
    assert deferral["trigger_classpath"] == "tradewind.triggers.temporal.DateTimeTrigger"
    assert deferral["next_method"] == "done" and deferral["timeout_seconds"] == 60.0
    assert xcom_codec.loads(deferral["next_kwargs_json"]) == {"n": 2}
    moment = xcom_codec.loads(deferral["trigger_kwargs_json"])["moment"]
    assert isinstance(moment, datetime) and moment > datetime.now(UTC) + timedelta(minutes=59)


def test_a_resumed_task_runs_its_method_and_a_timed_out_one_fails() -> None:
    with DAG("d", schedule=None):
        task = Waits(task_id="waits")
        sensor = FileSensor(task_id="wait", filepath="/nonexistent/x", deferrable=True, soft_fail=True)
        hard = FileSensor(task_id="hard", filepath="/nonexistent/x", deferrable=True)
    assert task.resume_execution("done", {"n": 3, "event": True}, context()) == {"n": 3, "event": True}
    with pytest.raises(TaskDeferralTimeout, match="task 'waits': its trigger did not fire"):
        task.resume_execution("__fail__", {"error": "Trigger timeout"}, context())
    with pytest.raises(TaskFailed, match="its trigger failed: OSError: gone"):
        task.resume_execution("__fail__", {"error": "OSError: gone"}, context())
    with pytest.raises(TaskSkipped):
        sensor.resume_execution("__fail__", {"error": "Trigger timeout"}, context())
    with pytest.raises(SensorTimeout):
        hard.resume_execution("__fail__", {"error": "Trigger timeout"}, context())


def test_deferrable_sensors_defer_only_when_their_condition_does_not_hold_yet(tmp_path: Path) -> None:
    with DAG("d", schedule=None):
        files = FileSensor(task_id="files", filepath=str(tmp_path / "*.csv"), deferrable=True, timeout=90)
        past = DateTimeSensor(task_id="past", target_time=START, deferrable=True)
        future = DateTimeSensor(task_id="future", target_time=datetime.now(UTC) + timedelta(hours=1), deferrable=True)
    with pytest.raises(TaskDeferred) as raised:
        files.execute(context())
    assert isinstance(raised.value.trigger, FileTrigger) and raised.value.timeout == 90
    (tmp_path / "a.csv").write_text("")
    assert files.execute(context()) is None
    assert past.execute(context()) is None
    with pytest.raises(TaskDeferred) as raised:
        future.execute(context())
    assert isinstance(raised.value.trigger, DateTimeTrigger)


def test_a_file_trigger_fires_soon_after_the_file_appears(tmp_path: Path) -> None:
    async def scenario() -> float:
        trigger = FileTrigger(str(tmp_path / "in" / "*.csv"), poke_interval=30)
        (tmp_path / "in").mkdir()
        loop = asyncio.get_running_loop()
        written: list[float] = []

        def write() -> None:
            written.append(time.monotonic())
            (tmp_path / "in" / "a.csv").write_text("x")

        loop.call_later(0.1, write)
        async for event in trigger.run():
            assert event == TriggerEvent(True)
            return time.monotonic() - written[0]
        raise AssertionError("no event")

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) < 5  # well within its 30 s poke interval


def test_a_date_time_trigger_fires_at_its_moment_with_it_as_payload() -> None:
    async def first() -> TriggerEvent:
        async for event in DateTimeTrigger(datetime.now(UTC) + timedelta(seconds=0.05)).run():
            return event
        raise AssertionError("no event")

    event = asyncio.run(first())
    assert isinstance(event.payload, datetime)
    with pytest.raises(ValueError, match="timezone-aware"):
        DateTimeTrigger(datetime(2026, 1, 1))


def test_airflow_trigger_and_deferral_imports_resolve_to_tradewind() -> None:
    with airflow_imports():
        from airflow.exceptions import TaskDeferred as AirflowTaskDeferred
        from airflow.providers.standard.triggers.file import FileTrigger as ProviderFileTrigger
        from airflow.triggers.base import BaseTrigger as AirflowBaseTrigger
        from airflow.triggers.temporal import TimeDeltaTrigger as AirflowTimeDeltaTrigger

    from tradewind import BaseTrigger

    assert (AirflowTaskDeferred, ProviderFileTrigger, AirflowBaseTrigger, AirflowTimeDeltaTrigger) == (
        TaskDeferred,
        FileTrigger,
        BaseTrigger,
        TimeDeltaTrigger,
    )


@pytest.mark.skipif(inotify._LIBC is None, reason="inotify is Linux's")
def test_a_file_trigger_on_folders_made_after_it_started_is_told_of_the_file_in_them(tmp_path: Path) -> None:
    async def first_event(trigger: FileTrigger) -> object:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("no event")

    async def scenario() -> tuple[object, object]:
        waiting = asyncio.create_task(first_event(FileTrigger(str(tmp_path / "a" / "b" / "*.csv"), poke_interval=60)))
        watcher = FileTrigger(str(tmp_path / "land" / "*.csv"), poke_interval=60)
        watcher.watching = True
        watched = asyncio.create_task(first_event(watcher))
        instance = inotify._INSTANCES.get(asyncio.get_running_loop())
        async with asyncio.timeout(10):  # both watch tmp_path, as their folders do not exist yet
            while instance is None or sum(map(len, instance.waiters.values())) < 2:
                await asyncio.sleep(0.01)
                instance = inotify._INSTANCES.get(asyncio.get_running_loop())
        (tmp_path / "a" / "b").mkdir(parents=True)
        (tmp_path / "land").mkdir()
        (tmp_path / "a" / "b" / "x.csv").write_text("x")
        (tmp_path / "land" / "y.csv").write_text("y")
        return await asyncio.wait_for(waiting, 10), await asyncio.wait_for(watched, 10)

    fired, landed = asyncio.run(scenario())  # well within their 60 s poke interval
    assert fired is True and landed == str(tmp_path / "land" / "y.csv")
