"""A typed ControlService client. The one place on the client side that catches grpc.RpcError."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import grpc

from tradewind.exceptions import ApiError, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from tradewind.states import RunState, TaskState
from tradewind.v1 import control_pb2, control_pb2_grpc
from tradewind.wire import run_state_to_pb, task_state_to_pb, to_timestamp

R = TypeVar("R")
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    # Reconnect within a second or two of a restarted coordinator, not grpc's default minutes.
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
]
#: With several addresses, how long one gets to answer before the next is tried.
_CONNECT_TURN = 0.5
_ERRORS: dict[grpc.StatusCode, type[ApiError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ALREADY_EXISTS: FailedPrecondition,
}


class _CurrentStub:
    """`client._stub.Method` calls Method on the stub of the coordinator in use at call time."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., Any]:
        client = self._client

        def call(request: Any, **kwargs: Any) -> Any:
            return getattr(client._stubs[client._current], name)(request, **kwargs)

        return call


class Stream(Generic[R]):
    """A server stream. Iterate it for its messages; `cancel()`, from any thread, ends the iteration."""

    def __init__(self, client: Client, method: Callable[..., Any], request: Any) -> None:
        self._client = client
        self._method = method
        self._request = request
        self._call: Any = None
        self._cancelled = False

    def __iter__(self) -> Iterator[R]:
        self._client._connect()
        if self._cancelled:
            return
        self._call = self._method(self._request)
        try:
            yield from self._call
        except grpc.RpcError as exc:
            code = exc.code()  # type: ignore[attr-defined]
            if code is grpc.StatusCode.CANCELLED:
                return
            error = self._client._error(exc)
            if code is grpc.StatusCode.UNAVAILABLE and len(self._client.hosts) > 1:
                self._client._move_on()
            raise error from None
        finally:
            self._call.cancel()

    def cancel(self) -> None:
        self._cancelled = True
        if self._call is not None:
            self._call.cancel()


class Client:
    """Every ControlService call, returning its response message (or an iterator, for streams).

    `host` may name several coordinators ("a:1,b:2": an owner and its standbys); the client
    talks to one and moves to the next when that one is unavailable.
    """

    def __init__(self, host: str, *, timeout: float = 10.0, connect_timeout: float = 3.0) -> None:
        self.host = host
        self.hosts = [part.strip() for part in host.split(",") if part.strip()] or [host]
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._channels = [grpc.insecure_channel(address, options=_CHANNEL_OPTIONS) for address in self.hosts]
        self._stubs = [control_pb2_grpc.ControlServiceStub(channel) for channel in self._channels]
        self._current = 0
        self._stub: Any = _CurrentStub(self)
        self._ready = False

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for channel in self._channels:
            channel.close()

    @property
    def address(self) -> str:
        """The coordinator address in use."""
        return self.hosts[self._current]

    def _error(self, exc: grpc.RpcError) -> ApiError:
        code = exc.code()  # type: ignore[attr-defined]
        details = exc.details() or code.name  # type: ignore[attr-defined]
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) and not self._ready:
            return Unavailable(f"cannot reach the coordinator at {self.host} (is `coordinator serve` running?)")
        if code is grpc.StatusCode.UNAVAILABLE:
            return Unavailable(f"lost the coordinator at {self.address}: {details}")
        return _ERRORS.get(code, ApiError)(details, code.name)

    def _connect(self) -> None:
        """Wait for a coordinator to answer, trying each address in turn until connect_timeout passes."""
        if self._ready:
            return
        end = time.monotonic() + self.connect_timeout
        # One address gets the whole timeout; several share it in short turns, so a dead one costs little.
        turn = self.connect_timeout if len(self.hosts) == 1 else _CONNECT_TURN
        while True:
            for _ in self.hosts:
                left = end - time.monotonic()
                try:
                    grpc.channel_ready_future(self._channels[self._current]).result(timeout=max(min(turn, left), 0.01))
                except grpc.FutureTimeoutError:
                    self._current = (self._current + 1) % len(self.hosts)
                    continue
                self._ready = True
                return
            if time.monotonic() >= end:
                raise Unavailable(f"cannot reach the coordinator at {self.host} (is `coordinator serve` running?)")

    def _call(self, method: Callable[..., R], request: Any) -> R:
        """Call `method`; when the coordinator in use is unavailable and there are others, move on once to each."""
        for tries_left in range(len(self.hosts) - 1, -1, -1):
            self._connect()
            try:
                return method(request, timeout=self.timeout)
            except grpc.RpcError as exc:
                if exc.code() is grpc.StatusCode.UNAVAILABLE and tries_left:  # type: ignore[attr-defined]
                    self._move_on()
                    continue
                raise self._error(exc) from None
        raise AssertionError("unreachable")

    def _move_on(self) -> None:
        """The coordinator in use went away: look for the live one from the next address on."""
        self._ready = False
        self._current = (self._current + 1) % len(self.hosts)

    def _stream(self, method: Callable[..., Any], request: Any) -> Stream[Any]:
        return Stream(self, method, request)

    # ---- DAGs ---------------------------------------------------------------------------
    def list_dags(self, dag_id_contains: str = "", include_inactive: bool = False) -> control_pb2.ListDagsResponse:
        return self._call(
            self._stub.ListDags,
            control_pb2.ListDagsRequest(dag_id_contains=dag_id_contains, include_inactive=include_inactive),
        )

    def get_dag(self, dag_id: str) -> control_pb2.GetDagResponse:
        return self._call(self._stub.GetDag, control_pb2.GetDagRequest(dag_id=dag_id))

    def set_dag_paused(self, dag_id: str, paused: bool) -> control_pb2.SetDagPausedResponse:
        return self._call(self._stub.SetDagPaused, control_pb2.SetDagPausedRequest(dag_id=dag_id, paused=paused))

    def trigger_dag(
        self, dag_id: str, conf: dict[str, Any] | None = None, run_id: str = "", logical_date: datetime | None = None
    ) -> control_pb2.TriggerDagResponse:
        if conf is not None and not isinstance(conf, dict):
            raise InvalidArgument(f"conf must be a JSON object, not {type(conf).__name__}")
        request = control_pb2.TriggerDagRequest(dag_id=dag_id, conf_json=json.dumps(conf or {}), run_id=run_id)
        stamp = to_timestamp(logical_date)
        if stamp is not None:
            request.logical_date.CopyFrom(stamp)
        return self._call(self._stub.TriggerDag, request)

    # ---- runs and task instances --------------------------------------------------------
    def list_dag_runs(
        self, dag_id: str = "", states: Sequence[str] = (), page_size: int = 0, page_token: str = ""
    ) -> control_pb2.ListDagRunsResponse:
        request = control_pb2.ListDagRunsRequest(
            dag_id=dag_id,
            states=[run_state_to_pb(RunState(s)) for s in states],
            page_size=page_size,
            page_token=page_token,
        )
        return self._call(self._stub.ListDagRuns, request)

    def list_task_instances(self, dag_id: str, run_id: str) -> control_pb2.ListTaskInstancesResponse:
        return self._call(
            self._stub.ListTaskInstances, control_pb2.ListTaskInstancesRequest(dag_id=dag_id, run_id=run_id)
        )

    def get_dag_grid(self, dag_id: str, page_size: int = 0, page_token: str = "") -> control_pb2.GetDagGridResponse:
        return self._call(
            self._stub.GetDagGrid,
            control_pb2.GetDagGridRequest(dag_id=dag_id, page_size=page_size, page_token=page_token),
        )

    def get_task_instance(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> control_pb2.GetTaskInstanceResponse:
        return self._call(
            self._stub.GetTaskInstance,
            control_pb2.GetTaskInstanceRequest(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index),
        )

    def explain_task_instance(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> control_pb2.ExplainTaskInstanceResponse:
        return self._call(
            self._stub.ExplainTaskInstance,
            control_pb2.ExplainTaskInstanceRequest(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index),
        )

    def clear_task_instances(
        self, dag_id: str, run_id: str, task_ids: Sequence[str], include_downstream: bool = False
    ) -> control_pb2.ClearTaskInstancesResponse:
        return self._call(
            self._stub.ClearTaskInstances,
            control_pb2.ClearTaskInstancesRequest(
                dag_id=dag_id, run_id=run_id, task_ids=list(task_ids), include_downstream=include_downstream
            ),
        )

    def mark_task_instance(
        self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int = -1
    ) -> control_pb2.MarkTaskInstanceResponse:
        return self._call(
            self._stub.MarkTaskInstance,
            control_pb2.MarkTaskInstanceRequest(
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                state=task_state_to_pb(TaskState(state)),
                map_index=map_index,
            ),
        )

    def cancel_dag_run(self, dag_id: str, run_id: str) -> control_pb2.CancelDagRunResponse:
        return self._call(self._stub.CancelDagRun, control_pb2.CancelDagRunRequest(dag_id=dag_id, run_id=run_id))

    def tail_logs(
        self, dag_id: str, run_id: str, task_id: str, try_number: int = 0, follow: bool = False, map_index: int = -1
    ) -> Stream[control_pb2.TailLogsResponse]:
        return self._stream(
            self._stub.TailLogs,
            control_pb2.TailLogsRequest(
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                try_number=try_number,
                follow=follow,
                map_index=map_index,
            ),
        )

    # ---- workers, import errors, pools, watch --------------------------------------------
    def list_workers(self) -> control_pb2.ListWorkersResponse:
        return self._call(self._stub.ListWorkers, control_pb2.ListWorkersRequest())

    def drain_worker(self, name: str) -> control_pb2.DrainWorkerResponse:
        return self._call(self._stub.DrainWorker, control_pb2.DrainWorkerRequest(name=name))

    def list_import_errors(self) -> control_pb2.ListImportErrorsResponse:
        return self._call(self._stub.ListImportErrors, control_pb2.ListImportErrorsRequest())

    def list_pools(self) -> control_pb2.ListPoolsResponse:
        return self._call(self._stub.ListPools, control_pb2.ListPoolsRequest())

    def set_pool(
        self, name: str, slots: int, description: str = "", include_deferred: bool = False
    ) -> control_pb2.SetPoolResponse:
        request = control_pb2.SetPoolRequest(
            name=name, slots=slots, description=description, include_deferred=include_deferred
        )
        return self._call(self._stub.SetPool, request)

    def delete_pool(self, name: str) -> control_pb2.DeletePoolResponse:
        return self._call(self._stub.DeletePool, control_pb2.DeletePoolRequest(name=name))

    def watch(self, dag_id: str = "") -> Stream[control_pb2.WatchResponse]:
        return self._stream(self._stub.Watch, control_pb2.WatchRequest(dag_id=dag_id))
