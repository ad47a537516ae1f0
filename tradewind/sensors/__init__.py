"""Sensors: tasks that wait for a condition (see tradewind.sensors.base for the semantics)."""

from tradewind.sensors.base import BaseSensorOperator, PokeReturnValue
from tradewind.sensors.bash import BashSensor
from tradewind.sensors.filesystem import FileSensor
from tradewind.sensors.python import PythonSensor
from tradewind.sensors.temporal import DateTimeSensor, DayOfWeekSensor, TimeDeltaSensor, TimeSensor

__all__ = [
    "BaseSensorOperator",
    "BashSensor",
    "DateTimeSensor",
    "DayOfWeekSensor",
    "FileSensor",
    "PokeReturnValue",
    "PythonSensor",
    "TimeDeltaSensor",
    "TimeSensor",
]
