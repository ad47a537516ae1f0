"""The task side of the task runtime channel: what a running task asks of the coordinator.

A task process reaches the coordinator through its worker (worker.proto, "The task runtime
channel"): over the Unix socket whose path is in TRADEWIND_TASK_CHANNEL it sends TaskRequest
messages, each a 4-byte big-endian length and the serialized message, and reads the
TaskResponse with the same request_id. `ti.xcom_push` and `ti.xcom_pull` in a task's context
are built on it, with Airflow's semantics, and so are Variable and Connection lookups in the
metastore: their answers live only in the task's memory.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tradewind import wire, xcom_codec
from tradewind.exceptions import SerializationError, TradewindError
from tradewind.v1 import worker_pb2

__all__ = [
    "CHANNEL_ENV",
    "RuntimeTaskInstance",
    "TaskChannel",
    "TaskRequestFailed",
    "fetch_connection",
    "fetch_variable",
    "frame",
    "get_current_context",
    "set_current_context",
    "store_variable",
]

#: The environment variable holding the path of a task's channel to its worker.
CHANNEL_ENV = "TRADEWIND_TASK_CHANNEL"
HEADER = struct.Struct(">I")
RETURN_VALUE = "return_value"


class TaskRequestFailed(TradewindError):
    """The coordinator (or the worker) did not carry out a task's request; `code` says why."""

    def __init__(self, code: wire.RequestError, message: str) -> None:
        super().__init__(message)
        self.code = code


def frame(message: worker_pb2.TaskRequest | worker_pb2.TaskResponse) -> bytes:
    """One message of the local channel: its length, then its bytes."""
    data = message.SerializeToString()
    if len(data) > wire.MAX_MESSAGE_BYTES:
        raise SerializationError(
            f"a task channel message of {len(data):,} bytes is over the limit of {wire.MAX_MESSAGE_BYTES:,}"
        )
    return HEADER.pack(len(data)) + data


class TaskChannel:
    """A task's connection to its worker; one request at a time, from any thread. A process the
    task forks opens its own connection, so answers never reach the wrong process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._sock: socket.socket | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @classmethod
    def from_environment(cls) -> TaskChannel:
        path = os.environ.get(CHANNEL_ENV)
        if not path:
            raise TaskRequestFailed(
                wire.RequestError.UNAVAILABLE,
                f"this process has no channel to a worker ({CHANNEL_ENV} is not set): "
                "xcom_push and xcom_pull work only in a task run by a worker",
            )
        return cls(path)

    def call(self, request: worker_pb2.TaskRequest) -> worker_pb2.TaskResponse:
        """Send `request` (its request_id is set here) and wait for its answer; raises
        TaskRequestFailed with the error it was answered with."""
        with self._lock:
            request.request_id = next(self._ids)
            try:
                if self._sock is None or self._pid != os.getpid():
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    self._sock.connect(self.path)
                    self._pid = os.getpid()
                self._sock.sendall(frame(request))
                while True:
                    response = worker_pb2.TaskResponse.FromString(_read_frame(self._sock))
                    if response.request_id == request.request_id:
                        break
            except OSError as exc:
                self.close()
                raise TaskRequestFailed(
                    wire.RequestError.UNAVAILABLE, f"the channel to the worker at {self.path} failed: {exc}"
                ) from None
        if response.WhichOneof("result") == "error":
            raise TaskRequestFailed(wire.request_error_from_pb(response.error.code), response.error.message)
        return response

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _read_frame(sock: socket.socket) -> bytes:
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size))
    if size > wire.MAX_MESSAGE_BYTES:
        raise OSError(f"the worker sent a message of {size:,} bytes; the limit is {wire.MAX_MESSAGE_BYTES:,}")
    return _read_exactly(sock, size)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("the worker closed the channel")
        data += chunk
    return bytes(data)


class RuntimeTaskInstance:
    """The `ti` (and `task_instance`) of a running task's context."""

    def __init__(
        self,
        dag_id: str,
        task_id: str,
        run_id: str,
        try_number: int,
        map_index: int,
        channel: TaskChannel | None,
        reschedule_started_at: datetime | None = None,
        reschedule_count: int = 0,
    ) -> None:
        """`reschedule_started_at` and `reschedule_count`: when the try's first execution started
        and how often it was rescheduled, for a sensor in reschedule mode (worker.proto Assignment)."""
        self.dag_id = dag_id
        self.task_id = task_id
        self.run_id = run_id
        self.try_number = try_number
        self.map_index = map_index
        self.reschedule_started_at = reschedule_started_at
        self.reschedule_count = reschedule_count
        self._channel = channel

    def _call(self, request: worker_pb2.TaskRequest) -> worker_pb2.TaskResponse:
        if self._channel is None:
            self._channel = TaskChannel.from_environment()
        return self._channel.call(request)

    def xcom_push(self, key: str, value: Any) -> None:
        """Store `value` as this task instance's XCom `key`, encoded as return values are."""
        try:
            value_json = xcom_codec.dumps(value)
        except SerializationError as exc:
            raise SerializationError(
                f"task {self.task_id!r}: XCom {key!r} is a {type(value).__name__}, which cannot be stored: {exc}"
            ) from None
        size = len(value_json.encode())
        if size > wire.MAX_RETURN_VALUE_BYTES:
            raise SerializationError(
                f"task {self.task_id!r}: XCom {key!r} is {size / wire.MiB:.1f} MB; "
                f"the limit is {wire.MAX_RETURN_VALUE_BYTES // wire.MiB} MB"
            )
        self._call(worker_pb2.TaskRequest(xcom_push=worker_pb2.XComPush(key=key, value_json=value_json)))

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        dag_id: str | None = None,
        key: str = RETURN_VALUE,
        include_prior_dates: bool = False,
        *,
        map_indexes: int | Iterable[int] | None = None,
        default: Any = None,
        run_id: str | None = None,
    ) -> Any:
        """Airflow's xcom_pull: a task id as a string gives one value, a list gives a list;
        an XCom that does not exist is `default` (None). Without task_ids, this task's own.

        Without map_indexes, every map index of each task is read (a task that is not mapped
        has one value; a mapped task's, one task id asked for, is the list of its instances'
        values in map-index order, as Airflow 3 gives); with map_indexes, exactly those."""
        if include_prior_dates:
            raise TaskRequestFailed(
                wire.RequestError.UNIMPLEMENTED, "xcom_pull: include_prior_dates is not supported by Tradewind yet"
            )
        single_task = task_ids is None or isinstance(task_ids, str)
        ids = [self.task_id] if task_ids is None else [task_ids] if isinstance(task_ids, str) else list(task_ids)
        single_index = isinstance(map_indexes, int)
        indexes = [] if map_indexes is None else [map_indexes] if isinstance(map_indexes, int) else list(map_indexes)
        found: dict[tuple[str, int], Any] = {}
        by_task: dict[str, list[Any]] = {}
        mapped: set[str] = set()
        if ids:
            pull = worker_pb2.XComPull(
                task_ids=ids, key=key, map_indexes=indexes, dag_id=dag_id or "", run_id=run_id or ""
            )
            for value in self._call(worker_pb2.TaskRequest(xcom_pull=pull)).xcom_pull.values:
                decoded = xcom_codec.loads(value.value_json)
                found[(value.task_id, value.map_index)] = decoded
                by_task.setdefault(value.task_id, []).append(decoded)
                if value.map_index >= 0:
                    mapped.add(value.task_id)
        if not indexes:
            values: list[Any] = []
            for task_id in ids:
                values.extend(by_task.get(task_id, [default]))
            # A mapped task's value is the list of its instances' values, even of one instance.
            return values[0] if single_task and len(values) == 1 and ids[0] not in mapped else values
        pairs = [found.get((task_id, index), default) for task_id in ids for index in indexes]
        return pairs[0] if single_task and single_index else pairs


_shared: TaskChannel | None = None


def _channel() -> TaskChannel:
    global _shared
    if _shared is None:
        _shared = TaskChannel.from_environment()
    return _shared


def fetch_variable(key: str) -> str | None:
    """The metastore's value of variable `key`, None when it has none."""
    result = _channel().call(worker_pb2.TaskRequest(get_variable=worker_pb2.GetVariable(key=key))).get_variable
    return result.value if result.found else None


def store_variable(key: str, value: str, description: str = "") -> None:
    request = worker_pb2.SetVariable(key=key, value=value, description=description)
    _channel().call(worker_pb2.TaskRequest(set_variable=request))


def fetch_connection(conn_id: str) -> Any:
    """The metastore's connection `conn_id` (a tradewind.connections.Connection), None when it has none."""
    from tradewind.connections import from_pb

    request = worker_pb2.TaskRequest(get_connection=worker_pb2.GetConnection(conn_id=conn_id))
    result = _channel().call(request).get_connection
    return from_pb(result.connection) if result.found else None


_current: dict[str, Any] | None = None


def set_current_context(context: dict[str, Any]) -> None:
    """The context of the task this process runs (a task process runs one task)."""
    global _current
    _current = context


def get_current_context() -> dict[str, Any]:
    """The running task's context, as Airflow's get_current_context(); only inside a task."""
    if _current is None:
        raise TradewindError("get_current_context() works only inside a running task")
    return _current
