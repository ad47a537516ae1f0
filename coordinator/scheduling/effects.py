"""Effects (done by the engine after the commit) and timers, as typed values.

Each captures what it refers to when it is made (an attempt's id, try and token; a worker's
generation), so a later change in the same turn cannot alter what is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coordinator.events import AttemptRef, RequestResult
from coordinator.payloads import Payload
from coordinator.records import Run, TaskInstance, Trigger, WatcherTrigger
from coordinator.sessions import WorkerSession


# ---- effects -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Assign:
    worker: str
    generation: int
    ti: TaskInstance
    attempt: AttemptRef
    map_index: int
    payload: Payload


@dataclass(frozen=True, slots=True)
class Cancel:
    """Kill this attempt on its worker; the attempt need no longer be the task instance's."""

    worker: str
    attempt: AttemptRef
    reason: str


@dataclass(frozen=True, slots=True)
class ResultAck:
    worker: str
    attempt: AttemptRef


@dataclass(frozen=True, slots=True)
class Drain:
    worker: str
    reason: str


@dataclass(frozen=True, slots=True)
class CloseStream:
    """End this session's stream (the worker was lost); its handler then submits WorkerLeft."""

    worker: str
    generation: int
    reason: str


@dataclass(frozen=True, slots=True)
class WriteLog:
    """Text the coordinator adds to an attempt's log (a template that did not render)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    text: str


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer a task's request on the stream of the session that sent it."""

    worker: str
    generation: int
    request_id: int
    result: RequestResult


@dataclass(frozen=True, slots=True)
class WatchTi:
    ti: TaskInstance
    #: The try whose log ends here, when the task instance left its worker; else None.
    closed_try: int | None


@dataclass(frozen=True, slots=True)
class WatchRun:
    run: Run


@dataclass(frozen=True, slots=True)
class WatchDag:
    dag_id: str


@dataclass(frozen=True, slots=True)
class WatchWorker:
    worker: WorkerSession
    #: (state, reason) that replaces the session's own, e.g. ("lost", "no heartbeat for 10.2s").
    ended: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class RunCallback:
    """Run a DAG run's callback (`kind`) from its DAG file, outside the coordinator's process."""

    dag_id: str
    run_id: str
    fileloc: str
    kind: str
    #: Airflow's reason: "success", "task_failure" or "timed_out".
    reason: str
    #: The run as the callback's context shows it (dag_run), JSON-ready.
    run: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunTrigger:
    """Send a trigger to the triggerer's session of this generation (triggerer.proto RunTrigger)."""

    triggerer: str
    generation: int
    trigger: Trigger | WatcherTrigger
    bundle_hash: str
    waiter: str
    #: (asset URI, watcher name) for an asset watcher's trigger (RunTrigger.asset_watcher).
    asset_watcher: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class CancelTrigger:
    triggerer: str
    trigger_id: int


@dataclass(frozen=True, slots=True)
class FiredAck:
    """The trigger's fired (or failed) report is committed; the triggerer may forget it."""

    triggerer: str
    trigger_id: int
    #: An asset watcher's event id: only that event is acknowledged.
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class CloseTriggerer:
    """End a lost triggerer's stream of this generation."""

    triggerer: str
    generation: int


Effect = (
    Assign
    | Cancel
    | ResultAck
    | Drain
    | CloseStream
    | WriteLog
    | Respond
    | WatchTi
    | WatchRun
    | WatchDag
    | WatchWorker
    | RunCallback
    | RunTrigger
    | CancelTrigger
    | FiredAck
    | CloseTriggerer
)


# ---- timers ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScheduleDue:
    dag_id: str


@dataclass(frozen=True, slots=True)
class AckDeadline:
    ti_id: int
    token: str


@dataclass(frozen=True, slots=True)
class RetryDue:
    ti_id: int
    token: str


@dataclass(frozen=True, slots=True)
class RescheduleDue:
    """A sensor in reschedule mode is due for its next poke."""

    ti_id: int
    token: str


@dataclass(frozen=True, slots=True)
class DeferralTimeout:
    """A deferred task instance's trigger has not fired within its timeout."""

    ti_id: int
    trigger_id: int


@dataclass(frozen=True, slots=True)
class TriggererLiveness:
    triggerer: str
    generation: int


@dataclass(frozen=True, slots=True)
class Liveness:
    worker: str
    generation: int


@dataclass(frozen=True, slots=True)
class OrphanCheck:
    """A reconnected worker did not list this attempt: its result may still be on the way."""

    ti_id: int
    token: str
    worker: str


@dataclass(frozen=True, slots=True)
class ForgetAttempt:
    """Stop waiting for the report of a superseded attempt; free the slot it held."""

    ti_id: int
    token: str


@dataclass(frozen=True, slots=True)
class SlotCheck:
    """A worker that said it had no free slot while it held nothing we know of may get work again."""

    worker: str
    generation: int


@dataclass(frozen=True, slots=True)
class RunTimeout:
    """A run's dagrun_timeout, counted from `started`; a run reopened since has a later start."""

    run_id: int
    started: datetime


Timer = (
    ScheduleDue
    | AckDeadline
    | RetryDue
    | RescheduleDue
    | DeferralTimeout
    | TriggererLiveness
    | Liveness
    | OrphanCheck
    | ForgetAttempt
    | SlotCheck
    | RunTimeout
)
