"""WorkerService: one session per Connect stream, turning worker messages into events.

Each message is checked against worker.proto's rules (coordinator/worker_messages.py) at the
door, so nothing a worker sends reaches the scheduler or the metastore malformed. Heartbeats
and log chunks are handled here in memory; everything that changes state goes to the
engine's inbox, tagged with the session's generation so only the session an attempt was
assigned to can settle it.

A session exists exactly as long as its stream: once WorkerJoined is submitted, every way out
of the handler submits WorkerLeft for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from coordinator import messages
from coordinator.auth import check_worker_name
from coordinator.engine import Engine, log_key
from coordinator.events import Acked, AttemptRef, RequestFailed, Started, WorkerDraining, WorkerJoined, WorkerLeft
from coordinator.sessions import WorkerSession
from coordinator.worker_messages import (
    attempt_ref,
    finished_from_pb,
    moment,
    session_from_hello,
    task_request_from_pb,
    task_response_pb,
)
from tradewind import wire
from tradewind.exceptions import ApiError, InvalidArgument, NotFound
from tradewind.v1 import control_pb2, worker_pb2, worker_pb2_grpc

log = logging.getLogger("tradewind.coordinator")

BUNDLE_CHUNK = wire.MiB
#: Messages waiting for a worker at which its stream stops being read until it catches up: a
#: worker that sends but does not read cannot make the coordinator hold answers without end.
MAX_BACKLOG = 1024

Outbound = asyncio.Queue[worker_pb2.CoordinatorMessage | None]


M = TypeVar("M", bound=Message)


async def first_hello(requests: AsyncIterator[M], timeout: float, engine: Engine, what: str) -> M | None:
    """The first message of a worker's or triggerer's stream, which must be its hello and arrive
    within `timeout`; None when the stream ends first."""
    try:
        first = await asyncio.wait_for(anext(requests), timeout)
    except StopAsyncIteration:
        return None
    except TimeoutError:
        raise ApiError(f"a {what} stream must send hello within {timeout:g}s", "DEADLINE_EXCEEDED") from None
    if engine.failed is not None:
        raise ApiError(f"the coordinator stopped scheduling: {engine.failed}", "UNAVAILABLE")
    body = first.WhichOneof("body")
    if body != "hello":
        raise InvalidArgument(f"the first message on a {what} stream must be hello, not {body}")
    return first


class WorkerService(worker_pb2_grpc.WorkerServiceServicer):
    def __init__(
        self, engine: Engine, heartbeat_timeout: float, *, hello_timeout: float = wire.HELLO_TIMEOUT_SECONDS
    ) -> None:
        self.engine = engine
        self.heartbeat_timeout = heartbeat_timeout
        self.heartbeat_interval = max(heartbeat_timeout / 5, 0.2)
        self.hello_timeout = hello_timeout

    async def Connect(
        self, request_iterator: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
        requests = aiter(request_iterator)
        first = await first_hello(requests, self.hello_timeout, self.engine, "worker")
        if first is None:
            return
        session = session_from_hello(first.hello, self.engine.clock.now())
        check_worker_name(session.name)
        running = tuple(attempt_ref(a, "hello.running") for a in first.hello.running)
        outbound: Outbound = asyncio.Queue()
        joined = await self._join(session, running, outbound)
        try:
            reclaimed, rejected = joined
            log.info(
                "worker %s joined from %s (queues %s, %d slots)",
                session.name,
                session.host,
                ",".join(session.queues),
                session.slots,
            )
            yield self._welcome(reclaimed, rejected)
            failure: list[BaseException] = []
            caught_up = asyncio.Event()
            reader = asyncio.create_task(self._read(requests, session, outbound, failure, caught_up))
            try:
                while (message := await outbound.get()) is not None:
                    if outbound.qsize() <= MAX_BACKLOG // 2:
                        caught_up.set()
                    yield message
                # The reader puts None as its last act; any other None is the engine closing the stream.
                by_reader = reader.done()
            finally:
                reader.cancel()
            if failure:
                raise failure[0]
            if not by_reader:
                raise self._closed(session, outbound)
        finally:
            self._leave(session, outbound)

    async def _join(
        self, session: WorkerSession, running: tuple[AttemptRef, ...], outbound: Outbound
    ) -> tuple[list[AttemptRef], list[AttemptRef]]:
        """Submit WorkerJoined and wait for its reply; however this ends, the session is not left behind."""
        engine, name = self.engine, session.name
        previous, live = engine.streams.get(name), engine.scheduler.workers.get(name)
        if previous is None or live is None or not live.connected or live.instance_id == session.instance_id:
            # Assignments made in the join's own turn queue up here and follow the Welcome.
            if previous is not None:
                previous[1].put_nowait(None)
            engine.streams[name] = (-1, outbound)
        reply: asyncio.Future[tuple[list[AttemptRef], list[AttemptRef]]] = asyncio.get_running_loop().create_future()
        engine.submit(WorkerJoined(session, running, reply))
        try:
            reclaimed, rejected = await asyncio.shield(reply)
        except BaseException:
            if not reply.done():
                # The stream died while the join was on its way: it joins as gone, so nothing is
                # dispatched to it, and leaves once the join is applied.
                session.connected = False
                reply.add_done_callback(lambda future: self._abandoned(future, session, outbound))
            elif not reply.cancelled() and reply.exception() is None:
                self._leave(session, outbound)
            elif engine.streams.get(name) == (-1, outbound):
                del engine.streams[name]
            raise
        if engine.scheduler.workers.get(name) is not session:
            # A later stream of this worker joined in the same turn; it takes the stream over.
            engine.submit(WorkerLeft(name, session.generation))
            raise ApiError(f"worker {name!r} reconnected on another stream", "UNAVAILABLE")
        current = engine.streams.get(name)
        if current is not None and current[1] is not outbound:
            # A reconnect of the same worker: what was sent to its old stream goes to this one.
            old = current[1]
            while not old.empty():
                message = old.get_nowait()
                if message is not None:
                    outbound.put_nowait(message)
            old.put_nowait(None)
        engine.streams[name] = (session.generation, outbound)
        return reclaimed, rejected

    def _abandoned(self, future: asyncio.Future[Any], session: WorkerSession, outbound: Outbound) -> None:
        if future.cancelled() or future.exception() is not None:
            if self.engine.streams.get(session.name) == (-1, outbound):
                del self.engine.streams[session.name]
            return
        self._leave(session, outbound)

    def _leave(self, session: WorkerSession, outbound: Outbound) -> None:
        current = self.engine.streams.get(session.name)
        if current is not None and current[1] is outbound:
            del self.engine.streams[session.name]
        self.engine.submit(WorkerLeft(session.name, session.generation))
        log.info("worker %s disconnected", session.name)

    def _closed(self, session: WorkerSession, outbound: Outbound) -> ApiError:
        """Why the coordinator ended this stream, as the UNAVAILABLE status that makes the worker reconnect."""
        current = self.engine.streams.get(session.name)
        if current is None or current[1] is not outbound:
            return ApiError(f"worker {session.name!r} reconnected on another stream", "UNAVAILABLE")
        silent = self.engine.clock.monotonic() - session.last_seen
        if silent >= self.heartbeat_timeout:
            return ApiError(f"worker {session.name!r} was lost: no heartbeat for {silent:.1f}s", "UNAVAILABLE")
        return ApiError(f"worker {session.name!r}: the coordinator closed its session", "UNAVAILABLE")

    def _welcome(self, reclaimed: list[AttemptRef], rejected: list[AttemptRef]) -> worker_pb2.CoordinatorMessage:
        return worker_pb2.CoordinatorMessage(
            welcome=worker_pb2.Welcome(
                heartbeat_interval_ms=int(self.heartbeat_interval * 1000),
                heartbeat_timeout_ms=int(self.heartbeat_timeout * 1000),
                reclaimed=[messages.attempt_pb(r.ti_id, r.try_number, r.token) for r in reclaimed],
                rejected=[messages.attempt_pb(r.ti_id, r.try_number, r.token) for r in rejected],
                ack_timeout_ms=int(self.engine.scheduler.ack_timeout * 1000),
                kill_grace_period_ms=int(wire.KILL_GRACE_SECONDS * 1000),
                limits=worker_pb2.Limits(
                    max_message_bytes=wire.MAX_MESSAGE_BYTES,
                    max_return_value_bytes=wire.MAX_RETURN_VALUE_BYTES,
                    max_log_chunk_bytes=wire.MAX_LOG_CHUNK_BYTES,
                    max_error_bytes=wire.MAX_ERROR_CHARS,
                ),
            )
        )

    async def _read(
        self,
        requests: AsyncIterator[worker_pb2.WorkerMessage],
        session: WorkerSession,
        outbound: Outbound,
        failure: list[BaseException],
        caught_up: asyncio.Event,
    ) -> None:
        try:
            async for message in requests:
                session.last_seen = self.engine.clock.monotonic()
                self._handle(message, session, outbound)
                if outbound.qsize() >= MAX_BACKLOG:
                    caught_up.clear()
                    await caught_up.wait()
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            pass
        except Exception as exc:  # noqa: BLE001 - the stream's status says what went wrong
            failure.append(exc)
        finally:
            outbound.put_nowait(None)

    def _handle(self, message: worker_pb2.WorkerMessage, session: WorkerSession, outbound: Outbound) -> None:
        engine, name, generation = self.engine, session.name, session.generation
        body = message.WhichOneof("body")
        if body == "heartbeat":
            hb = message.heartbeat
            session.cpu_percent, session.memory_percent, session.rss_bytes = (
                hb.cpu_percent,
                hb.memory_percent,
                hb.rss_bytes,
            )
            session.history.append((hb.cpu_percent, hb.memory_percent))
            session.last_heartbeat_at = engine.clock.now()
            answer = worker_pb2.HeartbeatAck(server_time=wire.to_timestamp(session.last_heartbeat_at))
            outbound.put_nowait(worker_pb2.CoordinatorMessage(heartbeat_ack=answer))
            if engine.watchers:
                engine.publish(control_pb2.WatchResponse(worker=messages.worker_pb(session)))
        elif body == "log":
            self._log(message.log, session)
        elif body == "connection_test_result":
            result = message.connection_test_result
            engine.connection_tested(result.test_id, result.ok, result.message[: wire.MAX_REASON_CHARS])
        elif body == "ack":
            ack = message.ack
            refusal = None if ack.accepted else wire.refusal_from_pb(ack.refusal)
            engine.submit(
                Acked(
                    worker=name,
                    attempt=attempt_ref(ack.attempt, "ack"),
                    accepted=ack.accepted,
                    reason=ack.reason[: wire.MAX_REASON_CHARS],
                    refusal=refusal,
                    generation=generation,
                )
            )
        elif body == "started":
            started = message.started
            engine.submit(
                Started(
                    worker=name,
                    attempt=attempt_ref(started.attempt, "started"),
                    started_at=moment(started.started_at, started.HasField("started_at"), "started.started_at"),
                    generation=generation,
                )
            )
        elif body == "finished":
            finished = finished_from_pb(message.finished, session)
            if finished.error:
                finished = replace(finished, error=engine.secrets.redact(finished.error))
            engine.submit(finished)
        elif body == "task_request":
            request = task_request_from_pb(message.task_request, session)
            if isinstance(request, RequestFailed):
                outbound.put_nowait(task_response_pb(message.task_request.request_id, request))
            else:
                engine.submit(request)
        elif body == "draining":
            reason = message.draining.reason[: wire.MAX_REASON_CHARS]
            engine.submit(WorkerDraining(name=name, generation=generation, reason=reason))
        elif body == "hello":
            raise InvalidArgument(f"worker {name!r} sent hello twice on one stream")
        else:
            raise InvalidArgument(f"worker {name!r}: a worker message must carry a body")

    def _log(self, chunk: worker_pb2.LogChunk, session: WorkerSession) -> None:
        if len(chunk.data) > wire.MAX_LOG_CHUNK_BYTES:
            raise InvalidArgument(
                f"log.data: worker {session.name!r} sent a log chunk of {len(chunk.data)} bytes; "
                f"the limit is {wire.MAX_LOG_CHUNK_BYTES}"
            )
        ref = attempt_ref(chunk.attempt, "log")
        ti = self.engine.scheduler.tis.get(ref.ti_id)
        attempt = ti.attempt if ti is not None else None
        if (
            ti is not None
            and attempt is not None
            and attempt.token == ref.token
            and attempt.worker == session.name
            and attempt.generation == session.generation
        ):
            self.engine.logs.append(log_key(ti, ref.try_number), self.engine.secrets.redact_log(chunk.data))

    async def FetchBundle(
        self, request: worker_pb2.FetchBundleRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.FetchBundleResponse]:
        if not re.fullmatch(r"[0-9a-f]{64}", request.bundle_hash):
            raise InvalidArgument(f"bundle_hash must be 64 lowercase hex digits, not {request.bundle_hash!r}")
        data = self.engine.store.bundle(request.bundle_hash)
        if data is None:
            raise NotFound(f"no DAG bundle with hash {request.bundle_hash}")
        for start in range(0, len(data), BUNDLE_CHUNK):
            yield worker_pb2.FetchBundleResponse(chunk=data[start : start + BUNDLE_CHUNK])
