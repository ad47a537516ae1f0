"""Domain values <-> protobuf. The one place where wire messages are built and read.

Enum names on the wire carry a prefix (TASK_STATE_SUCCESS); in the domain, the CLI and the
TUI they are the lowercase Airflow names ("success").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from tradewind.exceptions import InvalidArgument
from tradewind.states import RunState, TaskState
from tradewind.v1 import common_pb2

_TASK_TO_PB: dict[TaskState, common_pb2.TaskState] = {
    state: common_pb2.TaskState.Value(f"TASK_STATE_{state.name}")  # type: ignore[misc]
    for state in TaskState
}
_TASK_FROM_PB: dict[int, TaskState] = {value: state for state, value in _TASK_TO_PB.items()}
_RUN_TO_PB: dict[RunState, common_pb2.RunState] = {
    state: common_pb2.RunState.Value(f"RUN_STATE_{state.name}")  # type: ignore[misc]
    for state in RunState
}
_RUN_FROM_PB: dict[int, RunState] = {value: state for state, value in _RUN_TO_PB.items()}
_KIND_NAMES: dict[str, common_pb2.TaskKind] = {
    "bash": common_pb2.TASK_KIND_BASH,
    "python": common_pb2.TASK_KIND_PYTHON,
}


def task_state_to_pb(state: TaskState | str) -> common_pb2.TaskState:
    return _TASK_TO_PB[TaskState(state)]


def task_state_from_pb(value: int) -> TaskState:
    """Raise InvalidArgument for TASK_STATE_UNSPECIFIED or an unknown number."""
    try:
        return _TASK_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"task state must be set to a known value, not {value}") from None


def run_state_to_pb(state: RunState | str) -> common_pb2.RunState:
    return _RUN_TO_PB[RunState(state)]


def run_state_from_pb(value: int) -> RunState:
    try:
        return _RUN_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"run state must be set to a known value, not {value}") from None


def task_kind_to_pb(kind: str) -> common_pb2.TaskKind:
    return _KIND_NAMES[kind]


def task_kind_name(value: int) -> str:
    """ "bash" for TASK_KIND_BASH; "unknown(N)" for a number this version does not know."""
    for name, number in _KIND_NAMES.items():
        if number == value:
            return name
    return f"unknown({value})"


def to_timestamp(value: datetime | None) -> Timestamp | None:
    """A timezone-aware datetime (naive ones are taken as UTC) as a Timestamp; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def from_timestamp(stamp: Timestamp, present: bool = True) -> datetime | None:
    """An aware UTC datetime, or None when the field is unset (`present` False or all zero)."""
    if not present or (stamp.seconds == 0 and stamp.nanos == 0):
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def conf_from_json(text: str, what: str) -> dict[str, Any]:
    """A DAG run's conf: empty text is {}, anything but a JSON object is InvalidArgument naming `what`."""
    if not text:
        return {}
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(conf, dict):
        raise InvalidArgument(f"{what} must be a JSON object, not {type(conf).__name__}")
    return conf
