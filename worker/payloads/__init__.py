"""One module per payload kind: how to start it and how to read its end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tradewind.skipping import FollowTasks
from tradewind.v1 import worker_pb2

SUCCESS = worker_pb2.TASK_OUTCOME_SUCCESS
FAILED = worker_pb2.TASK_OUTCOME_FAILED
FAILED_NO_RETRY = worker_pb2.TASK_OUTCOME_FAILED_NO_RETRY
SKIPPED = worker_pb2.TASK_OUTCOME_SKIPPED
UP_FOR_RESCHEDULE = worker_pb2.TASK_OUTCOME_UP_FOR_RESCHEDULE
DEFERRED = worker_pb2.TASK_OUTCOME_DEFERRED


@dataclass(frozen=True)
class Launch:
    """What to fork for one attempt."""

    target: str
    kwargs: dict[str, Any]
    cwd: str | None
    env: dict[str, str] | None
    #: Work the fork server may do once for every launch that names it (see ForkServer.submit).
    warm: tuple[str, dict[str, Any]] | None = None


@dataclass(frozen=True)
class Result:
    outcome: worker_pb2.TaskOutcome
    error: str = ""
    return_value_json: str = ""
    #: Which downstream tasks to follow, when the task chose (a branch, a short-circuit).
    follow: FollowTasks | None = None
    #: JSON of the extras the task set on its outlets' asset events, by URI; empty for none.
    outlet_extra_json: str = ""
    #: JSON of the events the task added through asset aliases; empty for none.
    outlet_alias_events_json: str = ""
    #: When a sensor in reschedule mode runs again (outcome UP_FOR_RESCHEDULE only).
    reschedule_date: datetime | None = None
    #: What a deferred task waits on (outcome DEFERRED only).
    deferral: worker_pb2.Deferral | None = None
    #: A mapped instance's map_index_template, rendered after it ran.
    rendered_map_index: str = ""


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        import signal

        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"
