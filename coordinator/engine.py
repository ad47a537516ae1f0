"""The event loop around the scheduling core: batch, commit, then announce.

Events from worker streams, commands from ControlService, timers and DAG folder changes go
through one inbox. Each turn drains the inbox, applies every event to the scheduler, writes
the resulting changes in one transaction on a dedicated writer thread (so the loop keeps
reading worker streams meanwhile), and only then sends assignments, acknowledgements and
watch updates. Turns are strictly ordered. Idle, it waits on the inbox and uses no CPU.

Nothing a DAG, a worker or a client does may stop it: an unexpected error while applying one
event, command or timer is logged with its traceback and fails that task instance (or that
request, as INTERNAL); rows the metastore refuses fail their task instances in the next turn;
a commit that raises (the database is down) is retried with backoff, the batch kept; a full
metastore disk stops the coordinator loudly (nothing of the batch was announced, so a restart
carries on from the last commit).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from coordinator import messages
from coordinator.clock import Clock
from coordinator.dagspec import DagSpec
from coordinator.events import (
    Acked,
    Command,
    DagsDeactivated,
    DagVersionStored,
    Finished,
    RequestFailed,
    RequestResult,
    Started,
    StoredPull,
    TaskRequested,
    TriggererJoined,
    TriggererLeft,
    TriggerFired,
    VariableWrite,
    WorkerDraining,
    WorkerJoined,
    WorkerLeft,
)
from coordinator.logs import LogKey, LogStore
from coordinator.metastore.db import disk_full
from coordinator.metastore.store import Store, StoreFailure
from coordinator.records import Changes, Run, TaskInstance
from coordinator.recovery import load_previous_run, recover, run_from_rows
from coordinator.scheduler import Ids, Scheduler
from coordinator.scheduling.assets import INLET_WINDOW
from coordinator.scheduling.effects import (
    Assign,
    Cancel,
    CancelTrigger,
    CloseStream,
    CloseTriggerer,
    Drain,
    Effect,
    FiredAck,
    Respond,
    ResultAck,
    RunCallback,
    RunTrigger,
    Timer,
    WatchDag,
    WatchRun,
    WatchTi,
    WatchWorker,
    WriteLog,
)
from coordinator.scheduling.mapping import MAX_MAP_LENGTH
from coordinator.scheduling.requests import pulled
from coordinator.secrets import Secrets
from coordinator.watch import WatchHub
from coordinator.worker_messages import task_response_pb
from tradewind.exceptions import ApiError, FailedPrecondition, InvalidArgument, MetastoreError, NotFound
from tradewind.states import TaskState
from tradewind.v1 import common_pb2, control_pb2, triggerer_pb2, worker_pb2
from tradewind.wire import Reprocess, RequestError, WaitReason

log = logging.getLogger("tradewind.coordinator")

Reply = Callable[[], Any]
T = TypeVar("T")
#: Pauses between attempts to commit a batch while the metastore refuses writes, seconds.
COMMIT_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


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
        secrets: Secrets | None = None,
        run_callback: Callable[[RunCallback], None] | None = None,
        max_map_length: int = MAX_MAP_LENGTH,
    ) -> None:
        """`run_callback` runs a DAG run callback outside this process (coordinator.dag_callbacks)."""
        self.store = store
        self.secrets = secrets if secrets is not None else Secrets()
        self.run_callback = run_callback
        self.clock = clock
        self.logs = logs
        self.scheduler = Scheduler(
            clock,
            Ids(),
            sequential=sequential,
            ack_timeout=ack_timeout,
            heartbeat_timeout=heartbeat_timeout,
            secrets=self.secrets,
        )
        self.scheduler.max_map_length = max_map_length
        self.default_pool_slots = default_pool_slots
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.streams: dict[str, tuple[int, asyncio.Queue[worker_pb2.CoordinatorMessage | None]]] = {}
        #: Triggerer name -> (session generation, the queue its Connect stream sends from).
        self.triggerer_streams: dict[str, tuple[int, asyncio.Queue[triggerer_pb2.TriggererCommand | None]]] = {}
        self.watchers = WatchHub()
        self.failed: BaseException | None = None
        self.batches = 0
        #: Rows the metastore refused in the last commit, failed at the start of the next turn.
        self.refused: list[StoreFailure] = []
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metastore-writer")
        #: Answers being read from the metastore (pulls from runs that are not in memory).
        self._reads: set[asyncio.Task[None]] = set()
        #: Connection tests sent to workers, by test_id, until their worker answers.
        self.connection_tests: dict[int, asyncio.Future[tuple[bool, str]]] = {}
        self._test_ids = itertools.count(1)

    def start(self) -> None:
        """Rebuild the in-memory state from the metastore (after the lease is taken)."""
        self.scheduler.ids = Ids(*self.store.max_ids())
        self.store.ensure_default_pool(self.default_pool_slots)
        self.secrets.load()
        recover(self.scheduler, self.store)
        self.scheduler.restore_assets(
            self.store.max_asset_event_id(),
            self.store.asset_queue(),
            self.store.run_asset_events(list(self.scheduler.runs)),
            self.store.recent_asset_events(INLET_WINDOW),
            self.store.asset_aliases(),
        )
        self.scheduler.restore_watchers()
        self.scheduler.check_assets(self._asset_check_failed)
        changes, effects = self.scheduler.take()
        self.refused = self._write(changes)
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

    def explain(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> tuple[TaskInstance, list[tuple[WaitReason, str]]] | None:
        """Why a task instance of a live run is not running; None when the run is not in memory."""
        run = self.scheduler.run_for(dag_id, run_id)
        if run is None:
            return None
        ti = next((t for t in run.instances(task_id) if t.map_index == map_index), None)
        if ti is None:
            raise NotFound(f"DAG {dag_id!r} run {run_id!r} has no task {task_id!r} with map index {map_index}")
        return ti, self.scheduler.explain(ti)

    async def run(self) -> None:
        try:
            while True:
                delay = self.scheduler.next_timer_delay()
                batch: list[Any] = []
                try:
                    if self.refused:
                        pass  # fail those task instances now, without waiting for an event
                    elif delay is None:
                        batch.append(await self.inbox.get())
                    elif delay > 0:
                        # Not wait_for: on Python 3.11 it can swallow a cancel that arrives as the
                        # get completes, and the loop would never stop.
                        async with asyncio.timeout(delay):
                            batch.append(await self.inbox.get())
                except TimeoutError:
                    pass
                while not self.inbox.empty():
                    batch.append(self.inbox.get_nowait())
                await self.turn(batch)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.failed = exc
            log.exception("scheduling stopped")
            raise
        finally:
            self._writer.shutdown(wait=False)

    async def turn(self, batch: list[Any]) -> None:
        """One turn: apply, commit off the loop, then reply and announce."""
        replies: list[tuple[asyncio.Future[Any], Reply]] = []
        refused, self.refused = self.refused, []
        self._fail_refused(refused)
        for event in batch:
            try:
                self._apply(event, replies)
            except Exception as exc:  # noqa: BLE001 - one event must not stop the loop
                self._contain(event, exc)
        self.scheduler.fire_timers(self._timer_failed)
        self.scheduler.check_assets(self._asset_check_failed)
        self.scheduler.dispatch(self._assign_failed)
        changes, effects = self.scheduler.take()
        if changes:
            self.refused = await self._commit(changes)
        self.batches += 1
        for future, reply in replies:
            if not future.done():
                try:
                    future.set_result(reply())
                except ApiError as exc:
                    future.set_exception(exc)
                except Exception as exc:  # noqa: BLE001
                    log.exception("building a reply failed")
                    future.set_exception(internal(exc))
        self._announce(effects)

    # ---- the commit ------------------------------------------------------------------------
    async def _commit(self, changes: Changes) -> list[StoreFailure]:
        """Commit on the writer thread; while the metastore refuses, keep the batch and retry."""
        loop = asyncio.get_running_loop()
        failing_since = 0
        while True:
            try:
                failures = await loop.run_in_executor(self._writer, self._write, changes)
            except Exception as exc:  # noqa: BLE001 - the database is down or unusable for now
                if disk_full(exc):
                    # Nothing of this batch was announced, so a restart after space is freed
                    # carries on from the last commit.
                    raise MetastoreError(f"the metastore's disk is full; the coordinator stops: {exc}") from exc
                if not failing_since:
                    log.error(
                        "cannot commit to the metastore; scheduling waits and retries until it can: %s",
                        exc,
                        exc_info=True,
                    )
                pause = COMMIT_BACKOFF[min(failing_since, len(COMMIT_BACKOFF) - 1)]
                failing_since += 1
                await asyncio.sleep(pause)
                continue
            if failing_since:
                log.warning("the metastore takes commits again after %d failed attempts", failing_since)
            return failures

    def _write(self, changes: Changes) -> list[StoreFailure]:
        for callback in changes.callbacks:
            if callback[0] == "delete_xcoms":
                self.store.delete_xcoms(callback[1], callback[2])
        failures = self.store.commit(changes) or []
        for f in failures:
            log.error("the metastore refused %s %r: %s", f.kind, f.id, f.error)
        return failures

    def _fail_refused(self, failures: list[StoreFailure]) -> None:
        s = self.scheduler
        for f in failures:
            ti_id: int | None = None
            if f.kind in ("task_instance", "task_reschedule", "trigger"):
                ti_id = f.id
            elif f.kind == "attempt":
                ti_id = next((ti.id for ti in s.tis.values() if ti.attempt and ti.attempt.id == f.id), None)
            elif f.kind == "xcom":
                run = s.runs.get(f.id[0])
                found = [t for t in run.instances(f.id[1]) if t.map_index == f.id[2]] if run is not None else []
                ti = found[0] if found else None
                ti_id = ti.id if ti is not None else None
            if ti_id is not None:
                try:
                    s.fail_internal(ti_id, f"could not be stored: {f.error}")
                except Exception:  # noqa: BLE001 - the next refused row still gets its turn
                    log.exception("failing task instance %d after a refused row failed", ti_id)

    # ---- containment -----------------------------------------------------------------------
    def _contain(self, event: Any, exc: Exception) -> None:
        log.exception("applying %s failed", type(event).__name__, exc_info=exc)
        if isinstance(event, TaskRequested):
            failed = RequestFailed(RequestError.UNAVAILABLE, f"internal error: {type(exc).__name__}: {exc}")
            self.scheduler.effects.append(Respond(event.worker, event.generation, event.request_id, failed))
        attempt = getattr(event, "attempt", None)
        if attempt is not None:
            self.scheduler.fail_internal(attempt.ti_id, f"internal error: {type(exc).__name__}: {exc}")
        reply = getattr(event, "reply", None)
        if reply is not None and not reply.done():
            reply.set_exception(internal(exc))

    def _timer_failed(self, timer: Timer, exc: Exception) -> None:
        log.error("timer %s failed", timer, exc_info=exc)
        ti_id = getattr(timer, "ti_id", None)
        if ti_id is not None:
            self.scheduler.fail_internal(ti_id, f"internal error: {type(exc).__name__}: {exc}")

    def _asset_check_failed(self, dag_id: str, exc: Exception) -> None:
        log.error("checking the asset condition of DAG %r failed", dag_id, exc_info=exc)

    def _assign_failed(self, ti: TaskInstance, exc: Exception) -> None:
        log.error("assigning %s failed", ti.label(), exc_info=exc)
        self.scheduler.fail_internal(ti.id, f"internal error: {type(exc).__name__}: {exc}")

    def _apply(self, event: Any, replies: list[tuple[asyncio.Future[Any], Reply]]) -> None:
        s = self.scheduler
        match event:
            case Finished():
                s.finished(event)
            case Started():
                s.started(event)
            case TaskRequested():
                s.task_request(event)
            case Acked():
                s.acked(event)
            case WorkerJoined():
                try:
                    reclaimed, rejected = s.join(event.session, event.running)
                except ApiError as exc:
                    if not event.reply.done():
                        event.reply.set_exception(exc)
                    return
                replies.append((event.reply, lambda r=reclaimed, j=rejected: (r, j)))  # type: ignore[misc]
            case WorkerLeft():
                s.left(event.name, event.generation)
            case TriggerFired():
                s.trigger_fired(event)
            case TriggererJoined():
                try:
                    generation = s.triggerer_joined(event.session)
                except ApiError as exc:
                    if not event.reply.done():
                        event.reply.set_exception(exc)
                    return
                replies.append((event.reply, lambda g=generation: g))  # type: ignore[misc]
            case TriggererLeft():
                s.triggerer_left(event.name, event.generation)
            case WorkerDraining():
                s.draining(event.name, event.generation, event.reason)
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

    def _cmd_emit_asset_event(self, uri: str, extra: dict[str, Any]) -> Reply:
        event, runs = self.scheduler.emit_external(uri, extra)
        return lambda: (messages.asset_event_pb(event, [(r.dag_id, r.run_id) for r in runs]), runs)

    def _cmd_set_paused(self, dag_id: str, paused: bool) -> Reply:
        self.scheduler.set_paused(dag_id, paused)
        return lambda: self.dag_message(dag_id)

    def _run(self, dag_id: str, run_id: str) -> Run:
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
        if run.run_type == "asset_triggered":
            run.asset_events = tuple(self.store.run_asset_events([run.id]).get(run.id, ()))
        self.scheduler.adopt_run(run)
        load_previous_run(self.scheduler, self.store, run)
        return run

    def _cmd_clear(self, dag_id: str, run_id: str, task_ids: list[str], include_downstream: bool) -> Reply:
        if not task_ids:
            raise InvalidArgument("name at least one task to clear")
        run = self._run(dag_id, run_id)
        try:
            cleared = self.scheduler.clear(run, task_ids, include_downstream)
        finally:
            self._forget_if_done(run)
        return lambda: [messages.ti_pb(ti) for ti in cleared]

    def _cmd_mark(self, dag_id: str, run_id: str, task_id: str, state: TaskState, map_index: int = -1) -> Reply:
        run = self._run(dag_id, run_id)
        try:
            ti = self.scheduler.mark(run, task_id, state, map_index)
        finally:
            self._forget_if_done(run)
        return lambda: messages.ti_pb(ti)

    def _forget_if_done(self, run: Run) -> None:
        if not run.active:
            self.scheduler._forget(run)

    def _cmd_cancel_run(self, dag_id: str, run_id: str) -> Reply:
        run = self._run(dag_id, run_id)
        self.scheduler.cancel_run(run)
        return lambda: messages.run_pb(run)

    def _cmd_create_backfill(
        self,
        dag_id: str,
        from_date: datetime,
        to_date: datetime,
        reprocess: Reprocess,
        max_active_runs: int,
        run_backwards: bool,
        dry_run: bool,
        conf: dict[str, Any],
    ) -> Reply:
        """Replies with the plan (a dry run) or the new backfill's id."""
        s = self.scheduler
        s._dag(dag_id)
        existing = self.store.runs_at(dag_id, from_date, to_date)
        plan = s.plan_backfill(dag_id, from_date, to_date, reprocess, run_backwards, existing, dry_run, conf)
        if dry_run:
            return lambda: plan
        reruns: dict[str, Run] = {}
        try:
            for date in plan:
                if date.rerun:
                    reruns[date.run_id] = self._run(dag_id, date.run_id)
        except ApiError:
            for run in reruns.values():
                self._forget_if_done(run)
            raise
        backfill = s.create_backfill(
            dag_id, from_date, to_date, reprocess, max_active_runs, run_backwards, plan, reruns, conf
        )
        return lambda: backfill.id

    def _cmd_cancel_backfill(self, backfill_id: int) -> Reply:
        if backfill_id not in self.scheduler.backfills:
            row = self.store.get_backfill(backfill_id)
            if row is None:
                raise NotFound(f"backfill {backfill_id} not found")
            raise FailedPrecondition(f"backfill {backfill_id} is already {row.state}")
        self.scheduler.cancel_backfill(backfill_id)
        return lambda: backfill_id

    def _cmd_drain(self, name: str) -> Reply:
        worker = self.scheduler.drain(name)
        return lambda: messages.worker_pb(worker)

    def _cmd_set_pool(self, name: str, slots: int, description: str, include_deferred: bool = False) -> Reply:
        self.store.set_pool(name, slots, description, include_deferred)
        self.scheduler.set_pool(name, slots)
        self.scheduler.set_pool_include_deferred(name, include_deferred)
        return lambda: name

    def _cmd_delete_pool(self, name: str) -> Reply:
        self.scheduler.delete_pool(name)
        if not self.store.delete_pool(name):
            raise NotFound(f"pool {name!r} not found")
        return lambda: name

    # ---- after the commit ----------------------------------------------------------------
    def _announce(self, effects: list[Effect]) -> None:
        watching = bool(self.watchers)
        for effect in effects:
            try:
                self._effect(effect, watching)
            except Exception:  # noqa: BLE001 - one effect must not hold back the others
                log.exception("carrying out %s failed", type(effect).__name__)

    def _effect(self, effect: Effect, watching: bool) -> None:
        match effect:
            case Assign():
                message = messages.assignment_pb(effect.ti, effect.payload)
                message.assignment.attempt.CopyFrom(attempt_pb(effect.attempt))
                message.assignment.map_index = effect.map_index
                self._send(effect.worker, message, effect.generation)
            case ResultAck():
                self._send(
                    effect.worker,
                    worker_pb2.CoordinatorMessage(result_ack=worker_pb2.ResultAck(attempt=attempt_pb(effect.attempt))),
                )
            case Cancel():
                self._send(
                    effect.worker,
                    worker_pb2.CoordinatorMessage(
                        cancel=worker_pb2.Cancel(attempt=attempt_pb(effect.attempt), reason=effect.reason)
                    ),
                )
            case Drain():
                self._send(effect.worker, worker_pb2.CoordinatorMessage(drain=worker_pb2.Drain(reason=effect.reason)))
            case Respond() if isinstance(effect.result, StoredPull):
                read = asyncio.get_running_loop().create_task(self._respond_from_store(effect, effect.result))
                self._reads.add(read)
                read.add_done_callback(self._reads.discard)
            case Respond() if isinstance(effect.result, VariableWrite):
                write = asyncio.get_running_loop().create_task(self._respond_after_write(effect, effect.result))
                self._reads.add(write)
                write.add_done_callback(self._reads.discard)
            case Respond():
                self._send(effect.worker, task_response_pb(effect.request_id, effect.result), effect.generation)
            case CloseStream():
                stream = self.streams.get(effect.worker)
                if stream is not None and stream[0] == effect.generation:
                    stream[1].put_nowait(None)
            case RunCallback():
                if self.run_callback is not None:
                    self.run_callback(effect)
                else:
                    log.warning("DAG %s run %s: %s not run here", effect.dag_id, effect.run_id, effect.kind)
            case WriteLog():
                key = LogKey(effect.dag_id, effect.run_id, effect.task_id, effect.try_number, effect.map_index)
                self.logs.append(key, effect.text.encode())
            case WatchTi():
                if effect.closed_try is not None:
                    self.logs.close(log_key(effect.ti, effect.closed_try))
                if watching:
                    self.publish(
                        control_pb2.WatchResponse(task_instance=messages.ti_pb(effect.ti)), effect.ti.run.dag_id
                    )
            case WatchRun():
                if watching:
                    self.publish(control_pb2.WatchResponse(dag_run=messages.run_pb(effect.run)), effect.run.dag_id)
            case WatchWorker():
                if watching:
                    worker = messages.worker_pb(effect.worker)
                    if effect.ended:
                        worker.state, worker.reason = effect.ended
                    self.publish(control_pb2.WatchResponse(worker=worker))
            case WatchDag():
                if watching:
                    self.publish(control_pb2.WatchResponse(dag=self.dag_message(effect.dag_id)), effect.dag_id)
            case RunTrigger():
                t = effect.trigger
                run = triggerer_pb2.RunTrigger(
                    trigger_id=t.id,
                    classpath=t.classpath,
                    kwargs_json=t.kwargs_json,
                    bundle_hash=effect.bundle_hash,
                    waiter=effect.waiter,
                )
                if effect.asset_watcher is not None:
                    run.asset_watcher.asset_uri, run.asset_watcher.name = effect.asset_watcher
                self._to_triggerer(effect.triggerer, triggerer_pb2.TriggererCommand(run=run), effect.generation)
            case CancelTrigger():
                cancel = triggerer_pb2.CancelTrigger(trigger_id=effect.trigger_id)
                self._to_triggerer(effect.triggerer, triggerer_pb2.TriggererCommand(cancel=cancel))
            case FiredAck():
                ack = triggerer_pb2.FiredAck(trigger_id=effect.trigger_id, event_id=effect.event_id)
                self._to_triggerer(effect.triggerer, triggerer_pb2.TriggererCommand(fired_ack=ack))
            case CloseTriggerer():
                stream = self.triggerer_streams.get(effect.triggerer)
                if stream is not None and stream[0] == effect.generation:
                    stream[1].put_nowait(None)

    async def _respond_from_store(self, effect: Respond, pull: StoredPull) -> None:
        """Answer a pull from a run that is not in memory with what the metastore holds."""
        try:
            rows = await asyncio.to_thread(self.store.load_run, pull.dag_id, pull.run_id)
        except Exception as exc:  # noqa: BLE001 - the metastore is down: the task may ask again
            result: RequestResult = RequestFailed(
                RequestError.UNAVAILABLE, f"xcom_pull: cannot read DAG {pull.dag_id!r} run {pull.run_id!r}: {exc}"
            )
        else:
            if rows is None:
                missing = f"xcom_pull: DAG {pull.dag_id!r} has no run {pull.run_id!r}"
                result = RequestFailed(RequestError.NOT_FOUND, missing)
            else:
                counts = Counter(t.task_id for t in rows[1] if t.map_index >= 0)
                result = pulled({(x.task_id, x.map_index, x.key): x.value for x in rows[2]}, pull.request, counts)
        self._send(effect.worker, task_response_pb(effect.request_id, result), effect.generation)

    async def _respond_after_write(self, effect: Respond, write: VariableWrite) -> None:
        """Store a task's Variable.set, then answer it (the value is stored before the task goes on)."""
        request = write.request
        try:
            await self.write_secrets(self.secrets.set_variable, request.key, request.value, request.description)
        except Exception as exc:  # noqa: BLE001 - the metastore is down: the task may ask again
            result: RequestResult = RequestFailed(
                RequestError.UNAVAILABLE, f"Variable.set: cannot store variable {request.key!r}: {exc}"
            )
        else:
            result = write
        self._send(effect.worker, task_response_pb(effect.request_id, result), effect.generation)

    async def write_secrets(self, write: Callable[..., T], *args: Any) -> T:
        """Run a change of variables or connections on the metastore writer thread, so it never
        competes with a group commit for the write lock."""
        return await asyncio.get_running_loop().run_in_executor(self._writer, write, *args)

    async def test_connection(self, connection: common_pb2.Connection, timeout: float) -> tuple[str, bool, str]:
        """Open `connection` from a connected worker (one serving the default queue if any):
        (worker, ok, message). FailedPrecondition when no worker is connected."""
        live = [w for w in self.scheduler.workers.values() if w.connected and not w.draining and w.name in self.streams]
        if not live:
            raise FailedPrecondition(
                f"no worker is connected to test connection {connection.conn_id!r} from; start one with `worker join`"
            )
        worker = next((w for w in live if "default" in w.queues), live[0])
        test_id = next(self._test_ids)
        answer: asyncio.Future[tuple[bool, str]] = asyncio.get_running_loop().create_future()
        self.connection_tests[test_id] = answer
        test = worker_pb2.ConnectionTest(test_id=test_id, connection=connection)
        self._send(worker.name, worker_pb2.CoordinatorMessage(connection_test=test), worker.generation)
        try:
            ok, message = await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            return worker.name, False, f"worker {worker.name!r} did not answer within {timeout:.0f} s"
        finally:
            self.connection_tests.pop(test_id, None)
        return worker.name, ok, message

    def connection_tested(self, test_id: int, ok: bool, message: str) -> None:
        answer = self.connection_tests.pop(test_id, None)
        if answer is not None and not answer.done():
            answer.set_result((ok, message))

    def _send(self, worker: str, message: worker_pb2.CoordinatorMessage, generation: int | None = None) -> None:
        stream = self.streams.get(worker)
        if stream is not None and (generation is None or stream[0] in (generation, -1)):
            stream[1].put_nowait(message)

    def _to_triggerer(
        self, name: str, message: triggerer_pb2.TriggererCommand, generation: int | None = None
    ) -> None:
        stream = self.triggerer_streams.get(name)
        if stream is not None and (generation is None or stream[0] in (generation, -1)):
            stream[1].put_nowait(message)

    def publish(self, response: control_pb2.WatchResponse, dag_id: str = "") -> None:
        self.watchers.publish(response, dag_id)

    def dag_message(self, dag_id: str) -> control_pb2.Dag:
        row = self.store.get_dag(dag_id)
        if row is None:
            raise NotFound(f"DAG {dag_id!r} not found")
        recent = self.store.recent_run_states([dag_id]).get(dag_id, [])
        running = self.store.running_task_counts().get(dag_id, 0)
        return messages.dag_pb(row, running, recent)


def attempt_pb(ref: Any) -> Any:
    return messages.attempt_pb(ref.ti_id, ref.try_number, ref.token)


def internal(exc: Exception) -> ApiError:
    return ApiError(f"internal error: {type(exc).__name__}: {exc}", "INTERNAL")


def log_key(ti: TaskInstance, try_number: int) -> LogKey:
    return LogKey(ti.run.dag_id, ti.run.run_id, ti.task_id, try_number, ti.map_index)
