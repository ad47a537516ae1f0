"""The monitor shows sensors' and deferred tasks' states in Airflow's colours."""

from __future__ import annotations

from tradewind.v1 import common_pb2
from tui.widgets.state_badge import TASK_COLORS


def test_up_for_reschedule_and_deferred_have_airflows_turquoise_and_medium_purple() -> None:
    assert TASK_COLORS[common_pb2.TASK_STATE_UP_FOR_RESCHEDULE] == "#40e0d0"
    assert TASK_COLORS[common_pb2.TASK_STATE_DEFERRED] == "#9370db"
