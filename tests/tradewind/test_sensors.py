"""Sensors run in this process: the poke loop, timeouts, reschedule mode and each built-in sensor."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tradewind import (
    DAG,
    BaseSensorOperator,
    BashSensor,
    DateTimeSensor,
    DayOfWeekSensor,
    FileSensor,
    PokeReturnValue,
    PythonSensor,
    SensorTimeout,
    TimeDeltaSensor,
    TimeSensor,
    task,
)
from tradewind.compat.airflow import airflow_imports
from tradewind.exceptions import DagDefinitionError, TaskFailedNoRetry, TaskRescheduled, TaskSkipped
from tradewind.serialization import serialize_dag

START = datetime(2026, 1, 1, tzinfo=UTC)


def context(**extra: Any) -> dict[str, Any]:
    return {
        "ti": SimpleNamespace(reschedule_started_at=None, reschedule_count=0),
        "logical_date": START,
        "data_interval_end": START,
        **extra,
    }


class CountingSensor(BaseSensorOperator):
    def __init__(self, *, done_after: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.done_after = done_after
        self.pokes = 0

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        self.pokes += 1
        return PokeReturnValue(self.pokes >= self.done_after, xcom_value={"pokes": self.pokes})


def test_a_sensor_pokes_until_its_condition_holds_and_returns_the_poke_value() -> None:
    with DAG("d", schedule=None):
        sensor = CountingSensor(task_id="wait", done_after=3, poke_interval=0)
    assert sensor.execute(context()) == {"pokes": 3}
    assert sensor.pokes == 3


def test_a_sensor_past_its_timeout_fails_without_retry_or_is_skipped_with_soft_fail() -> None:
    with DAG("d", schedule=None):
        hard = CountingSensor(task_id="hard", done_after=10**9, poke_interval=0, timeout=0)
        soft = CountingSensor(task_id="soft", done_after=10**9, poke_interval=0, timeout=0, soft_fail=True)
    with pytest.raises(SensorTimeout, match="task 'hard': sensor timed out after") as raised:
        hard.execute(context())
    assert isinstance(raised.value, TaskFailedNoRetry)
    with pytest.raises(TaskSkipped, match="sensor timed out"):
        soft.execute(context())


def test_a_rescheduling_sensor_gives_its_slot_back_until_the_next_poke() -> None:
    with DAG("d", schedule=None):
        sensor = CountingSensor(task_id="wait", done_after=2, poke_interval=30, mode="reschedule")
    before = datetime.now(UTC)
    with pytest.raises(TaskRescheduled) as raised:
        sensor.execute(context())
    assert before + timedelta(seconds=30) <= raised.value.reschedule_date <= datetime.now(UTC) + timedelta(seconds=30)
    assert sensor.execute(context()) == {"pokes": 2}


def test_a_rescheduling_sensor_counts_its_timeout_from_the_first_poke_of_the_try() -> None:
    with DAG("d", schedule=None):
        sensor = CountingSensor(task_id="wait", done_after=10**9, poke_interval=5, timeout=60, mode="reschedule")
    long_ago = datetime.now(UTC) - timedelta(seconds=61)
    with pytest.raises(SensorTimeout):
        sensor.execute(context(ti=SimpleNamespace(reschedule_started_at=long_ago, reschedule_count=7)))


def test_exponential_backoff_grows_and_stays_within_max_wait_and_the_timeout() -> None:
    with DAG("d", schedule=None):
        sensor = CountingSensor(
            task_id="wait", done_after=1, poke_interval=2, exponential_backoff=True, max_wait=timedelta(seconds=20)
        )
    intervals = [sensor.next_poke_interval(START, 0, pokes) for pokes in range(1, 10)]
    assert intervals[0] >= 1 and max(intervals) == 20
    assert intervals[4] > intervals[1]
    assert sensor.next_poke_interval(START, sensor.timeout - 3, 30) <= 3


def test_silent_fail_treats_a_raising_poke_as_not_done() -> None:
    calls: list[int] = []

    def flaky() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("not mounted yet")
        return True

    with DAG("d", schedule=None):
        sensor = PythonSensor(task_id="wait", python_callable=flaky, poke_interval=0, silent_fail=True)
        loud = PythonSensor(task_id="loud", python_callable=flaky, poke_interval=0)
    assert sensor.execute(context()) is None and len(calls) == 2
    calls.clear()
    with pytest.raises(OSError, match="not mounted"):
        loud.execute(context())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"mode": "sometimes"}, "task 'wait': mode must be one of poke, reschedule, not 'sometimes'"),
        ({"poke_interval": -1}, "task 'wait': poke_interval must not be negative"),
        ({"timeout": "soon"}, "task 'wait': timeout must be a timedelta or seconds, not 'soon'"),
        ({"deferrable": True}, "task 'wait': Tradewind does not support deferrable=True for CountingSensor"),
    ],
)
def test_bad_sensor_arguments_fail_at_parse_time_naming_the_task(arguments: dict[str, Any], message: str) -> None:
    with DAG("d", schedule=None), pytest.raises(DagDefinitionError, match=message):
        CountingSensor(task_id="wait", done_after=1, **arguments)


def test_file_sensor_finds_a_file_by_glob_and_a_directory_holding_files(tmp_path: Path) -> None:
    with DAG("d", schedule=None):
        by_glob = FileSensor(task_id="by_glob", filepath=str(tmp_path / "in" / "*.csv"))
        deep = FileSensor(task_id="deep", filepath=str(tmp_path / "**" / "*.json"), recursive=True)
        folder = FileSensor(task_id="folder", filepath=str(tmp_path / "drop"))
    assert not by_glob.poke(context()) and not deep.poke(context()) and not folder.poke(context())
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("x")
    (tmp_path / "in" / "b" / "c").mkdir(parents=True)
    (tmp_path / "in" / "b" / "c" / "d.json").write_text("{}")
    (tmp_path / "drop" / "sub").mkdir(parents=True)
    assert by_glob.poke(context()) and deep.poke(context())
    assert not folder.poke(context())
    (tmp_path / "drop" / "sub" / "file").write_text("x")
    assert folder.poke(context())


def test_file_sensor_with_a_connection_other_than_fs_default_is_refused_at_parse_time() -> None:
    with DAG("d", schedule=None), pytest.raises(DagDefinitionError, match="does not support connections"):
        FileSensor(task_id="wait", filepath="x", fs_conn_id="landing")


def test_bash_sensor_waits_on_exit_codes_and_fails_on_an_unexpected_one_with_retry_exit_code(tmp_path: Path) -> None:
    with DAG("d", schedule=None):
        plain = BashSensor(task_id="plain", bash_command="test -e flag", cwd=str(tmp_path))
        strict = BashSensor(task_id="strict", bash_command="exit 3", retry_exit_code=1)
        waiting = BashSensor(task_id="waiting", bash_command="exit 1", retry_exit_code=1)
    assert not plain.poke(context())
    (tmp_path / "flag").write_text("")
    assert plain.poke(context())
    assert not waiting.poke(context())
    with pytest.raises(TaskFailedNoRetry, match="task 'strict': command exited with return code 3"):
        strict.poke(context())


def test_time_sensors_compare_now_with_their_target() -> None:
    now = datetime.now(UTC)
    with DAG("d", schedule=None):
        past = DateTimeSensor(task_id="past", target_time=now - timedelta(minutes=1))
        future = DateTimeSensor(task_id="future", target_time="{{ data_interval_end }}")
        delta = TimeDeltaSensor(task_id="delta", delta=timedelta(hours=1))
        day = DayOfWeekSensor(task_id="day", week_day={"Thursday"}, use_task_logical_date=True)
        midnight = TimeSensor(task_id="midnight", target_time=time(0, 0))
    assert past.poke(context())
    future.target_time = (now + timedelta(hours=1)).isoformat()
    assert not future.poke(context())
    assert delta.poke(context(data_interval_end=now - timedelta(hours=2)))
    assert not delta.poke(context(data_interval_end=now))
    assert day.poke(context())  # 2026-01-01 is a Thursday
    assert midnight.poke(context()) is (now.time() > time(0, 0))
    future.target_time = "tomorrow"
    with pytest.raises(TaskFailedNoRetry, match="target_time 'tomorrow' is not an ISO 8601 datetime"):
        future.poke(context())


def test_task_sensor_decorator_makes_a_python_sensor_returning_its_xcom_value() -> None:
    with DAG("d", schedule=None) as d:

        @task.sensor(poke_interval=0, timeout=5, mode="reschedule")
        def ready(limit: int) -> PokeReturnValue:
            return PokeReturnValue(is_done=True, xcom_value=limit * 2)

        ready(21)
    sensor = d.get_task("ready")
    assert isinstance(sensor, PythonSensor) and sensor.mode == "reschedule"
    assert sensor.execute(context()) == 42
    assert serialize_dag(d, "d.py")["tasks"][0]["kind"] == "python"


def test_airflow_sensor_imports_resolve_to_tradewind_sensors() -> None:
    with airflow_imports():
        from airflow.exceptions import AirflowSensorTimeout
        from airflow.providers.standard.sensors.filesystem import FileSensor as ProviderFileSensor
        from airflow.providers.standard.sensors.time import TimeSensor as ProviderTimeSensor
        from airflow.sdk import BaseSensorOperator as SdkBase
        from airflow.sdk import PokeReturnValue as SdkPokeReturnValue
        from airflow.sensors.bash import BashSensor as OldBashSensor
        from airflow.sensors.python import PythonSensor as OldPythonSensor

    assert (ProviderFileSensor, ProviderTimeSensor, SdkBase, SdkPokeReturnValue) == (
        FileSensor,
        TimeSensor,
        BaseSensorOperator,
        PokeReturnValue,
    )
    assert (OldBashSensor, OldPythonSensor, AirflowSensorTimeout) == (BashSensor, PythonSensor, SensorTimeout)
