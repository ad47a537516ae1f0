"""ControlService: thin handlers that validate a request, then query the store or run a command.

Reads come from the metastore (the committed state); changes go through the engine so they
are applied and committed in order with everything else.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeAlias

import grpc

from coordinator import messages
from coordinator.engine import Engine
from coordinator.logs import LogKey
from tradewind.exceptions import InvalidArgument, NotFound
from tradewind.states import ON_WORKER, TaskState
from tradewind.v1 import control_pb2, control_pb2_grpc
from tradewind.wire import (
    conf_from_json,
    from_timestamp,
    run_state_from_pb,
    task_state_from_pb,
    task_state_to_pb,
    to_timestamp,
)

ID = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
RUN_ID = re.compile(r"^[A-Za-z0-9_.:+\-]{1,250}$")
Ctx: TypeAlias = grpc.aio.ServicerContext
LOG_CHUNK = 1 << 20
STATE_PB = {state.value: task_state_to_pb(state) for state in TaskState}


def need(value: str, what: str, pattern: re.Pattern[str] = ID) -> str:
    if not value:
        raise InvalidArgument(f"{what} is required")
    if not pattern.match(value):
        allowed = "_ . : + -" if pattern is RUN_ID else "_ . -"
        raise InvalidArgument(f"{what} {value!r} is not valid: use up to 250 letters, digits and {allowed}")
    return value


def pieces(data: bytes) -> Iterator[bytes]:
    """A log in messages of at most LOG_CHUNK bytes, so a long log never meets a message size limit."""
    for start in range(0, len(data), LOG_CHUNK):
        yield data[start : start + LOG_CHUNK]


def page_before(token: str) -> int | None:
    """A page token is the id of the last row of the previous page."""
    if not token:
        return None
    if not token.isdigit():
        raise InvalidArgument(f"page_token {token!r} is not one this server gave out")
    return int(token)


class ControlService(control_pb2_grpc.ControlServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    # ---- DAGs ---------------------------------------------------------------------------
    async def ListDags(self, request: control_pb2.ListDagsRequest, context: Ctx) -> control_pb2.ListDagsResponse:
        rows = self.store.list_dags(request.dag_id_contains, request.include_inactive)
        recent = self.store.recent_run_states([r.dag_id for r in rows])
        running = self.store.running_task_counts()
        return control_pb2.ListDagsResponse(
            dags=[messages.dag_pb(r, running.get(r.dag_id, 0), recent.get(r.dag_id, [])) for r in rows]
        )

    async def GetDag(self, request: control_pb2.GetDagRequest, context: Ctx) -> control_pb2.GetDagResponse:
        dag_id = need(request.dag_id, "dag_id")
        dag = self.engine.dag_message(dag_id)
        entry = self.engine.scheduler.dags.get(dag_id)
        tasks = []
        if entry is not None:
            spec = entry.spec
            tasks = [messages.task_pb(t, list(spec.downstream[t["task_id"]])) for t in spec.data["tasks"]]
        return control_pb2.GetDagResponse(dag=dag, tasks=tasks)

    async def SetDagPaused(
        self, request: control_pb2.SetDagPausedRequest, context: Ctx
    ) -> control_pb2.SetDagPausedResponse:
        dag = await self.engine.command("set_paused", dag_id=need(request.dag_id, "dag_id"), paused=request.paused)
        return control_pb2.SetDagPausedResponse(dag=dag)

    async def TriggerDag(self, request: control_pb2.TriggerDagRequest, context: Ctx) -> control_pb2.TriggerDagResponse:
        dag_id = need(request.dag_id, "dag_id")
        if request.run_id:
            need(request.run_id, "run_id", RUN_ID)
        conf = conf_from_json(request.conf_json, "conf_json")
        logical = from_timestamp(request.logical_date, request.HasField("logical_date"))
        run = await self.engine.command(
            "trigger", dag_id=dag_id, conf=conf, run_id=request.run_id, logical_date=logical
        )
        return control_pb2.TriggerDagResponse(dag_run=run)

    # ---- runs and task instances --------------------------------------------------------
    async def ListDagRuns(
        self, request: control_pb2.ListDagRunsRequest, context: Ctx
    ) -> control_pb2.ListDagRunsResponse:
        if request.dag_id:
            need(request.dag_id, "dag_id")
        size = request.page_size or 100
        if not 1 <= size <= 1000:
            raise InvalidArgument(f"page_size must be between 1 and 1000, not {request.page_size}")
        states = [run_state_from_pb(s).value for s in request.states]
        rows = self.store.list_runs(request.dag_id, states, size + 1, page_before(request.page_token))
        more = len(rows) > size
        rows = rows[:size]
        return control_pb2.ListDagRunsResponse(
            dag_runs=[messages.run_pb(r) for r in rows], next_page_token=str(rows[-1].id) if more else ""
        )

    def _run_row(self, dag_id: str, run_id: str) -> Any:
        need(dag_id, "dag_id")
        need(run_id, "run_id", RUN_ID)
        row = self.store.get_run(dag_id, run_id)
        if row is None:
            if self.store.get_dag(dag_id) is None:
                raise NotFound(f"DAG {dag_id!r} not found")
            raise NotFound(f"DAG {dag_id!r} has no run {run_id!r}")
        return row

    async def ListTaskInstances(
        self, request: control_pb2.ListTaskInstancesRequest, context: Ctx
    ) -> control_pb2.ListTaskInstancesResponse:
        run = self._run_row(request.dag_id, request.run_id)
        return control_pb2.ListTaskInstancesResponse(
            task_instances=[messages.ti_pb(t) for t in self.store.list_tis(run.id)]
        )

    async def GetDagGrid(self, request: control_pb2.GetDagGridRequest, context: Ctx) -> control_pb2.GetDagGridResponse:
        dag_id = need(request.dag_id, "dag_id")
        if self.store.get_dag(dag_id) is None:
            raise NotFound(f"DAG {dag_id!r} not found")
        size = request.page_size or 25
        if not 1 <= size <= 100:
            raise InvalidArgument(f"page_size must be between 1 and 100, not {request.page_size}")
        rows = self.store.list_runs(dag_id, (), size + 1, page_before(request.page_token))
        more = len(rows) > size
        rows = rows[:size]
        entry = self.engine.scheduler.dags.get(dag_id)
        task_ids = [t["task_id"] for t in entry.spec.data["tasks"]] if entry is not None else []
        row_of = {task_id: i for i, task_id in enumerate(task_ids)}
        column_of = {run.id: i for i, run in enumerate(rows)}
        cells = self.store.grid_cells(list(column_of))
        newest_with: dict[str, int] = {}
        for run_pk, task_id, _, _ in cells:
            if task_id not in row_of and newest_with.get(task_id, -1) < run_pk:
                newest_with[task_id] = run_pk
        for task_id in sorted(newest_with, key=lambda t: (-newest_with[t], t)):
            row_of[task_id] = len(task_ids)
            task_ids.append(task_id)
        states: list[list[Any]] = [[0] * len(task_ids) for _ in rows]
        tries = [[0] * len(task_ids) for _ in rows]
        for run_pk, task_id, state, try_number in cells:
            column, row = column_of[run_pk], row_of[task_id]
            states[column][row] = STATE_PB[state]
            tries[column][row] = try_number
        return control_pb2.GetDagGridResponse(
            dag_runs=[messages.run_pb(r) for r in rows],
            task_ids=task_ids,
            columns=[control_pb2.GridColumn(states=s, try_numbers=t) for s, t in zip(states, tries, strict=True)],
            next_page_token=str(rows[-1].id) if more else "",
        )

    def _ti_row(self, dag_id: str, run_id: str, task_id: str) -> Any:
        run = self._run_row(dag_id, run_id)
        need(task_id, "task_id")
        row = self.store.get_ti(run.id, task_id)
        if row is None:
            raise NotFound(f"DAG {dag_id!r} run {run_id!r} has no task {task_id!r}")
        return row

    async def GetTaskInstance(
        self, request: control_pb2.GetTaskInstanceRequest, context: Ctx
    ) -> control_pb2.GetTaskInstanceResponse:
        row = self._ti_row(request.dag_id, request.run_id, request.task_id)
        return control_pb2.GetTaskInstanceResponse(
            task_instance=messages.ti_pb(row),
            attempts=[messages.attempt_row_pb(a) for a in self.store.attempts(row.id)],
        )

    async def ClearTaskInstances(
        self, request: control_pb2.ClearTaskInstancesRequest, context: Ctx
    ) -> control_pb2.ClearTaskInstancesResponse:
        self._run_row(request.dag_id, request.run_id)
        task_ids = [need(t, "task_id") for t in request.task_ids]
        cleared = await self.engine.command(
            "clear",
            dag_id=request.dag_id,
            run_id=request.run_id,
            task_ids=task_ids,
            include_downstream=request.include_downstream,
        )
        return control_pb2.ClearTaskInstancesResponse(task_instances=cleared)

    async def MarkTaskInstance(
        self, request: control_pb2.MarkTaskInstanceRequest, context: Ctx
    ) -> control_pb2.MarkTaskInstanceResponse:
        self._ti_row(request.dag_id, request.run_id, request.task_id)
        state = task_state_from_pb(request.state)
        if state not in (TaskState.SUCCESS, TaskState.FAILED):
            raise InvalidArgument(f"a task instance can be marked success or failed, not {state.value}")
        ti = await self.engine.command(
            "mark", dag_id=request.dag_id, run_id=request.run_id, task_id=request.task_id, state=state
        )
        return control_pb2.MarkTaskInstanceResponse(task_instance=ti)

    async def CancelDagRun(
        self, request: control_pb2.CancelDagRunRequest, context: Ctx
    ) -> control_pb2.CancelDagRunResponse:
        self._run_row(request.dag_id, request.run_id)
        run = await self.engine.command("cancel_run", dag_id=request.dag_id, run_id=request.run_id)
        return control_pb2.CancelDagRunResponse(dag_run=run)

    # ---- logs ---------------------------------------------------------------------------
    async def TailLogs(
        self, request: control_pb2.TailLogsRequest, context: Ctx
    ) -> AsyncIterator[control_pb2.TailLogsResponse]:
        row = self._ti_row(request.dag_id, request.run_id, request.task_id)
        if request.try_number < 0:
            raise InvalidArgument(f"try_number must be 0 (latest) or more, not {request.try_number}")
        try_number = request.try_number or row.try_number
        if try_number == 0 or try_number > row.try_number:
            if request.try_number:
                raise NotFound(f"task {request.task_id!r} of run {request.run_id!r} has no try {try_number}")
            return
        key = LogKey(request.dag_id, request.run_id, request.task_id, try_number)
        if not request.follow:
            for piece in pieces(self.engine.logs.read(key)):
                yield control_pb2.TailLogsResponse(try_number=try_number, data=piece)
            return
        scheduler = self.engine.scheduler
        ti_id = row.id

        def live() -> bool:
            ti = scheduler.tis.get(ti_id)
            if ti is None or ti.try_number != try_number:
                return False
            return ti.state in ON_WORKER or ti.state is TaskState.SCHEDULED

        async for chunk in self.engine.logs.follow(key, live):
            for piece in pieces(chunk):
                yield control_pb2.TailLogsResponse(try_number=try_number, data=piece)

    # ---- workers, import errors, pools --------------------------------------------------
    async def ListWorkers(
        self, request: control_pb2.ListWorkersRequest, context: Ctx
    ) -> control_pb2.ListWorkersResponse:
        live = self.engine.scheduler.workers
        out = [messages.worker_pb(live[name]) for name in sorted(live) if live[name].slots > 0]
        out += [
            messages.worker_row_pb(row)
            for row in self.store.list_workers()
            if row.name not in live and row.state == "lost"
        ]
        return control_pb2.ListWorkersResponse(workers=out)

    async def DrainWorker(
        self, request: control_pb2.DrainWorkerRequest, context: Ctx
    ) -> control_pb2.DrainWorkerResponse:
        if not request.name:
            raise InvalidArgument("name is required")
        worker = await self.engine.command("drain", name=request.name)
        return control_pb2.DrainWorkerResponse(worker=worker)

    async def ListImportErrors(
        self, request: control_pb2.ListImportErrorsRequest, context: Ctx
    ) -> control_pb2.ListImportErrorsResponse:
        return control_pb2.ListImportErrorsResponse(
            import_errors=[messages.import_error_pb(r) for r in self.store.import_errors()]
        )

    async def ListPools(self, request: control_pb2.ListPoolsRequest, context: Ctx) -> control_pb2.ListPoolsResponse:
        return control_pb2.ListPoolsResponse(pools=[self._pool(name) for name in sorted(self.store.pools())])

    def _pool(self, name: str) -> control_pb2.Pool:
        row = self.store.pools().get(name)
        if row is None:
            raise NotFound(f"pool {name!r} not found")
        scheduler = self.engine.scheduler
        return control_pb2.Pool(
            name=name,
            slots=row.slots,
            occupied=scheduler.pool_used.get(name, 0),
            waiting=scheduler.queue.waiting_by_pool().get(name, 0),
            description=row.description,
        )

    async def SetPool(self, request: control_pb2.SetPoolRequest, context: Ctx) -> control_pb2.SetPoolResponse:
        need(request.name, "pool name")
        if request.slots < 0:
            raise InvalidArgument(f"pool {request.name!r}: slots must be 0 or more, not {request.slots}")
        await self.engine.command("set_pool", name=request.name, slots=request.slots, description=request.description)
        return control_pb2.SetPoolResponse(pool=self._pool(request.name))

    async def DeletePool(self, request: control_pb2.DeletePoolRequest, context: Ctx) -> control_pb2.DeletePoolResponse:
        need(request.name, "pool name")
        if request.name == "default_pool":
            raise InvalidArgument("the default pool cannot be deleted")
        await self.engine.command("delete_pool", name=request.name)
        return control_pb2.DeletePoolResponse()

    # ---- live changes -------------------------------------------------------------------
    async def Watch(self, request: control_pb2.WatchRequest, context: Ctx) -> AsyncIterator[control_pb2.WatchResponse]:
        if request.dag_id:
            need(request.dag_id, "dag_id")
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
