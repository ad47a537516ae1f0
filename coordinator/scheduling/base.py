"""What every concept of the scheduler shares: its state, timers, state moves and effects.

The concept modules (runs, readiness, dispatch, ...) are mixins over this base; the few
methods one concept calls in another are declared here so each module reads on its own.
"""

from __future__ import annotations

import heapq
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from coordinator.clock import Clock
from coordinator.dagspec import DagSpec
from coordinator.events import AttemptRef
from coordinator.queue import ReadyQueue
from coordinator.records import (
    Attempt,
    Backfill,
    Changes,
    LastSuccess,
    PastIndex,
    Run,
    TaskInstance,
    Trigger,
    WatcherTrigger,
)
from coordinator.scheduling.effects import Effect, Timer, WatchRun, WatchTi, WatchWorker
from coordinator.secrets import Secrets
from coordinator.sessions import TriggererSession, WorkerSession
from coordinator.timetable import Timetable
from tradewind.exceptions import StateTransitionError
from tradewind.states import ON_WORKER, TaskState, check

log = logging.getLogger("tradewind.coordinator")

T = TaskState
#: States in which an attempt has ended; its recorded state no longer changes.
ATTEMPT_FINAL = frozenset(
    {T.SUCCESS, T.FAILED, T.SKIPPED, T.UP_FOR_RETRY, T.UP_FOR_RESCHEDULE, T.DEFERRED, T.UPSTREAM_FAILED}
)
#: Infrastructure losses a task instance may have before the next one fails its try.
MAX_LOSSES = 3


@dataclass
class DagEntry:
    """What the scheduler keeps per DAG: its latest version and run bookkeeping."""

    dag_id: str
    spec: DagSpec
    timetable: Timetable
    paused: bool
    active: bool = True
    max_active_runs: int = 16
    last_scheduled_date: datetime | None = None
    queued_runs: deque[Run] = field(default_factory=deque)
    running_runs: int = 0
    #: Task instances of this DAG on workers (queued or running), for max_active_tasks.
    on_workers: int = 0
    last_success: LastSuccess | None = None
    #: Runs that failed since the last one that succeeded (max_consecutive_failed_dag_runs).
    failed_in_a_row: int = 0
    #: Runs by logical date, kept only for a DAG with depends_on_past tasks.
    past: PastIndex = field(default_factory=PastIndex)


class Ids:
    """Allocates run, task instance and attempt ids; the coordinator is the only writer."""

    def __init__(self, run: int = 0, ti: int = 0, attempt: int = 0) -> None:
        self.run, self.ti, self.attempt = run, ti, attempt

    def next_run(self) -> int:
        self.run += 1
        return self.run

    def next_ti(self) -> int:
        self.ti += 1
        return self.ti

    def next_attempt(self) -> int:
        self.attempt += 1
        return self.attempt


def ref(attempt: Attempt) -> AttemptRef:
    return AttemptRef(attempt.ti_id, attempt.try_number, attempt.token)


class SchedulerBase:
    def __init__(
        self,
        clock: Clock,
        ids: Ids,
        *,
        sequential: bool = False,
        ack_timeout: float = 5.0,
        heartbeat_timeout: float = 10.0,
        rejoin_window: float | None = None,
        secrets: Secrets | None = None,
    ) -> None:
        self.clock = clock
        #: The metastore's variables and connections, decrypted (tasks' requests, templates).
        self.secrets = secrets if secrets is not None else Secrets()
        self.ids = ids
        self.sequential = sequential
        self.ack_timeout = ack_timeout
        self.heartbeat_timeout = heartbeat_timeout
        heartbeat_interval = max(heartbeat_timeout / 5, 0.2)
        #: After a restart, how long an expected worker has to come back (workers reconnect
        #: within about a second), so its tasks move within heartbeat_timeout + 1 s of its death.
        self.rejoin_window = (
            rejoin_window if rejoin_window is not None else min(heartbeat_timeout, max(3.0, 2 * heartbeat_interval))
        )
        self.dags: dict[str, DagEntry] = {}
        self.runs: dict[int, Run] = {}
        self.runs_by_key: dict[tuple[str, str], Run] = {}
        self.tis: dict[int, TaskInstance] = {}
        self.queue = ReadyQueue()
        self.workers: dict[str, WorkerSession] = {}
        self.pools: dict[str, int] = {}
        #: Backfills with runs to start or running, by id; the highest id given out.
        self.backfills: dict[int, Backfill] = {}
        self.last_backfill_id = 0
        self.pool_used: dict[str, int] = {}
        self.on_workers = 0
        #: Attempts taken back from their task instance (cancelled, lost, expired) whose worker
        #: may still report on them; the report goes to their own row.
        self.superseded: dict[tuple[int, str], Attempt] = {}
        self.warned_pools: set[str] = set()
        self._timers: list[tuple[float, int, Timer]] = []
        self._timer_seq = 0
        self._generation = 0
        self.changes = Changes()
        self.effects: list[Effect] = []
        #: Triggerers by name; triggers waiting to fire by id; those no triggerer runs yet.
        self.triggerers: dict[str, TriggererSession] = {}
        self.waiting_triggers: dict[int, Trigger] = {}
        self.unassigned_triggers: set[int] = set()
        #: Asset watchers' triggers by id (unassigned ones are in unassigned_triggers too).
        self.watcher_triggers: dict[int, WatcherTrigger] = {}
        self.last_trigger_id = 0
        #: Pools whose slots deferred task instances keep; the deferred task instances keeping them.
        self.pools_include_deferred: set[str] = set()
        self.deferred_in_pools: set[int] = set()

    # ---- batch boundary ------------------------------------------------------------------
    def take(self) -> tuple[Changes, list[Effect]]:
        changes, effects = self.changes, self.effects
        self.changes, self.effects = Changes(), []
        return changes, effects

    def next_timer_delay(self) -> float | None:
        if not self._timers:
            return None
        return max(self._timers[0][0] - self.clock.monotonic(), 0.0)

    def _timer(self, delay: float, timer: Timer) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (self.clock.monotonic() + delay, self._timer_seq, timer))

    # ---- state moves ---------------------------------------------------------------------
    def _set_state(self, ti: TaskInstance, state: TaskState) -> None:
        """Move by the state table; a move outside it fails this task instance, then raises."""
        try:
            ti.state = check(ti.state, state, ti.label())
        except StateTransitionError as exc:
            self._break(ti, str(exc))
            raise
        attempt = ti.attempt
        if (
            attempt is not None
            and attempt.state not in ATTEMPT_FINAL
            and (attempt.ended_at is None or state in ATTEMPT_FINAL)
        ):
            attempt.state = state
            self.changes.touch_attempt(attempt)
        self.changes.touch_ti(ti)
        self._watch_ti(ti)

    def fail_internal(self, ti_id: int, message: str) -> None:
        """Fail one task instance after an error of our own, so that the rest goes on."""
        ti = self.tis.get(ti_id)
        if ti is not None and not ti.finished:
            self._break(ti, message)

    def _break(self, ti: TaskInstance, message: str) -> None:
        was_finished = ti.finished
        if ti.state in ON_WORKER:
            self._withdraw(ti, message)
        attempt = ti.attempt
        now = self.clock.now()
        if attempt is not None:
            attempt.error = message
            attempt.ended_at = attempt.ended_at or now
            attempt.state = T.FAILED
            self.changes.touch_attempt(attempt)
        ti.state = T.FAILED
        ti.end_date = now
        self.changes.touch_ti(ti)
        self._watch_ti(ti)
        log.error("%s failed: %s", ti.label(), message)
        if not was_finished:
            self._ti_finished(ti)

    def _new_attempt(self, ti: TaskInstance) -> Attempt:
        now = self.clock.now()
        attempt = Attempt(
            id=self.ids.next_attempt(),
            ti_id=ti.id,
            try_number=ti.try_number,
            token=secrets.token_hex(8),
            state=T.SCHEDULED,
            ready_at=now,
            queued_at=now,
        )
        ti.attempt = attempt
        ti.worker = ""
        self.changes.new_attempts.append(attempt)
        return attempt

    def _watch_ti(self, ti: TaskInstance) -> None:
        closed = ti.try_number if ti.state not in ON_WORKER and ti.attempt is not None else None
        self.effects.append(WatchTi(ti, closed))

    def _watch_run(self, run: Run) -> None:
        self.effects.append(WatchRun(run))

    def _worker_changed(self, worker: WorkerSession, **extra: Any) -> None:
        values = {
            "host": worker.host,
            "pid": worker.pid,
            "slots": worker.slots,
            "version": worker.version,
            "state": worker.state,
            "instance_id": worker.instance_id,
            "last_seen_at": self.clock.now(),
            **extra,
        }
        self.changes.workers[worker.name] = values
        self.effects.append(WatchWorker(worker))

    def _count_running(self, run: Run, entry: DagEntry, delta: int) -> None:
        """A run started or stopped running: it counts against its backfill's max_active_runs
        while the backfill is in memory, else against its DAG's."""
        backfill = self.backfills.get(run.backfill_id) if run.backfill_id is not None else None
        if backfill is not None:
            backfill.running += delta
        else:
            entry.running_runs += delta

    # ---- implemented by the concept modules ----------------------------------------------
    def _arm_run_timeout(self, run: Run) -> None:
        raise NotImplementedError

    def _ti_finished(self, ti: TaskInstance, evaluate_downstream: bool = True) -> None:
        raise NotImplementedError

    def _withdraw(self, ti: TaskInstance, reason: str) -> None:
        raise NotImplementedError

    def _finish_run(self, run: Run) -> None:
        raise NotImplementedError

    def _backfill_run_ended(self, run: Run) -> None:
        raise NotImplementedError

    def _emit_outlets(self, ti: TaskInstance) -> None:
        """A task instance succeeded: its outlets' asset events (coordinator.scheduling.assets)."""

    def _inlet_events(self, ti: TaskInstance) -> dict[str, tuple[int, list[Any]]] | None:
        """The recent events of the task's inlets, for its `inlet_events` (coordinator.scheduling.assets)."""
        return None
