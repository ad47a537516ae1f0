"""Task instance and DAG run states, and the one table of allowed transitions for each."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from tradewind.exceptions import StateTransitionError


class TaskState(StrEnum):
    NONE = "none"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    DEFERRED = "deferred"
    SKIPPED = "skipped"
    UPSTREAM_FAILED = "upstream_failed"
    REMOVED = "removed"


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


T = TaskState
R = RunState

#: States a task instance ends in; its downstream is evaluated when it gets there.
FINISHED: frozenset[TaskState] = frozenset({T.SUCCESS, T.FAILED, T.SKIPPED, T.UPSTREAM_FAILED, T.REMOVED})
#: Airflow's grid summarises several task instances (a group's, a mapped task's) by the first of
#: these states that any of them has.
SUMMARY_ORDER: tuple[TaskState, ...] = (
    T.FAILED,
    T.UPSTREAM_FAILED,
    T.UP_FOR_RETRY,
    T.UP_FOR_RESCHEDULE,
    T.QUEUED,
    T.SCHEDULED,
    T.DEFERRED,
    T.RUNNING,
    T.NONE,
    T.SUCCESS,
    T.SKIPPED,
    T.REMOVED,
)
_SUMMARY_RANK = {state: i for i, state in enumerate(SUMMARY_ORDER)}


def summary_state(states: Iterable[TaskState]) -> TaskState:
    """The state that summarises several task instances, by SUMMARY_ORDER (none when there are none)."""
    return min(states, key=_SUMMARY_RANK.__getitem__, default=T.NONE)


#: States in which a worker holds the task instance.
ON_WORKER: frozenset[TaskState] = frozenset({T.QUEUED, T.RUNNING})

#: Every move the scheduler may make, and why. A move outside this table is a bug: the
#: scheduler fails that one task instance with the message of StateTransitionError.
ALLOWED: dict[TaskState, frozenset[TaskState]] = {
    # ready to run; an empty task succeeds at once; upstream rules skip or fail it; marked or
    # cancelled by a person; a mapped instance past the items its task now maps over is removed
    T.NONE: frozenset({T.SCHEDULED, T.SUCCESS, T.SKIPPED, T.UPSTREAM_FAILED, T.FAILED, T.REMOVED}),
    # sent to a worker; its template failed (up_for_retry or failed); cleared, marked, cancelled
    T.SCHEDULED: frozenset({T.QUEUED, T.UP_FOR_RETRY, T.FAILED, T.NONE, T.SUCCESS, T.SKIPPED}),
    # started; ended before its start was heard; lost or refused (scheduled again, same try)
    # a sensor in reschedule mode gives its slot back (up_for_reschedule); a task defers itself
    T.QUEUED: frozenset(
        {T.RUNNING, T.SUCCESS, T.FAILED, T.UP_FOR_RETRY, T.UP_FOR_RESCHEDULE, T.DEFERRED, T.SKIPPED, T.SCHEDULED}
        | {T.NONE}
    ),
    T.RUNNING: frozenset(
        {T.SUCCESS, T.FAILED, T.UP_FOR_RETRY, T.UP_FOR_RESCHEDULE, T.DEFERRED, T.SKIPPED, T.SCHEDULED, T.NONE}
    ),
    # its retry delay passed; cleared, marked, cancelled; its run timed out (skipped)
    T.UP_FOR_RETRY: frozenset({T.SCHEDULED, T.FAILED, T.SUCCESS, T.NONE, T.SKIPPED}),
    # its next poke is due (the same try again); marked or cleared by a person; its run timed out
    T.UP_FOR_RESCHEDULE: frozenset({T.SCHEDULED, T.FAILED, T.SUCCESS, T.NONE, T.SKIPPED}),
    # its trigger fired, failed or timed out: the same try resumes; marked or cleared by a person;
    # its run timed out
    T.DEFERRED: frozenset({T.SCHEDULED, T.FAILED, T.SUCCESS, T.NONE, T.SKIPPED}),
    # finished: a person may mark it the other way or clear it
    T.SUCCESS: frozenset({T.FAILED, T.NONE}),
    T.FAILED: frozenset({T.SUCCESS, T.NONE}),
    T.SKIPPED: frozenset({T.SUCCESS, T.FAILED, T.NONE}),
    T.UPSTREAM_FAILED: frozenset({T.SUCCESS, T.FAILED, T.NONE}),
    T.REMOVED: frozenset({T.NONE}),
}

RUN_ALLOWED: dict[RunState, frozenset[RunState]] = {
    R.QUEUED: frozenset({R.RUNNING, R.FAILED}),
    R.RUNNING: frozenset({R.SUCCESS, R.FAILED}),
    # clearing a task re-opens the run; a backfill that reprocesses it queues it again
    R.SUCCESS: frozenset({R.RUNNING, R.FAILED, R.QUEUED}),
    R.FAILED: frozenset({R.RUNNING, R.SUCCESS, R.QUEUED}),
}


def check(current: TaskState, new: TaskState, subject: str = "task instance") -> TaskState:
    """Return `new` when the move from `current` is allowed, else raise StateTransitionError."""
    if new not in ALLOWED[current]:
        raise StateTransitionError(f"{subject}: cannot go from {current.value} to {new.value}")
    return new


def check_run(current: RunState, new: RunState, subject: str = "DAG run") -> RunState:
    if new not in RUN_ALLOWED[current]:
        raise StateTransitionError(f"{subject}: cannot go from {current.value} to {new.value}")
    return new
