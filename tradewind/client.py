"""A typed ControlService client. The one place on the client side that catches grpc.RpcError."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import grpc

from tradewind.credentials import Credentials, diagnose, sync_channel
from tradewind.exceptions import (
    ApiError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from tradewind.states import RunState, TaskState
from tradewind.v1 import common_pb2, control_pb2, control_pb2_grpc
from tradewind.wire import reprocess_to_pb, run_state_to_pb, task_state_to_pb, to_timestamp, token_role_to_pb

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
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
}


class _CurrentStub:
    """`client._stub.Method` calls Method on the stub of the coordinator in use at call time."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Callable[..., Any]:
        client = self._client

        def call(request: Any, **kwargs: Any) -> Any:
            metadata = client.credentials.metadata()
            return getattr(client._stubs[client._current], name)(request, metadata=metadata, **kwargs)

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
    talks to one and moves to the next when that one is unavailable. `credentials` (a token,
    TLS files) go with every call.
    """

    def __init__(
        self,
        host: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        credentials: Credentials | None = None,
    ) -> None:
        self.host = host
        self.credentials = credentials or Credentials()
        self.hosts = [part.strip() for part in host.split(",") if part.strip()] or [host]
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._channels = [sync_channel(address, self.credentials, _CHANNEL_OPTIONS) for address in self.hosts]
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
            return self._unreachable()
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
                raise self._unreachable()

    def _unreachable(self) -> Unavailable:
        """Why no coordinator answered: a TLS mismatch when one is found, else not running."""
        for address in self.hosts:
            why = diagnose(address, self.credentials)
            if why:
                return Unavailable(why)
        return Unavailable(f"cannot reach the coordinator at {self.host} (is `coordinator serve` running?)")

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

    def dag_run_callback_log(self, dag_id: str, run_id: str) -> control_pb2.GetDagRunCallbackLogResponse:
        return self._call(
            self._stub.GetDagRunCallbackLog, control_pb2.GetDagRunCallbackLogRequest(dag_id=dag_id, run_id=run_id)
        )

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

    # ---- connections and variables -------------------------------------------------------
    def list_connections(self) -> control_pb2.ListConnectionsResponse:
        return self._call(self._stub.ListConnections, control_pb2.ListConnectionsRequest())

    def get_connection(self, conn_id: str, reveal: bool = False) -> control_pb2.GetConnectionResponse:
        return self._call(self._stub.GetConnection, control_pb2.GetConnectionRequest(conn_id=conn_id, reveal=reveal))

    def set_connection(self, connection: common_pb2.Connection) -> control_pb2.SetConnectionResponse:
        return self._call(self._stub.SetConnection, control_pb2.SetConnectionRequest(connection=connection))

    def delete_connection(self, conn_id: str) -> control_pb2.DeleteConnectionResponse:
        return self._call(self._stub.DeleteConnection, control_pb2.DeleteConnectionRequest(conn_id=conn_id))

    def test_connection(
        self, conn_id: str = "", connection: common_pb2.Connection | None = None
    ) -> control_pb2.TestConnectionResponse:
        request = control_pb2.TestConnectionRequest(conn_id=conn_id, connection=connection)
        return self._call(self._stub.TestConnection, request)

    def list_variables(self) -> control_pb2.ListVariablesResponse:
        return self._call(self._stub.ListVariables, control_pb2.ListVariablesRequest())

    def get_variable(self, key: str) -> control_pb2.GetVariableResponse:
        return self._call(self._stub.GetVariable, control_pb2.GetVariableRequest(key=key))

    def set_variable(self, key: str, value: str, description: str = "") -> control_pb2.SetVariableResponse:
        variable = control_pb2.Variable(key=key, value=value, description=description)
        return self._call(self._stub.SetVariable, control_pb2.SetVariableRequest(variable=variable))

    def delete_variable(self, key: str) -> control_pb2.DeleteVariableResponse:
        return self._call(self._stub.DeleteVariable, control_pb2.DeleteVariableRequest(key=key))
    # ---- assets ---------------------------------------------------------------------------
    def emit_asset_event(self, uri: str, extra: dict[str, Any] | None = None) -> control_pb2.EmitAssetEventResponse:
        """Say that the asset's data changed: every DAG whose asset condition this completes starts."""
        if extra is not None and not isinstance(extra, dict):
            raise InvalidArgument(f"extra must be a JSON object, not {type(extra).__name__}")
        request = control_pb2.EmitAssetEventRequest(uri=uri, extra_json=json.dumps(extra or {}))
        return self._call(self._stub.EmitAssetEvent, request)

    def list_assets(self, uri_contains: str = "") -> control_pb2.ListAssetsResponse:
        return self._call(self._stub.ListAssets, control_pb2.ListAssetsRequest(uri_contains=uri_contains))

    def list_asset_events(
        self, uri: str = "", page_size: int = 0, page_token: str = ""
    ) -> control_pb2.ListAssetEventsResponse:
        request = control_pb2.ListAssetEventsRequest(uri=uri, page_size=page_size, page_token=page_token)
        return self._call(self._stub.ListAssetEvents, request)

    def watch(self, dag_id: str = "") -> Stream[control_pb2.WatchResponse]:
        return self._stream(self._stub.Watch, control_pb2.WatchRequest(dag_id=dag_id))

    # ---- tokens and the audit log --------------------------------------------------------
    def create_token(self, name: str, role: str, expires_in_seconds: int = 0) -> control_pb2.CreateTokenResponse:
        request = control_pb2.CreateTokenRequest(
            name=name, role=token_role_to_pb(role), expires_in_seconds=expires_in_seconds  # type: ignore[arg-type]
        )
        return self._call(self._stub.CreateToken, request)

    def list_tokens(self) -> control_pb2.ListTokensResponse:
        return self._call(self._stub.ListTokens, control_pb2.ListTokensRequest())

    def revoke_token(self, name: str) -> control_pb2.RevokeTokenResponse:
        return self._call(self._stub.RevokeToken, control_pb2.RevokeTokenRequest(name=name))

    def list_audit_log(self, page_size: int = 0, page_token: str = "") -> control_pb2.ListAuditLogResponse:
        return self._call(
            self._stub.ListAuditLog, control_pb2.ListAuditLogRequest(page_size=page_size, page_token=page_token)
        )

    # ---- backfills -----------------------------------------------------------------------
    def create_backfill(
        self,
        dag_id: str,
        from_date: datetime,
        to_date: datetime,
        reprocess: str = "none",
        max_active_runs: int = 0,
        run_backwards: bool = False,
        dry_run: bool = False,
        conf: dict[str, Any] | None = None,
    ) -> control_pb2.CreateBackfillResponse:
        request = control_pb2.CreateBackfillRequest(
            dag_id=dag_id,
            from_date=to_timestamp(from_date),
            to_date=to_timestamp(to_date),
            reprocess_behavior=reprocess_to_pb(reprocess),  # type: ignore[arg-type]
            max_active_runs=max_active_runs,
            run_backwards=run_backwards,
            dry_run=dry_run,
            conf_json=json.dumps(conf) if conf else "",
        )
        return self._call(self._stub.CreateBackfill, request)

    def list_backfills(self, dag_id: str = "") -> control_pb2.ListBackfillsResponse:
        return self._call(self._stub.ListBackfills, control_pb2.ListBackfillsRequest(dag_id=dag_id))

    def get_backfill(self, backfill_id: int) -> control_pb2.GetBackfillResponse:
        return self._call(self._stub.GetBackfill, control_pb2.GetBackfillRequest(backfill_id=backfill_id))

    def cancel_backfill(self, backfill_id: int) -> control_pb2.CancelBackfillResponse:
        return self._call(self._stub.CancelBackfill, control_pb2.CancelBackfillRequest(backfill_id=backfill_id))