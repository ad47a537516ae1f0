"""ControlService: thin handlers that query the store or run a command.

Every request has passed control.proto's input rules (coordinator/validation.py, applied by
the server's interceptor) before a handler sees it. Reads of committed state come from the
metastore on worker threads, so a slow query never holds up the event loop that serves the
worker streams; reads of the scheduler's memory stay on the loop, where it is consistent.
Changes go through the engine so they are applied and committed in order with everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any, TypeAlias, TypeVar

import grpc

from coordinator import messages
from coordinator.auth import Authenticator
from coordinator.dag_callbacks import read_callback_log
from coordinator.engine import Engine
from coordinator.logs import LogKey
from coordinator.metastore.security_store import SecurityStore
from coordinator.records import TaskInstance
from coordinator.secrets_service import SecretsRpcs
from coordinator.token_service import TokenHandlers
from coordinator.validation import logical_date, map_index, required
from tradewind.exceptions import InvalidArgument, NotFound
from tradewind.states import FINISHED, ON_WORKER, TaskState, summary_state
from tradewind.v1 import control_pb2, control_pb2_grpc
from tradewind.wire import (
    DEFAULT_BACKFILL_ACTIVE_RUNS,
    MAX_BACKFILL_ACTIVE_RUNS,
    MIN_LOGICAL_DATE,
    WaitReason,
    conf_from_json,
    from_timestamp,
    reprocess_from_pb,
    run_state_from_pb,
    task_state_from_pb,
    task_state_to_pb,
    to_timestamp,
    wait_reason_to_pb,
)

Ctx: TypeAlias = grpc.aio.ServicerContext
T = TypeVar("T")
LOG_CHUNK = 1 << 20
STATE_PB = {state.value: task_state_to_pb(state) for state in TaskState}
#: States of a task instance whose current try has begun (its log is the one to follow).
TRY_BEGUN = ON_WORKER | {TaskState.SCHEDULED}
#: Live workers are listed from memory; of the others, those gone in one of these ways.
GONE = ("lost", "left")


def pieces(data: bytes) -> Iterator[bytes]:
    """A log in messages of at most LOG_CHUNK bytes, so a long log never meets a message size limit."""
    for start in range(0, len(data), LOG_CHUNK):
        yield data[start : start + LOG_CHUNK]


def page_before(token: str) -> int | None:
    """A page token is the id of the last row of the previous page (its form is checked on the way in)."""
    return int(token) if token else None


def _mapped(task_id: str, index: int) -> str:
    return f"{task_id!r}" + (f" [{index}]" if index >= 0 else "")


#: Seconds between two deletions of workers gone past their retention.
FORGET_EVERY = 60.0


class ControlService(SecretsRpcs, TokenHandlers, control_pb2_grpc.ControlServiceServicer):
    def __init__(
        self, engine: Engine, worker_retention: float = 3600.0, authenticator: Authenticator | None = None
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.authenticator = authenticator or Authenticator(SecurityStore(), engine.clock, False)
        #: Workers gone longer than this are forgotten (their attempts keep their names).
        self.worker_retention = timedelta(seconds=worker_retention)
        self._forgotten_at: float | None = None

    async def _read(self, read: Callable[..., T], *args: Any) -> T:
        """Run metastore reads on a worker thread."""
        return await asyncio.to_thread(read, *args)

    # ---- DAGs ---------------------------------------------------------------------------
    async def ListDags(self, request: control_pb2.ListDagsRequest, context: Ctx) -> control_pb2.ListDagsResponse:
        def read() -> list[control_pb2.Dag]:
            rows = self.store.list_dags(request.dag_id_contains, request.include_inactive)
            recent = self.store.recent_run_states([r.dag_id for r in rows])
            running = self.store.running_task_counts()
            return [messages.dag_pb(r, running.get(r.dag_id, 0), recent.get(r.dag_id, [])) for r in rows]

        return control_pb2.ListDagsResponse(dags=await self._read(read))

    async def GetDag(self, request: control_pb2.GetDagRequest, context: Ctx) -> control_pb2.GetDagResponse:
        dag_id = required(request.dag_id, "dag_id")
        dag = await self._read(self.engine.dag_message, dag_id)
        entry = self.engine.scheduler.dags.get(dag_id)
        tasks = []
        if entry is not None:
            spec = entry.spec
            tasks = [messages.task_pb(t, list(spec.downstream[t["task_id"]])) for t in spec.data["tasks"]]
        return control_pb2.GetDagResponse(dag=dag, tasks=tasks)

    async def SetDagPaused(
        self, request: control_pb2.SetDagPausedRequest, context: Ctx
    ) -> control_pb2.SetDagPausedResponse:
        dag_id = required(request.dag_id, "dag_id")
        dag = await self.engine.command("set_paused", dag_id=dag_id, paused=request.paused)
        return control_pb2.SetDagPausedResponse(dag=dag)

    async def TriggerDag(self, request: control_pb2.TriggerDagRequest, context: Ctx) -> control_pb2.TriggerDagResponse:
        dag_id = required(request.dag_id, "dag_id")
        conf = conf_from_json(request.conf_json, "conf_json")
        logical = logical_date(request.logical_date, request.HasField("logical_date"))
        run = await self.engine.command(
            "trigger", dag_id=dag_id, conf=conf, run_id=request.run_id, logical_date=logical
        )
        return control_pb2.TriggerDagResponse(dag_run=run)

    # ---- runs and task instances --------------------------------------------------------
    async def ListDagRuns(
        self, request: control_pb2.ListDagRunsRequest, context: Ctx
    ) -> control_pb2.ListDagRunsResponse:
        size = request.page_size or 100
        states = [run_state_from_pb(s).value for s in request.states]
        rows = await self._read(self.store.list_runs, request.dag_id, states, size + 1, page_before(request.page_token))
        more = len(rows) > size
        rows = rows[:size]
        return control_pb2.ListDagRunsResponse(
            dag_runs=[messages.run_pb(r) for r in rows], next_page_token=str(rows[-1].id) if more else ""
        )

    def _run_row(self, dag_id: str, run_id: str) -> Any:
        """The run's row, or NotFound naming what is missing. Called on a worker thread."""
        required(dag_id, "dag_id")
        required(run_id, "run_id")
        row = self.store.get_run(dag_id, run_id)
        if row is None:
            if self.store.get_dag(dag_id) is None:
                raise NotFound(f"DAG {dag_id!r} not found")
            raise NotFound(f"DAG {dag_id!r} has no run {run_id!r}")
        return row

    def _ti_row(self, dag_id: str, run_id: str, task_id: str, index: int = -1) -> Any:
        """The task instance's row, or NotFound. Called on a worker thread."""
        run = self._run_row(dag_id, run_id)
        required(task_id, "task_id")
        row = self.store.get_ti(run.id, task_id, index)
        if row is None:
            count = self.store.mapped_count(run.id, task_id) if index < 0 else 0
            if count:
                raise NotFound(
                    f"task {task_id!r} of DAG {dag_id!r} run {run_id!r} is mapped into {count} task instances; "
                    f"name one with map_index 0 to {count - 1} (--map-index)"
                )
            raise NotFound(f"DAG {dag_id!r} run {run_id!r} has no task {_mapped(task_id, index)}")
        return row

    async def ListTaskInstances(
        self, request: control_pb2.ListTaskInstancesRequest, context: Ctx
    ) -> control_pb2.ListTaskInstancesResponse:
        def read() -> list[control_pb2.TaskInstance]:
            run = self._run_row(request.dag_id, request.run_id)
            return [messages.ti_pb(t) for t in self.store.list_tis(run.id)]

        return control_pb2.ListTaskInstancesResponse(task_instances=await self._read(read))

    async def GetDagGrid(self, request: control_pb2.GetDagGridRequest, context: Ctx) -> control_pb2.GetDagGridResponse:
        dag_id = required(request.dag_id, "dag_id")
        size = request.page_size or 25

        def read() -> tuple[list[Any], list[tuple[int, str, str, int, int]]]:
            if self.store.get_dag(dag_id) is None:
                raise NotFound(f"DAG {dag_id!r} not found")
            rows = self.store.list_runs(dag_id, (), size + 1, page_before(request.page_token))
            return rows, self.store.grid_cells([r.id for r in rows[:size]])

        rows, cells = await self._read(read)
        more = len(rows) > size
        rows = rows[:size]
        entry = self.engine.scheduler.dags.get(dag_id)
        task_ids = [t["task_id"] for t in entry.spec.data["tasks"]] if entry is not None else []
        row_of = {task_id: i for i, task_id in enumerate(task_ids)}
        column_of = {run.id: i for i, run in enumerate(rows)}
        newest_with: dict[str, int] = {}
        for run_pk, task_id, *_ in cells:
            if task_id not in row_of and newest_with.get(task_id, -1) < run_pk:
                newest_with[task_id] = run_pk
        for task_id in sorted(newest_with, key=lambda t: (-newest_with[t], t)):
            row_of[task_id] = len(task_ids)
            task_ids.append(task_id)
        states: list[list[Any]] = [[0] * len(task_ids) for _ in rows]
        tries = [[0] * len(task_ids) for _ in rows]
        counts = [[0] * len(task_ids) for _ in rows]
        finished = [[0] * len(task_ids) for _ in rows]
        mapped: dict[tuple[int, int], list[TaskState]] = {}
        for run_pk, task_id, state, try_number, index in cells:
            column, row = column_of[run_pk], row_of[task_id]
            tries[column][row] = max(tries[column][row], try_number) if index >= 0 else try_number
            if index < 0:
                states[column][row] = STATE_PB[state]
                continue
            mapped.setdefault((column, row), []).append(TaskState(state))
        for (column, row), found in mapped.items():
            states[column][row] = STATE_PB[summary_state(found)]
            counts[column][row] = len(found)
            finished[column][row] = sum(1 for state in found if state in FINISHED)
        return control_pb2.GetDagGridResponse(
            dag_runs=[messages.run_pb(r) for r in rows],
            task_ids=task_ids,
            columns=[
                control_pb2.GridColumn(states=s, try_numbers=t, mapped_counts=c, mapped_finished=f)
                for s, t, c, f in zip(states, tries, counts, finished, strict=True)
            ],
            next_page_token=str(rows[-1].id) if more else "",
        )

    async def GetTaskInstance(
        self, request: control_pb2.GetTaskInstanceRequest, context: Ctx
    ) -> control_pb2.GetTaskInstanceResponse:
        def read() -> control_pb2.GetTaskInstanceResponse:
            row = self._ti_row(request.dag_id, request.run_id, request.task_id, map_index(request))
            return control_pb2.GetTaskInstanceResponse(
                task_instance=messages.ti_pb(row),
                attempts=[messages.attempt_row_pb(a) for a in self.store.attempts(row.id)],
            )

        return await self._read(read)

    async def ExplainTaskInstance(
        self, request: control_pb2.ExplainTaskInstanceRequest, context: Ctx
    ) -> control_pb2.ExplainTaskInstanceResponse:
        index = map_index(request)
        row = await self._read(self._ti_row, request.dag_id, request.run_id, request.task_id, index)
        found = self.engine.explain(request.dag_id, request.run_id, request.task_id, index)
        if found is None:
            ti_message = messages.ti_pb(row)
            state = TaskState(row.state)
            conditions = [(WaitReason.NOT_WAITING, f"it is {state.value}; its run is no longer scheduled")]
        else:
            ti, conditions = found
            ti_message = messages.ti_pb(ti)
        return control_pb2.ExplainTaskInstanceResponse(
            task_instance=ti_message,
            conditions=[
                control_pb2.WaitCondition(
                    reason=control_pb2.WaitReason.ValueType(wait_reason_to_pb(reason)), message=text
                )
                for reason, text in conditions
            ],
        )

    async def ClearTaskInstances(
        self, request: control_pb2.ClearTaskInstancesRequest, context: Ctx
    ) -> control_pb2.ClearTaskInstancesResponse:
        await self._read(self._run_row, request.dag_id, request.run_id)
        if not request.task_ids:
            raise InvalidArgument("task_ids must name at least one task")
        cleared = await self.engine.command(
            "clear",
            dag_id=request.dag_id,
            run_id=request.run_id,
            task_ids=list(request.task_ids),
            include_downstream=request.include_downstream,
        )
        return control_pb2.ClearTaskInstancesResponse(task_instances=cleared)

    async def MarkTaskInstance(
        self, request: control_pb2.MarkTaskInstanceRequest, context: Ctx
    ) -> control_pb2.MarkTaskInstanceResponse:
        index = map_index(request)
        await self._read(self._ti_row, request.dag_id, request.run_id, request.task_id, index)
        state = task_state_from_pb(request.state)
        if state not in (TaskState.SUCCESS, TaskState.FAILED):
            raise InvalidArgument(f"a task instance can be marked success or failed, not {state.value}")
        ti = await self.engine.command(
            "mark",
            dag_id=request.dag_id,
            run_id=request.run_id,
            task_id=request.task_id,
            state=state,
            map_index=index,
        )
        return control_pb2.MarkTaskInstanceResponse(task_instance=ti)

    async def CancelDagRun(
        self, request: control_pb2.CancelDagRunRequest, context: Ctx
    ) -> control_pb2.CancelDagRunResponse:
        await self._read(self._run_row, request.dag_id, request.run_id)
        run = await self.engine.command("cancel_run", dag_id=request.dag_id, run_id=request.run_id)
        return control_pb2.CancelDagRunResponse(dag_run=run)

    # ---- logs ---------------------------------------------------------------------------
    async def GetDagRunCallbackLog(
        self, request: control_pb2.GetDagRunCallbackLogRequest, context: Ctx
    ) -> control_pb2.GetDagRunCallbackLogResponse:
        await self._read(self._run_row, request.dag_id, request.run_id)
        data = await self._read(read_callback_log, self.engine.logs.root, request.dag_id, request.run_id)
        return control_pb2.GetDagRunCallbackLogResponse(data=data)

    async def TailLogs(
        self, request: control_pb2.TailLogsRequest, context: Ctx
    ) -> AsyncIterator[control_pb2.TailLogsResponse]:
        index = map_index(request)
        lookup = (request.dag_id, request.run_id, request.task_id, index)
        row = await self._read(self._ti_row, *lookup)
        ti_id, latest = row.id, row.try_number
        if request.follow and not request.try_number:
            begun = await self._until_a_try_begins(ti_id, request.dag_id)
            latest = begun.try_number if begun is not None else (await self._read(self._ti_row, *lookup)).try_number
        try_number = request.try_number or latest
        if try_number == 0 or try_number > latest:
            if request.try_number:
                label = _mapped(request.task_id, index)
                raise NotFound(f"task {label} of run {request.run_id!r} has no try {try_number}")
            return
        key = LogKey(request.dag_id, request.run_id, request.task_id, try_number, index)
        if not request.follow:
            for piece in pieces(await self._read(self.engine.logs.read, key)):
                yield control_pb2.TailLogsResponse(try_number=try_number, data=piece)
            return
        scheduler = self.engine.scheduler

        def live() -> bool:
            ti = scheduler.tis.get(ti_id)
            return ti is not None and ti.try_number == try_number and ti.state in TRY_BEGUN

        async for chunk in self.engine.logs.follow(key, live):
            for piece in pieces(chunk):
                yield control_pb2.TailLogsResponse(try_number=try_number, data=piece)

    async def _until_a_try_begins(self, ti_id: int, dag_id: str) -> TaskInstance | None:
        """Wait for the task instance's next try to begin; None when it ends first (or is not live).

        Changes of its DAG wake the wait; the scheduler's memory is what is checked, so a
        dropped change (a resync) or a missed one costs at most a second.
        """
        subscriber = self.engine.watchers.subscribe(dag_id)
        try:
            while True:
                ti = self.engine.scheduler.tis.get(ti_id)
                if ti is None or ti.finished:
                    return None
                if ti.try_number > 0 and ti.state in TRY_BEGUN:
                    return ti
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):  # wait_for could swallow the stream's cancel (3.11)
                        if await subscriber.next() is None:
                            return None
        finally:
            self.engine.watchers.unsubscribe(subscriber)

    # ---- workers, import errors, pools --------------------------------------------------
    async def ListWorkers(
        self, request: control_pb2.ListWorkersRequest, context: Ctx
    ) -> control_pb2.ListWorkersResponse:
        live = self.engine.scheduler.workers
        # Forgetting deletes rows: at most once a minute, however often the monitor lists workers.
        forget_before = None
        if self._forgotten_at is None or self.engine.clock.monotonic() - self._forgotten_at >= FORGET_EVERY:
            self._forgotten_at = self.engine.clock.monotonic()
            forget_before = self.engine.clock.now() - self.worker_retention
        rows = await self._read(self.store.list_workers, forget_before, set(live))
        out = [messages.worker_pb(live[name]) for name in sorted(live) if live[name].slots > 0]
        out += [messages.worker_row_pb(row) for row in rows if row.name not in live and row.state in GONE]
        triggerers = self.engine.scheduler.triggerers
        listed = [messages.triggerer_pb(triggerers[name]) for name in sorted(triggerers)]
        return control_pb2.ListWorkersResponse(workers=out, triggerers=listed)

    async def DrainWorker(
        self, request: control_pb2.DrainWorkerRequest, context: Ctx
    ) -> control_pb2.DrainWorkerResponse:
        worker = await self.engine.command("drain", name=required(request.name, "name"))
        return control_pb2.DrainWorkerResponse(worker=worker)

    async def ListImportErrors(
        self, request: control_pb2.ListImportErrorsRequest, context: Ctx
    ) -> control_pb2.ListImportErrorsResponse:
        rows = await self._read(self.store.import_errors)
        return control_pb2.ListImportErrorsResponse(import_errors=[messages.import_error_pb(r) for r in rows])

    async def ListPools(self, request: control_pb2.ListPoolsRequest, context: Ctx) -> control_pb2.ListPoolsResponse:
        rows = await self._read(self.store.pools)
        return control_pb2.ListPoolsResponse(pools=[self._pool(rows[name]) for name in sorted(rows)])

    async def _pool_named(self, name: str) -> control_pb2.Pool:
        row = (await self._read(self.store.pools)).get(name)
        if row is None:
            raise NotFound(f"pool {name!r} not found")
        return self._pool(row)

    def _pool(self, row: Any) -> control_pb2.Pool:
        scheduler = self.engine.scheduler
        return control_pb2.Pool(
            name=row.name,
            slots=row.slots,
            occupied=scheduler.pool_used.get(row.name, 0),
            waiting=scheduler.queue.waiting_by_pool().get(row.name, 0),
            description=row.description,
            include_deferred=row.include_deferred,
        )

    async def SetPool(self, request: control_pb2.SetPoolRequest, context: Ctx) -> control_pb2.SetPoolResponse:
        name = required(request.name, "name")
        await self.engine.command(
            "set_pool",
            name=name,
            slots=request.slots,
            description=request.description,
            include_deferred=request.include_deferred,
        )
        return control_pb2.SetPoolResponse(pool=await self._pool_named(name))

    async def DeletePool(self, request: control_pb2.DeletePoolRequest, context: Ctx) -> control_pb2.DeletePoolResponse:
        name = required(request.name, "name")
        if name == "default_pool":
            raise InvalidArgument("the default pool cannot be deleted")
        await self.engine.command("delete_pool", name=name)
        return control_pb2.DeletePoolResponse()

    # ---- backfills ---------------------------------------------------------------------
    async def CreateBackfill(
        self, request: control_pb2.CreateBackfillRequest, context: Ctx
    ) -> control_pb2.CreateBackfillResponse:
        dag_id = required(request.dag_id, "dag_id")
        dates = []
        for name in ("from_date", "to_date"):
            if not request.HasField(name):
                raise InvalidArgument(f"{name} is required")
            moment = from_timestamp(getattr(request, name))
            if moment is None or moment < MIN_LOGICAL_DATE:
                raise InvalidArgument(f"{name} must lie between 1970-01-01 and 9999-12-31, not {moment}")
            dates.append(moment)
        most = request.max_active_runs or DEFAULT_BACKFILL_ACTIVE_RUNS
        if most > MAX_BACKFILL_ACTIVE_RUNS:
            raise InvalidArgument(f"max_active_runs must be between 1 and {MAX_BACKFILL_ACTIVE_RUNS}, not {most}")
        result = await self.engine.command(
            "create_backfill",
            dag_id=dag_id,
            conf=conf_from_json(request.conf_json, "conf_json") if request.conf_json else {},
            from_date=dates[0],
            to_date=dates[1],
            reprocess=reprocess_from_pb(request.reprocess_behavior),
            max_active_runs=most,
            run_backwards=request.run_backwards,
            dry_run=request.dry_run,
        )
        if request.dry_run:
            return control_pb2.CreateBackfillResponse(
                dates=[messages.backfill_date_pb(d.info.logical_date, d.run_id, "", d.skipped) for d in result]
            )
        backfill, planned = await self._read(self._backfill, result)
        return control_pb2.CreateBackfillResponse(backfill=backfill, dates=planned)

    def _backfill(self, backfill_id: int) -> tuple[control_pb2.Backfill, list[control_pb2.BackfillDate]]:
        """A backfill and its dates, or NotFound. Called on a worker thread."""
        row = self.store.get_backfill(backfill_id)
        if row is None:
            raise NotFound(f"backfill {backfill_id} not found")
        counts = self.store.backfill_progress([backfill_id])[backfill_id]
        dates = [messages.backfill_date_pb(*d) for d in self.store.backfill_dates(backfill_id)]
        return messages.backfill_pb(row, counts), dates

    async def ListBackfills(
        self, request: control_pb2.ListBackfillsRequest, context: Ctx
    ) -> control_pb2.ListBackfillsResponse:
        def read() -> list[control_pb2.Backfill]:
            rows = self.store.list_backfills(request.dag_id)
            counts = self.store.backfill_progress([r.id for r in rows])
            return [messages.backfill_pb(r, counts[r.id]) for r in rows]

        return control_pb2.ListBackfillsResponse(backfills=await self._read(read))

    async def GetBackfill(
        self, request: control_pb2.GetBackfillRequest, context: Ctx
    ) -> control_pb2.GetBackfillResponse:
        if not request.backfill_id:
            raise InvalidArgument("backfill_id is required")
        backfill, dates = await self._read(self._backfill, request.backfill_id)
        return control_pb2.GetBackfillResponse(backfill=backfill, dates=dates)

    async def CancelBackfill(
        self, request: control_pb2.CancelBackfillRequest, context: Ctx
    ) -> control_pb2.CancelBackfillResponse:
        if not request.backfill_id:
            raise InvalidArgument("backfill_id is required")
        await self.engine.command("cancel_backfill", backfill_id=request.backfill_id)
        backfill, _ = await self._read(self._backfill, request.backfill_id)
        return control_pb2.CancelBackfillResponse(backfill=backfill)

    # ---- live changes -------------------------------------------------------------------
    async def Watch(self, request: control_pb2.WatchRequest, context: Ctx) -> AsyncIterator[control_pb2.WatchResponse]:
        subscriber = self.engine.watchers.subscribe(request.dag_id)
        try:
            ready = control_pb2.WatchReady(server_time=to_timestamp(self.engine.clock.now()))
            yield control_pb2.WatchResponse(ready=ready)
            while True:
                item = await subscriber.next()
                if item is None:
                    return
                yield item
        finally:
            self.engine.watchers.unsubscribe(subscriber)

    # ---- assets --------------------------------------------------------------------------
    async def EmitAssetEvent(
        self, request: control_pb2.EmitAssetEventRequest, context: Ctx
    ) -> control_pb2.EmitAssetEventResponse:
        uri = required(request.uri, "uri")
        extra = conf_from_json(request.extra_json, "extra_json")
        event, runs = await self.engine.command("emit_asset_event", uri=uri, extra=extra)
        return control_pb2.EmitAssetEventResponse(event=event, dag_runs=[messages.run_pb(r) for r in runs])

    async def ListAssets(self, request: control_pb2.ListAssetsRequest, context: Ctx) -> control_pb2.ListAssetsResponse:
        rows = await self._read(self.store.list_assets, request.uri_contains)
        scheduler = self.engine.scheduler
        producers = scheduler.producers()
        watchers = scheduler.watchers_by_uri()
        return control_pb2.ListAssetsResponse(
            assets=[
                messages.asset_pb(
                    row, last, scheduler.consumers_of(row.uri), producers.get(row.uri, []), watchers.get(row.uri)
                )
                for row, last in rows
            ]
        )

    async def ListAssetEvents(
        self, request: control_pb2.ListAssetEventsRequest, context: Ctx
    ) -> control_pb2.ListAssetEventsResponse:
        size = request.page_size or 100
        found = await self._read(self.store.list_asset_events, request.uri, size, page_before(request.page_token))
        events = [messages.asset_event_pb(event, runs) for event, runs in found]
        token = str(found[-1][0].id) if len(found) == size else ""
        return control_pb2.ListAssetEventsResponse(events=events, next_page_token=token)
