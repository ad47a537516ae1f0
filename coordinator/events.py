"""Events and commands the scheduling core consumes, as frozen dataclasses.

Worker events come from WorkerService streams; commands come from ControlService and carry
a future that the engine resolves once the command's changes are committed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from coordinator.sessions import WorkerSession


@dataclass(frozen=True, slots=True)
class AttemptRef:
    ti_id: int
    try_number: int
    token: str


@dataclass(frozen=True, slots=True)
class WorkerJoined:
    session: WorkerSession
    running: tuple[AttemptRef, ...]
    #: Resolved with (reclaimed, rejected) attempt lists.
    reply: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class WorkerLeft:
    name: str
    generation: int


@dataclass(frozen=True, slots=True)
class Acked:
    worker: str
    attempt: AttemptRef
    accepted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Started:
    worker: str
    attempt: AttemptRef
    started_at: datetime | None


@dataclass(frozen=True, slots=True)
class Finished:
    worker: str
    attempt: AttemptRef
    outcome: str  # success | failed | failed_no_retry | skipped | timed_out | cancelled
    exit_code: int
    error: str
    return_value_json: str
    ended_at: datetime | None
    cpu_user: float = 0.0
    cpu_system: float = 0.0
    max_rss_bytes: int = 0


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
    """A ControlService request that changes state. `name` picks the scheduler method."""

    name: str
    args: dict[str, Any]
    reply: asyncio.Future[Any] = field(compare=False)
