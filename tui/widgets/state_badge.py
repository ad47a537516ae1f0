"""Task instance and DAG run states as coloured text, in Airflow's colours."""

from __future__ import annotations

from rich.text import Text

from tradewind.v1 import common_pb2
from tradewind.wire import run_state_from_pb, task_state_from_pb

#: Airflow's web UI colours, so a state reads the same here as there.
TASK_COLORS: dict[int, str] = {
    common_pb2.TASK_STATE_NONE: "#7a7a7a",
    common_pb2.TASK_STATE_SCHEDULED: "#d2b48c",
    common_pb2.TASK_STATE_QUEUED: "#808080",
    common_pb2.TASK_STATE_RUNNING: "#32cd32",
    common_pb2.TASK_STATE_SUCCESS: "#008000",
    common_pb2.TASK_STATE_FAILED: "#ff0000",
    common_pb2.TASK_STATE_UP_FOR_RETRY: "#ffd700",
    common_pb2.TASK_STATE_UP_FOR_RESCHEDULE: "#40e0d0",
    common_pb2.TASK_STATE_DEFERRED: "#9370db",
    common_pb2.TASK_STATE_SKIPPED: "#ff69b4",
    common_pb2.TASK_STATE_UPSTREAM_FAILED: "#ffa500",
    common_pb2.TASK_STATE_REMOVED: "#d3d3d3",
}
RUN_COLORS: dict[int, str] = {
    common_pb2.RUN_STATE_QUEUED: "#808080",
    common_pb2.RUN_STATE_RUNNING: "#32cd32",
    common_pb2.RUN_STATE_SUCCESS: "#008000",
    common_pb2.RUN_STATE_FAILED: "#ff0000",
}
#: Where a grid cell has no task instance (the task is not in that run's DAG version).
ABSENT = "#303030"


def task_state_name(state: int) -> str:
    """The state's name as everywhere else in Tradewind, or "-" where there is no task instance."""
    return "-" if state == common_pb2.TASK_STATE_UNSPECIFIED else task_state_from_pb(state).value


def run_state_name(state: int) -> str:
    return "-" if state == common_pb2.RUN_STATE_UNSPECIFIED else run_state_from_pb(state).value


def task_badge(state: int) -> Text:
    """The state's name in its colour, e.g. for a details panel."""
    return Text(task_state_name(state), style=f"bold {TASK_COLORS.get(state, ABSENT)}")


def run_badge(state: int) -> Text:
    return Text(run_state_name(state), style=f"bold {RUN_COLORS.get(state, ABSENT)}")


def run_marks(states: list[int]) -> Text:
    """One coloured square per run, newest first: the DAG list's recent runs column."""
    text = Text()
    for state in states:
        text.append("■ ", style=RUN_COLORS.get(state, ABSENT))
    text.rstrip()
    return text
