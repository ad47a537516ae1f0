"""The scheduler's in-memory records of live DAG runs, task instances and attempts.

The scheduler owns these objects; the metastore is their durable copy. Every change goes
through `Changes`, which the engine writes in one transaction before anything is announced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from coordinator.dagspec import DagSpec
from tradewind.states import FINISHED, RunState, TaskState


@dataclass(slots=True, eq=False)
class Attempt:
    id: int
    ti_id: int
    try_number: int
    token: str
    state: TaskState
    worker: str = ""
    ready_at: datetime | None = None
    queued_at: datetime | None = None
    sent_at: datetime | None = None
    acked_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    exit_code: int | None = None
    error: str = ""
    cpu_user: float = 0.0
    cpu_system: float = 0.0
    max_rss_bytes: int = 0
    rendered: str = ""
    #: The execution ended for a reason that is not the task's fault; the same try ran again.
    lost: bool = False
    #: Generation of the worker session it was assigned to; only that session may report on it.
    generation: int = 0


@dataclass(slots=True, eq=False)
class TaskInstance:
    id: int
    run: Run
    task_id: str
    state: TaskState = TaskState.NONE
    try_number: int = 0
    max_tries: int = 1
    worker: str = ""
    start_date: datetime | None = None
    end_date: datetime | None = None
    next_retry_at: datetime | None = None
    attempt: Attempt | None = None
    #: Order of entry into the queue, the tie-breaker after priority.
    seq: int = 0
    #: -1 for a task that is not mapped.
    map_index: int = -1
    #: Infrastructure losses of this task instance (lost worker, refusal, expired ack, ...).
    losses: int = 0
    #: Workers that refused its current try for a reason other than draining or slots.
    refused_by: set[str] = field(default_factory=set)
    #: A mapped instance's name from its task's map_index_template, rendered after it ran.
    rendered_map_index: str = ""

    @property
    def spec(self):  # -> TaskSpec
        return self.run.dag.tasks[self.task_id]

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def token(self) -> str:
        return self.attempt.token if self.attempt else ""

    def label(self) -> str:
        mapped = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"task instance {self.run.dag_id}.{self.task_id}{mapped} of run {self.run.run_id}"


@dataclass(slots=True, eq=False)
class Run:
    id: int
    dag_id: str
    run_id: str
    state: RunState
    run_type: str
    logical_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    conf: dict[str, Any]
    queued_at: datetime
    dag: DagSpec
    start_date: datetime | None = None
    end_date: datetime | None = None
    #: The task instance of each task; for a mapped task, its first instance (map index 0), or
    #: before it is expanded the one at map index -1 that stands for it.
    tis: dict[str, TaskInstance] = field(default_factory=dict)
    unfinished: int = 0
    #: XCom values by (task_id, map_index, key); map index -1 for a task that is not mapped.
    xcoms: dict[tuple[str, int, str], str] = field(default_factory=dict)
    #: Every instance of each expanded mapped task, in map-index order.
    mapped: dict[str, list[TaskInstance]] = field(default_factory=dict)
    #: The decoded values each expanded task is mapped over, kept from its expansion for its
    #: dispatches (rebuilt from the XComs when missing, after a restart or a clear).
    map_values: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.state in (RunState.QUEUED, RunState.RUNNING)

    def instances(self, task_id: str) -> list[TaskInstance]:
        """Every task instance of a task: one, or each instance of an expanded mapped task."""
        found = self.mapped.get(task_id)
        if found is not None:
            return found
        ti = self.tis.get(task_id)
        return [] if ti is None else [ti]

    def every_ti(self) -> Iterator[TaskInstance]:
        for task_id, ti in self.tis.items():
            found = self.mapped.get(task_id)
            if found is None:
                yield ti
            else:
                yield from found


@dataclass(frozen=True)
class LastSuccess:
    """The dates of a DAG's latest successful run, for the prev_*_success template names."""

    logical_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    start_date: datetime | None


@dataclass
class Changes:
    """What one batch of events changed, to be committed in one transaction."""

    new_runs: list[Run] = field(default_factory=list)
    runs: dict[int, Run] = field(default_factory=dict)
    new_tis: list[TaskInstance] = field(default_factory=list)
    tis: dict[int, TaskInstance] = field(default_factory=dict)
    new_attempts: list[Attempt] = field(default_factory=list)
    attempts: dict[int, Attempt] = field(default_factory=dict)
    #: XComs written: (run id, task_id, map_index, key, value).
    xcoms: list[tuple[int, str, int, str, str]] = field(default_factory=list)
    dags: dict[str, dict[str, Any]] = field(default_factory=dict)
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    callbacks: list[Any] = field(default_factory=list)

    def touch_run(self, run: Run) -> None:
        self.runs[run.id] = run

    def touch_ti(self, ti: TaskInstance) -> None:
        self.tis[ti.id] = ti

    def touch_attempt(self, attempt: Attempt) -> None:
        self.attempts[attempt.id] = attempt

    def touch_dag(self, dag_id: str, **values: Any) -> None:
        self.dags.setdefault(dag_id, {}).update(values)

    def __bool__(self) -> bool:
        return bool(
            self.new_runs
            or self.runs
            or self.new_tis
            or self.tis
            or self.new_attempts
            or self.attempts
            or self.xcoms
            or self.dags
            or self.workers
        )
