"""The worker's side of the task runtime channel: a task's requests to the coordinator and back.

Each Python attempt gets a Unix socket in its own private working directory (its path reaches
the task as TRADEWIND_TASK_CHANNEL); nothing but the request and its answer pass through it,
and nothing is written to disk. `Requests` numbers what every attempt asks, sends it on the
stream with the attempt filled in, and keeps it until the coordinator answers: a request still
unanswered when the stream drops is sent again after the next Welcome (worker.proto, "The task
runtime channel").
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from pathlib import Path

from google.protobuf.message import DecodeError

from tradewind import wire
from tradewind.runtime import HEADER, frame
from tradewind.v1 import common_pb2, worker_pb2
from worker.session import AttemptKey, key_of

Send = Callable[[worker_pb2.WorkerMessage], None]
SOCKET_NAME = "task.sock"


def channel_path(workdir: Path) -> Path:
    return workdir / SOCKET_NAME


def failure(code: wire.RequestError, message: str) -> worker_pb2.TaskResponse:
    error = worker_pb2.TaskRequestError(code=wire.request_error_to_pb(code), message=message)  # type: ignore[arg-type]
    return worker_pb2.TaskResponse(error=error)


class Requests:
    """Every unanswered request of this worker process, by request_id (unique for its life)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[worker_pb2.WorkerMessage, asyncio.Future[worker_pb2.TaskResponse]]] = {}

    async def call(self, attempt: common_pb2.Attempt, request: worker_pb2.TaskRequest) -> worker_pb2.TaskResponse:
        request_id = next(self._ids)
        message = worker_pb2.WorkerMessage(task_request=request)
        message.task_request.request_id = request_id
        message.task_request.attempt.CopyFrom(attempt)
        answer: asyncio.Future[worker_pb2.TaskResponse] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (message, answer)
        try:
            self.send(message)
            return await answer
        finally:
            self._pending.pop(request_id, None)

    def answered(self, response: worker_pb2.TaskResponse) -> None:
        """An answer to a request no longer waited for (its task ended) is dropped."""
        pending = self._pending.pop(response.request_id, None)
        if pending is not None and not pending[1].done():
            pending[1].set_result(response)

    def unanswered(self, rejected: list[common_pb2.Attempt]) -> list[worker_pb2.WorkerMessage]:
        """What to send again after a Welcome, oldest first; requests of rejected attempts are
        answered here with NOT_CURRENT."""
        rejected_keys = {key_of(a) for a in rejected}
        again = []
        for request_id in sorted(self._pending):
            message, answer = self._pending[request_id]
            if key_of(message.task_request.attempt) in rejected_keys:
                self._fail(request_id, wire.RequestError.NOT_CURRENT, "the coordinator no longer counts this attempt")
            else:
                again.append(message)
        return again

    def end(self, attempt: AttemptKey) -> None:
        """The attempt's process is gone: nobody waits for its answers any more."""
        for request_id, (message, _) in list(self._pending.items()):
            if key_of(message.task_request.attempt) == attempt:
                self._fail(request_id, wire.RequestError.UNAVAILABLE, "the task ended")

    def _fail(self, request_id: int, code: wire.RequestError, message: str) -> None:
        _, answer = self._pending.pop(request_id)
        if not answer.done():
            answer.set_result(failure(code, message))


class Channel:
    """The local server one attempt's task process talks to; several connections may be open
    (a task's threads or child processes), each with requests in flight at once."""

    def __init__(self, attempt: common_pb2.Attempt, path: Path, requests: Requests) -> None:
        self.attempt = attempt
        self.path = path
        self.requests = requests
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Channel:
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for handler in list(self._handlers):
            handler.cancel()
        self.requests.end(key_of(self.attempt))
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lock = asyncio.Lock()
        try:
            while True:
                header = await reader.readexactly(HEADER.size)
                (size,) = HEADER.unpack(header)
                if size > wire.MAX_MESSAGE_BYTES:
                    return
                request = worker_pb2.TaskRequest.FromString(await reader.readexactly(size))
                handler = asyncio.create_task(self._answer(request, writer, lock))
                self._handlers.add(handler)
                handler.add_done_callback(self._handlers.discard)
        except (asyncio.IncompleteReadError, ConnectionError, DecodeError):
            return  # the task closed its end, or sent something that is not a TaskRequest
        finally:
            writer.close()

    async def _answer(self, request: worker_pb2.TaskRequest, writer: asyncio.StreamWriter, lock: asyncio.Lock) -> None:
        local_id = request.request_id
        request.ClearField("attempt")
        response = await self.requests.call(self.attempt, request)
        response.request_id = local_id
        async with lock:
            with contextlib.suppress(ConnectionError):
                writer.write(frame(response))
                await writer.drain()
