"""Events and commands the scheduling core consumes, as frozen dataclasses.

Worker events come from WorkerService streams and carry the generation of the session that
sent them, so an attempt's reports count only from the session it was assigned to. Commands
come from ControlService and carry a future that the engine resolves once the command's
changes are committed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from coordinator.sessions import TriggererSession, WorkerSession
from tradewind.skipping import FollowTasks
from tradewind.wire import Outcome, Refusal, RequestError


@dataclass(frozen=True, slots=True)
class AttemptRef:
    ti_id: int
    try_number: int
    token: str


@dataclass(frozen=True, slots=True)
class WorkerJoined:
    """Its session carries `instance_id`; the reply is (reclaimed, rejected) or AlreadyExists."""

    session: WorkerSession
    running: tuple[AttemptRef, ...]
    reply: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class WorkerLeft:
    """The session's stream ended (the stream handler's finally always sends it)."""

    name: str
    generation: int


@dataclass(frozen=True, slots=True)
class WorkerDraining:
    """The worker stops taking work by itself (worker.proto WorkerDraining)."""

    name: str
    generation: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Acked:
    worker: str
    attempt: AttemptRef
    accepted: bool
    reason: str
    refusal: Refusal | None = None
    generation: int = 0


@dataclass(frozen=True, slots=True)
class Started:
    worker: str
    attempt: AttemptRef
    started_at: datetime | None
    generation: int = 0


@dataclass(frozen=True, slots=True)
class AliasAdded:
    """An event a task added through an asset alias in its outlets (worker.proto
    TaskFinished.outlet_alias_events_json)."""

    alias: str
    uri: str
    name: str
    group: str
    extra: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Finished:
    worker: str
    attempt: AttemptRef
    outcome: Outcome
    exit_code: int
    error: str
    return_value_json: str
    ended_at: datetime | None
    cpu_user: float = 0.0
    cpu_system: float = 0.0
    max_rss_bytes: int = 0
    generation: int = 0
    #: A branching task's choice of downstream tasks (worker.proto FollowTasks); None: no choice.
    follow: FollowTasks | None = None
    #: Extras the task set on its outlets' events (outlet_events[asset].extra), by asset URI.
    outlet_extra: dict[str, dict[str, Any]] | None = None
    #: Events it added through the asset aliases in its outlets, in order.
    alias_events: tuple[AliasAdded, ...] = ()
    #: When a sensor in reschedule mode (outcome UP_FOR_RESCHEDULE) runs again; None otherwise.
    reschedule_date: datetime | None = None
    #: What a deferred task waits on (outcome DEFERRED); None otherwise.
    deferral: DeferralRequest | None = None
    #: A mapped instance's name from its map_index_template; empty for none.
    rendered_map_index: str = ""


@dataclass(frozen=True, slots=True)
class DeferralRequest:
    """worker.proto Deferral, checked."""

    trigger_classpath: str
    trigger_kwargs_json: str
    next_method: str
    next_kwargs_json: str
    timeout: timedelta | None


@dataclass(frozen=True, slots=True)
class PushXCom:
    key: str
    value_json: str


@dataclass(frozen=True, slots=True)
class PullXCom:
    task_ids: tuple[str, ...]
    key: str
    #: Empty reads every map index of each task.
    map_indexes: tuple[int, ...]
    #: Empty: the attempt's own DAG and run.
    dag_id: str = ""
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class GetVariable:
    key: str


@dataclass(frozen=True, slots=True)
class SetVariable:
    key: str
    value: str
    description: str


@dataclass(frozen=True, slots=True)
class GetConnection:
    conn_id: str


@dataclass(frozen=True, slots=True)
class TaskRequested:
    """A running task's call (worker.proto TaskRequest), already checked against its rules; it
    counts only while its attempt is current and held by the session that sent it."""

    worker: str
    generation: int
    request_id: int
    attempt: AttemptRef
    request: PushXCom | PullXCom | GetVariable | SetVariable | GetConnection


@dataclass(frozen=True, slots=True)
class RequestFailed:
    code: RequestError
    message: str


@dataclass(frozen=True, slots=True)
class XComsPulled:
    #: (task_id, map_index, value_json) in the order asked for.
    values: tuple[tuple[str, int, str], ...]


@dataclass(frozen=True, slots=True)
class StoredPull:
    """A pull from a run that is not in memory: the engine answers it from the metastore, off
    the event loop."""

    dag_id: str
    run_id: str
    request: PullXCom


@dataclass(frozen=True, slots=True)
class VariableRead:
    #: None: the metastore has no such variable.
    value: str | None


@dataclass(frozen=True, slots=True)
class ConnectionRead:
    #: A tradewind.connections.Connection, None when the metastore has none.
    connection: Any


@dataclass(frozen=True, slots=True)
class VariableWrite:
    """A task's Variable.set: the engine stores it off the event loop, then answers."""

    request: SetVariable


#: What a TaskRequest is answered with; None is a push stored.
RequestResult = RequestFailed | XComsPulled | StoredPull | VariableRead | ConnectionRead | VariableWrite | None


@dataclass(frozen=True, slots=True)
class DagVersionStored:
    """A new or changed DAG version is in the metastore (or a DAG's metadata changed)."""

    version_id: int
    data: dict[str, Any]
    bundle_hash: str
    paused: bool
    last_scheduled_date: datetime | None


@dataclass(frozen=True, slots=True)
class DagsDeactivated:
    dag_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Command:
    """A ControlService request that changes state. `name` picks the engine's handler."""

    name: str
    args: dict[str, Any]
    reply: asyncio.Future[Any] = field(compare=False)


@dataclass(frozen=True, slots=True)
class TriggererJoined:
    """A triggerer's stream sent hello; the reply is its generation, or AlreadyExists."""

    session: TriggererSession
    reply: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class TriggererLeft:
    """A triggerer's stream ended (the stream handler's finally always sends it)."""

    name: str
    generation: int


@dataclass(frozen=True, slots=True)
class TriggerFired:
    """A trigger fired (`error` empty, `event_json` its payload) or failed (`error` set)."""

    triggerer: str
    generation: int
    trigger_id: int
    event_json: str
    error: str = ""
    #: (asset URI, watcher name) when an asset watcher's trigger fired or failed.
    asset_watcher: tuple[str, str] | None = None
    #: An asset watcher's event id (triggerer.proto TriggerFired.event_id).
    event_id: str = ""
