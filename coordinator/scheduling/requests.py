"""What running tasks ask of the coordinator: push and pull XComs, read variables and
connections, set variables (worker.proto TaskRequest).

A request counts only while its attempt is current and only from the session holding it, the
rule for reports. A push joins the batch's changes, so it is committed with everything else
of its turn, and its answer, like a pull's, is sent only after that commit: nothing a task is
told can be lost to a crash. Pulls read the run's XComs from memory, so they see every push
of an earlier request and every stored return value; a pull from a run that is not in memory
(finished) is answered by the engine from the metastore. Variables and connections are read
from the coordinator's decrypted copy in memory (coordinator/secrets.py); a Variable.set is
stored by the engine off the event loop before it is answered.
"""

from __future__ import annotations

from collections.abc import Mapping

from coordinator.events import (
    ConnectionRead,
    GetConnection,
    GetVariable,
    PullXCom,
    PushXCom,
    RequestFailed,
    RequestResult,
    SetVariable,
    StoredPull,
    TaskRequested,
    VariableRead,
    VariableWrite,
    XComsPulled,
)
from coordinator.scheduling.effects import Respond
from coordinator.scheduling.reports import Reports
from tradewind import wire
from tradewind.wire import RequestError

#: Room an answer leaves for its framing below the largest message.
ANSWER_MARGIN = 64 * 1024
#: Framing of one XComValue beyond its text: tags, lengths and the map index.
VALUE_OVERHEAD = 32


class Requests(Reports):
    def task_request(self, event: TaskRequested) -> None:
        self.effects.append(Respond(event.worker, event.generation, event.request_id, self._answer(event)))

    def _answer(self, event: TaskRequested) -> RequestResult:
        ti = self._reported(event.attempt, event.worker, event.generation)
        if ti is None:
            return RequestFailed(
                RequestError.NOT_CURRENT,
                f"attempt {event.attempt.token!r} of task instance {event.attempt.ti_id} is not current "
                f"on worker {event.worker!r}; its requests are refused",
            )
        request = event.request
        if isinstance(request, PushXCom):
            ti.run.xcoms[(ti.task_id, ti.map_index, request.key)] = request.value_json
            self.changes.xcoms.append((ti.run.id, ti.task_id, ti.map_index, request.key, request.value_json))
            return None
        if isinstance(request, GetVariable):
            row = self.secrets.variable(request.key)
            return VariableRead(row.value if row is not None else None)
        if isinstance(request, GetConnection):
            return ConnectionRead(self.secrets.connection(request.conn_id))
        if isinstance(request, SetVariable):
            return VariableWrite(request)
        run = ti.run
        if request.dag_id and request.dag_id != run.dag_id and not request.run_id:
            return RequestFailed(
                RequestError.INVALID_ARGUMENT,
                f"xcom_pull: run_id is required to pull from another DAG ({request.dag_id!r})",
            )
        if request.dag_id or request.run_id:
            dag_id, run_id = request.dag_id or run.dag_id, request.run_id or run.run_id
            found = self.run_for(dag_id, run_id)
            if found is None:
                return StoredPull(dag_id, run_id, request)
            run = found
        return pulled(run.xcoms, request, {task_id: len(run.mapped[task_id]) for task_id in run.mapped})


def pulled(
    xcoms: Mapping[tuple[str, int, str], str], request: PullXCom, mapped: Mapping[str, int]
) -> RequestFailed | XComsPulled:
    """A run's XComs (by task id, map index and key) asked for, in the order of task_ids, then
    map index: every map index of a task (its instance count in `mapped`, else -1 alone)
    without map_indexes, else exactly those asked for."""
    values: list[tuple[str, int, str]] = []
    size = 0
    for task_id in request.task_ids:
        count = mapped.get(task_id)
        indexes = request.map_indexes or (range(count) if count is not None else (-1,))
        for index in indexes:
            value = xcoms.get((task_id, index, request.key))
            if value is None:
                continue
            values.append((task_id, index, value))
            size += len(value.encode()) + len(task_id.encode()) + VALUE_OVERHEAD
    limit = wire.MAX_MESSAGE_BYTES - ANSWER_MARGIN
    if size > limit:
        return RequestFailed(
            RequestError.RESOURCE_EXHAUSTED,
            f"xcom_pull: the {len(values)} XComs of key {request.key!r} asked for are {size / wire.MiB:.1f} MB; "
            f"one answer may carry at most {limit / wire.MiB:.1f} MB, so pull fewer tasks at a time",
        )
    return XComsPulled(tuple(values))
