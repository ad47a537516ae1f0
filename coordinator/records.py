"""The scheduler's in-memory records of live DAG runs, task instances and attempts.

The scheduler owns these objects; the metastore is their durable copy. Every change goes
through `Changes`, which the engine writes in one transaction before anything is announced.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from coordinator.dagspec import DagSpec
from tradewind.states import FINISHED, RunState, TaskState
from tradewind.wire import BackfillState, Reprocess


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
class Reschedules:
    """Where a try of a sensor in reschedule mode stands: when its first execution started (its
    timeout counts from there), how often it was rescheduled, and when it runs next."""

    try_number: int
    started_at: datetime
    count: int = 0
    next_at: datetime | None = None


@dataclass(slots=True, eq=False)
class Trigger:
    """What a deferred task instance waits on (worker.proto Deferral), and where it resumes.

    Waiting until it fires, times out or fails; then `fired` is set and next_kwargs_json holds
    the event, and the task instance's later executions of the same try resume there."""

    id: int
    ti_id: int
    try_number: int
    classpath: str
    kwargs_json: str
    next_method: str
    next_kwargs_json: str
    timeout_at: datetime | None
    created_at: datetime
    fired: bool = False
    #: The triggerer running it, "" while none does (in memory only).
    triggerer: str = ""


@dataclass(slots=True, eq=False)
class WatcherTrigger:
    """An asset watcher's trigger, kept running in one live triggerer while an active, unpaused
    DAG scheduled on the asset has the watcher (in memory only: rebuilt from the DAGs)."""

    id: int
    uri: str
    name: str
    classpath: str
    kwargs_json: str
    #: The DAG bundle its class is imported from when it is not built in.
    bundle_hash: str
    #: The triggerer running it, "" while none does.
    triggerer: str = ""


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
    #: Set once a sensor in reschedule mode is rescheduled; it describes try `try_number` only.
    reschedules: Reschedules | None = None
    #: Its latest deferral; it describes try `try_number` only.
    trigger: Trigger | None = None
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
    #: The backfill that created or last re-ran it; None for none.
    backfill_id: int | None = None
    #: The asset events that started an asset-triggered run (its triggering_asset_events).
    asset_events: tuple[AssetEvent, ...] = ()

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


@dataclass(eq=False)
class Backfill:
    """A DAG's runs over a range of logical dates; in memory while it has runs to start or running."""

    id: int
    dag_id: str
    from_date: datetime
    to_date: datetime
    reprocess: Reprocess
    max_active_runs: int
    run_backwards: bool
    created_at: datetime
    state: BackfillState = BackfillState.RUNNING
    completed_at: datetime | None = None
    #: Its runs not started yet, in the order it takes them.
    queued: deque[Run] = field(default_factory=deque)
    running: int = 0


@dataclass(frozen=True)
class BackfillDate:
    """One logical date of a backfill: its run's row id, or why it was left alone."""

    backfill_id: int
    ordinal: int
    logical_date: datetime
    run_pk: int | None
    skipped: str = ""


@dataclass(frozen=True, slots=True)
class AssetEvent:
    """One change of an asset's data; source_* name the task instance that made it (empty when a
    program emitted it)."""

    id: int
    uri: str
    extra: dict[str, Any]
    timestamp: datetime
    source_dag_id: str = ""
    source_run_id: str = ""
    source_task_id: str = ""
    source_map_index: int = -1
    #: The asset aliases the task added it through (empty when it was one of its outlets).
    source_aliases: tuple[str, ...] = ()


@dataclass
class AssetChanges:
    """What one batch changed about assets (tradewind.assets, coordinator.scheduling.assets)."""

    #: Asset definitions by URI, new or changed: {"name", "group", "extra"}.
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[AssetEvent] = field(default_factory=list)
    #: (dag_id, event id) queued for a DAG scheduled on the event's asset.
    queued: list[tuple[str, int]] = field(default_factory=list)
    #: (dag_id, event id) taken off the DAG's queue by a run it started.
    consumed_events: list[tuple[str, int]] = field(default_factory=list)
    #: (run id, event id): the events that started a run.
    run_events: list[tuple[int, int]] = field(default_factory=list)
    #: (alias name, URI): an asset an alias now resolves to.
    aliases: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.assets or self.events or self.queued or self.consumed_events or self.run_events or self.aliases
        )


@dataclass(slots=True, eq=False)
class PastRun:
    """A run as a later run's depends_on_past sees it: the live run itself, or, once it has
    ended, the states its task instances ended in."""

    pk: int
    run_id: str
    logical_date: datetime
    manual: bool
    states: dict[str, TaskState] = field(default_factory=dict)
    run: Run | None = None

    def state_of(self, task_id: str) -> TaskState | None:
        if self.run is not None:
            ti = self.run.tis.get(task_id)
            return ti.state if ti is not None else None
        return self.states.get(task_id)


class PastIndex:
    """One DAG's runs by logical date, as far as depends_on_past needs them: the live runs, the
    run before each, and the newest; the rest are dropped as runs end (`prune`)."""

    def __init__(self) -> None:
        self.keys: list[tuple[datetime, int]] = []
        self.runs: dict[tuple[datetime, int], PastRun] = {}

    def add(self, past: PastRun) -> None:
        key = (past.logical_date, past.pk)
        if key not in self.runs:
            insort(self.keys, key)
        self.runs[key] = past

    def previous(self, logical_date: datetime, pk: int, skip_manual: bool) -> PastRun | None:
        """The run before (by logical date), leaving manual runs out when `skip_manual` (catchup)."""
        for i in range(bisect_left(self.keys, (logical_date, pk)) - 1, -1, -1):
            found = self.runs[self.keys[i]]
            if found.logical_date < logical_date and not (skip_manual and found.manual):
                return found
        return None

    def later_live(self, logical_date: datetime, pk: int) -> list[Run]:
        later = (self.runs[k].run for k in self.keys[bisect_right(self.keys, (logical_date, pk)) :])
        return [run for run in later if run is not None and run.active]

    def prune(self, skip_manual: bool) -> None:
        keep = {(p.logical_date, p.pk) for p in self.runs.values() if p.run is not None and p.run.active}
        for key in list(keep):
            before = self.previous(key[0], key[1], skip_manual)
            if before is not None:
                keep.add((before.logical_date, before.pk))
        if self.keys:
            keep.add(self.keys[-1])
            scheduled = next((k for k in reversed(self.keys) if not self.runs[k].manual), None)
            if skip_manual and scheduled is not None:
                keep.add(scheduled)
        self.keys = [k for k in self.keys if k in keep]
        self.runs = {k: self.runs[k] for k in self.keys}


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
    backfills: dict[int, Backfill] = field(default_factory=dict)
    backfill_dates: list[BackfillDate] = field(default_factory=list)
    assets: AssetChanges = field(default_factory=AssetChanges)
    #: One row per reschedule: (ti id, try number, start, end, reschedule date).
    reschedules: list[tuple[int, int, datetime, datetime, datetime]] = field(default_factory=list)
    triggers: dict[int, Trigger] = field(default_factory=dict)

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
            or self.backfills
            or self.backfill_dates
            or self.assets
            or self.reschedules
            or self.triggers
        )
