"""The event loop around the scheduling core: batch, commit, then announce.

Events from worker streams, commands from ControlService, timers and DAG folder changes go
through one inbox. Each turn drains the inbox, applies every event to the scheduler, writes
the resulting changes in one transaction, and only then sends assignments, acknowledgements
and watch updates. Idle, it waits on the inbox with no timeout and uses no CPU.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from coordinator import messages
from coordinator.clock import Clock
from coordinator.dagspec import DagSpec
from coordinator.events import (
    Acked,
    Command,
    DagsDeactivated,
    DagVersionStored,
    Finished,
    Started,
    WorkerJoined,
    WorkerLeft,
)
from coordinator.logs import LogKey, LogStore
from coordinator.metastore.store import Store
from coordinator.recovery import recover, run_from_rows
from coordinator.scheduler import Effect, Ids, Scheduler
from coordinator.watch import WatchHub
from tradewind.exceptions import ApiError, InvalidArgument, NotFound
from tradewind.states import ON_WORKER, TaskState
from tradewind.v1 import control_pb2, worker_pb2

log = logging.getLogger("tradewind.coordinator")

Reply = Callable[[], Any]


class Engine:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        logs: LogStore,
        *,
        sequential: bool,
        ack_timeout: float,
        heartbeat_timeout: float,
        default_pool_slots: int,
    ) -> None:
        self.store = store
        self.clock = clock
        self.logs = logs
        self.scheduler = Scheduler(
            clock,
            Ids(*store.max_ids()),
            sequential=sequential,
            ack_timeout=ack_timeout,
            heartbeat_timeout=heartbeat_timeout,
        )
        self.default_pool_slots = default_pool_slots
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.streams: dict[str, tuple[int, asyncio.Queue[worker_pb2.CoordinatorMessage | None]]] = {}
        self.watchers = WatchHub()
        self.failed: BaseException | None = None
        self.batches = 0

    def start(self) -> None:
        """Rebuild the in-memory state from the metastore."""
        self.store.ensure_default_pool(self.default_pool_slots)
        recover(self.scheduler, self.store)
        changes, effects = self.scheduler.take()
        self.store.commit(changes)
        self._announce(effects)

    def submit(self, event: Any) -> None:
        self.inbox.put_nowait(event)

    async def command(self, name: str, /, **args: Any) -> Any:
        """Run a ControlService command through the loop; returns once its changes are committed."""
        if self.failed is not None:
            raise ApiError(f"the coordinator stopped scheduling: {self.failed}", "UNAVAILABLE")
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.submit(Command(name, args, reply))
        return await reply

    async def run(self) -> None:
        try:
            while True:
                delay = self.scheduler.next_timer_delay()
                batch: list[Any] = []
                try:
                    if delay is None:
                        batch.append(await self.inbox.get())
                    elif delay > 0:
                        batch.append(await asyncio.wait_for(self.inbox.get(), delay))
                except TimeoutError:
                    pass
                while not self.inbox.empty():
                    batch.append(self.inbox.get_nowait())
                self._turn(batch)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.failed = exc
            log.exception("scheduling stopped")
            raise

    def _turn(self, batch: list[Any]) -> None:
        replies: list[tuple[asyncio.Future[Any], Reply]] = []
        for event in batch:
            self._apply(event, replies)
        self.scheduler.fire_timers()
        self.scheduler.dispatch()
        changes, effects = self.scheduler.take()
        if changes:
            for callback in changes.callbacks:
                if callback[0] == "delete_xcoms":
                    self.store.delete_xcoms(callback[1], callback[2])
            self.store.commit(changes)
        self.batches += 1
        for future, reply in replies:
            if not future.done():
                try:
                    future.set_result(reply())
                except ApiError as exc:
                    future.set_exception(exc)
        self._announce(effects)

    def _apply(self, event: Any, replies: list[tuple[asyncio.Future[Any], Reply]]) -> None:
        s = self.scheduler
        match event:
            case Finished():
                s.finished(event)
            case Started():
                s.started(event)
            case Acked():
                s.acked(event)
            case WorkerJoined():
                reclaimed, rejected = s.join(event.session, event.running)
                replies.append((event.reply, lambda r=reclaimed, j=rejected: (r, j)))  # type: ignore[misc]
            case WorkerLeft():
                s.left(event.name, event.generation)
            case DagVersionStored():
                spec = DagSpec.build(event.version_id, event.data, event.bundle_hash)
                s.register_dag(spec, event.paused, event.last_scheduled_date)
            case DagsDeactivated():
                s.deactivate(event.dag_ids)
            case Command():
                try:
                    replies.append((event.reply, getattr(self, f"_cmd_{event.name}")(**event.args)))
                except ApiError as exc:
                    if not event.reply.done():
                        event.reply.set_exception(exc)
            case None:
                pass
            case _:
                raise TypeError(f"unknown event {event!r}")

    # ---- commands: each validates, changes the scheduler, and returns the reply builder ----
    def _cmd_trigger(self, dag_id: str, conf: dict[str, Any], run_id: str, logical_date: datetime | None) -> Reply:
        exists = bool(run_id) and self.store.run_exists(dag_id, run_id)
        run = self.scheduler.trigger(dag_id, conf, run_id, logical_date, exists)
        return lambda: messages.run_pb(run)

    def _cmd_set_paused(self, dag_id: str, paused: bool) -> Reply:
        self.scheduler.set_paused(dag_id, paused)
        return lambda: self.dag_message(dag_id)

    def _run(self, dag_id: str, run_id: str) -> Any:
        run = self.scheduler.run_for(dag_id, run_id)
        if run is not None:
            return run
        rows = self.store.load_run(dag_id, run_id)
        if rows is None:
            if self.store.get_dag(dag_id) is None:
                raise NotFound(f"DAG {dag_id!r} not found")
            raise NotFound(f"DAG {dag_id!r} has no run {run_id!r}")
        version = self.store.version(rows[0].dag_version_id)
        if version is None:
            raise NotFound(f"DAG {dag_id!r} run {run_id!r}: its DAG version is gone")
        spec = DagSpec.build(version.id, version.data, version.bundle_hash)
        attempts = self.store.latest_attempts([t.id for t in rows[1]])
        run = run_from_rows(rows[0], spec, rows[1], attempts, rows[2])
        self.scheduler.adopt_run(run)
        return run

    def _cmd_clear(self, dag_id: str, run_id: str, task_ids: list[str], include_downstream: bool) -> Reply:
        if not task_ids:
            raise InvalidArgument("name at least one task to clear")
        run = self._run(dag_id, run_id)
        cleared = self.scheduler.clear(run, task_ids, include_downstream)
        self._forget_if_done(run)
        return lambda: [messages.ti_pb(ti) for ti in cleared]

    def _cmd_mark(self, dag_id: str, run_id: str, task_id: str, state: TaskState) -> Reply:
        run = self._run(dag_id, run_id)
        ti = self.scheduler.mark(run, task_id, state)
        self._forget_if_done(run)
        return lambda: messages.ti_pb(ti)

    def _forget_if_done(self, run: Any) -> None:
        if not run.active:
            for ti in run.tis.values():
                self.scheduler.tis.pop(ti.id, None)
            self.scheduler.runs.pop(run.id, None)
            self.scheduler.runs_by_key.pop((run.dag_id, run.run_id), None)

    def _cmd_cancel_run(self, dag_id: str, run_id: str) -> Reply:
        run = self._run(dag_id, run_id)
        self.scheduler.cancel_run(run)
        return lambda: messages.run_pb(run)

    def _cmd_drain(self, name: str) -> Reply:
        worker = self.scheduler.drain(name)
        return lambda: messages.worker_pb(worker)

    def _cmd_set_pool(self, name: str, slots: int, description: str) -> Reply:
        self.store.set_pool(name, slots, description)
        self.scheduler.set_pool(name, slots)
        return lambda: name

    def _cmd_delete_pool(self, name: str) -> Reply:
        if not self.store.delete_pool(name):
            raise NotFound(f"pool {name!r} not found")
        self.scheduler.delete_pool(name)
        return lambda: name

    # ---- after the commit ----------------------------------------------------------------
    def _announce(self, effects: list[Effect]) -> None:
        watching = bool(self.watchers)
        for effect in effects:
            kind = effect.kind
            if kind == "assign":
                self._send(effect.worker, messages.assignment_pb(effect.subject, effect.extra))
            elif kind == "result_ack":
                ref = effect.subject
                self._send(
                    effect.worker,
                    worker_pb2.CoordinatorMessage(
                        result_ack=worker_pb2.ResultAck(
                            attempt=messages.attempt_pb(ref.ti_id, ref.try_number, ref.token)
                        )
                    ),
                )
            elif kind == "cancel":
                ti = effect.subject
                self._send(
                    effect.worker,
                    worker_pb2.CoordinatorMessage(
                        cancel=worker_pb2.Cancel(
                            attempt=messages.attempt_pb(ti.id, ti.try_number, ti.token), reason=str(effect.extra)
                        )
                    ),
                )
            elif kind == "drain":
                self._send(
                    effect.worker, worker_pb2.CoordinatorMessage(drain=worker_pb2.Drain(reason="drain requested"))
                )
            elif kind == "watch":
                what, subject = effect.subject
                if what == "ti" and subject.state not in ON_WORKER and subject.attempt is not None:
                    self.logs.close(log_key(subject, subject.try_number))
                if watching:
                    self._publish(what, subject, effect.extra)

    def _send(self, worker: str, message: worker_pb2.CoordinatorMessage) -> None:
        stream = self.streams.get(worker)
        if stream is not None:
            stream[1].put_nowait(message)

    def _publish(self, what: str, subject: Any, extra: Any) -> None:
        if what == "ti":
            response, dag_id = control_pb2.WatchResponse(task_instance=messages.ti_pb(subject)), subject.run.dag_id
        elif what == "run":
            response, dag_id = control_pb2.WatchResponse(dag_run=messages.run_pb(subject)), subject.dag_id
        elif what == "worker":
            message = messages.worker_pb(subject)
            if extra:
                message.state, message.reason = extra
            response, dag_id = control_pb2.WatchResponse(worker=message), ""
        elif what == "dag":
            response, dag_id = control_pb2.WatchResponse(dag=self.dag_message(subject)), subject
        else:
            return
        self.publish(response, dag_id)

    def publish(self, response: control_pb2.WatchResponse, dag_id: str = "") -> None:
        self.watchers.publish(response, dag_id)

    def dag_message(self, dag_id: str) -> control_pb2.Dag:
        row = self.store.get_dag(dag_id)
        if row is None:
            raise NotFound(f"DAG {dag_id!r} not found")
        recent = self.store.recent_run_states([dag_id]).get(dag_id, [])
        running = self.store.running_task_counts().get(dag_id, 0)
        return messages.dag_pb(row, running, recent)


def log_key(ti: Any, try_number: int) -> LogKey:
    return LogKey(ti.run.dag_id, ti.run.run_id, ti.task_id, try_number)
