"""The state table allows what the scheduler does and nothing it must not do."""

from __future__ import annotations

import pytest

from tradewind.exceptions import StateTransitionError
from tradewind.states import ALLOWED, FINISHED, RunState, TaskState, check, check_run

T = TaskState


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (T.SCHEDULED, T.UP_FOR_RETRY),  # a template that did not render, with retries left
        (T.RUNNING, T.SCHEDULED),  # a lost worker: the same try again
        (T.QUEUED, T.SCHEDULED),  # a refusal or an expired acknowledgement
        (T.RUNNING, T.NONE),  # cleared while it runs
        (T.QUEUED, T.SUCCESS),  # finished before its start was heard
        (T.RUNNING, T.UP_FOR_RESCHEDULE),  # a sensor in reschedule mode gives its slot back
        (T.UP_FOR_RESCHEDULE, T.SCHEDULED),  # its next poke is due: the same try again
        (T.RUNNING, T.DEFERRED),  # a task defers itself
        (T.DEFERRED, T.SCHEDULED),  # its trigger fired: the same try resumes
    ],
)
def test_moves_the_scheduler_makes_are_allowed(current: TaskState, new: TaskState) -> None:
    assert check(current, new) is new


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (T.NONE, T.RUNNING),
        (T.SCHEDULED, T.RUNNING),
        (T.SUCCESS, T.RUNNING),
        (T.UP_FOR_RESCHEDULE, T.RUNNING),
        (T.DEFERRED, T.RUNNING),
        (T.NONE, T.NONE),
        (T.SKIPPED, T.UPSTREAM_FAILED),
        (T.UP_FOR_RETRY, T.RUNNING),
    ],
)
def test_moves_outside_the_table_raise_with_the_subject(current: TaskState, new: TaskState) -> None:
    with pytest.raises(StateTransitionError, match=f"task instance x: cannot go from {current} to {new}"):
        check(current, new, "task instance x")


def test_every_finished_state_can_be_cleared_and_no_state_moves_to_itself() -> None:
    assert all(T.NONE in ALLOWED[state] for state in FINISHED)
    assert all(state not in targets for state, targets in ALLOWED.items())


def test_a_finished_run_reopens_only_to_running_or_the_other_end() -> None:
    assert check_run(RunState.SUCCESS, RunState.RUNNING) is RunState.RUNNING
    with pytest.raises(StateTransitionError):
        check_run(RunState.RUNNING, RunState.QUEUED)
