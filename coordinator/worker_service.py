"""WorkerService: one session per Connect stream, turning worker messages into events.

The stream handler validates every message at the door; heartbeats and log chunks are handled
here in memory, everything that changes state goes to the engine's inbox.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import grpc

from coordinator import messages
from coordinator.engine import Engine, log_key
from coordinator.events import Acked, AttemptRef, Finished, Started, WorkerJoined, WorkerLeft
from coordinator.sessions import WorkerSession
from tradewind.exceptions import InvalidArgument, NotFound
from tradewind.v1 import common_pb2, control_pb2, worker_pb2, worker_pb2_grpc
from tradewind.wire import from_timestamp, task_kind_name

log = logging.getLogger("tradewind.coordinator")

NAME = re.compile(r"^[A-Za-z0-9_.@:-]{1,200}$")
OUTCOMES = {
    worker_pb2.TASK_OUTCOME_SUCCESS: "success",
    worker_pb2.TASK_OUTCOME_FAILED: "failed",
    worker_pb2.TASK_OUTCOME_FAILED_NO_RETRY: "failed_no_retry",
    worker_pb2.TASK_OUTCOME_SKIPPED: "skipped",
    worker_pb2.TASK_OUTCOME_TIMED_OUT: "timed_out",
    worker_pb2.TASK_OUTCOME_CANCELLED: "cancelled",
}
BUNDLE_CHUNK = 1024 * 1024


def attempt_ref(message: common_pb2.Attempt, what: str) -> AttemptRef:
    if message.task_instance_id <= 0 or message.try_number <= 0 or not message.attempt_token:
        raise InvalidArgument(
            f"{what}: attempt needs task_instance_id > 0, try_number > 0 and an attempt_token, got "
            f"({message.task_instance_id}, {message.try_number}, {message.attempt_token!r})"
        )
    return AttemptRef(message.task_instance_id, message.try_number, message.attempt_token)


def session_from_hello(hello: worker_pb2.Hello, now: Any) -> WorkerSession:
    if not NAME.match(hello.name):
        raise InvalidArgument(
            f"hello: worker name must be 1-200 characters of letters, digits and _.@:-, not {hello.name!r}"
        )
    if not 1 <= hello.slots <= 10_000:
        raise InvalidArgument(f"hello: worker {hello.name!r} slots must be between 1 and 10000, not {hello.slots}")
    queues = tuple(hello.queues) or ("default",)
    for queue in queues:
        if not NAME.match(queue):
            raise InvalidArgument(f"hello: worker {hello.name!r} has an invalid queue name {queue!r}")
    kinds = {task_kind_name(k) for k in hello.kinds}
    unknown = sorted(k for k in kinds if k.startswith("unknown"))
    if unknown or not kinds:
        raise InvalidArgument(f"hello: worker {hello.name!r} must declare known task kinds, got {unknown or 'none'}")
    return WorkerSession(
        name=hello.name,
        queues=queues,
        kinds=frozenset(kinds),
        slots=hello.slots,
        host=hello.host,
        pid=hello.pid,
        labels=dict(hello.labels),
        version=hello.version,
        connected_at=now,
    )


class WorkerService(worker_pb2_grpc.WorkerServiceServicer):
    def __init__(self, engine: Engine, heartbeat_timeout: float) -> None:
        self.engine = engine
        self.heartbeat_timeout = heartbeat_timeout
        self.heartbeat_interval = max(heartbeat_timeout / 5, 0.2)

    async def Connect(
        self, request_iterator: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
        engine = self.engine
        try:
            first = await anext(aiter(request_iterator))
        except StopAsyncIteration:
            return
        if first.WhichOneof("body") != "hello":
            raise InvalidArgument(f"the first message on a worker stream must be hello, not {first.WhichOneof('body')}")
        session = session_from_hello(first.hello, engine.clock.now())
        running = tuple(attempt_ref(a, "hello.running") for a in first.hello.running)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        outbound: asyncio.Queue[worker_pb2.CoordinatorMessage | None] = asyncio.Queue()
        previous = engine.streams.get(session.name)
        if previous is not None:
            previous[1].put_nowait(None)
        # Registered before the join is applied: assignments made in that same turn queue up
        # here and follow the Welcome.
        engine.streams[session.name] = (-1, outbound)
        engine.submit(WorkerJoined(session, running, reply))
        reclaimed, rejected = await reply
        engine.streams[session.name] = (session.generation, outbound)
        log.info(
            "worker %s joined from %s (queues %s, %d slots)",
            session.name,
            session.host,
            ",".join(session.queues),
            session.slots,
        )
        yield worker_pb2.CoordinatorMessage(
            welcome=worker_pb2.Welcome(
                heartbeat_interval_ms=int(self.heartbeat_interval * 1000),
                heartbeat_timeout_ms=int(self.heartbeat_timeout * 1000),
                reclaimed=[messages.attempt_pb(r.ti_id, r.try_number, r.token) for r in reclaimed],
                rejected=[messages.attempt_pb(r.ti_id, r.try_number, r.token) for r in rejected],
            )
        )
        failure: list[BaseException] = []
        reader = asyncio.create_task(self._read(request_iterator, session, outbound, failure))
        try:
            while True:
                message = await outbound.get()
                if message is None:
                    break
                yield message
            if failure:
                raise failure[0]
        finally:
            reader.cancel()
            current = engine.streams.get(session.name)
            if current is not None and current[0] == session.generation:
                del engine.streams[session.name]
            engine.submit(WorkerLeft(session.name, session.generation))
            log.info("worker %s disconnected", session.name)

    async def _read(
        self,
        requests: AsyncIterator[worker_pb2.WorkerMessage],
        session: WorkerSession,
        outbound: asyncio.Queue[worker_pb2.CoordinatorMessage | None],
        failure: list[BaseException],
    ) -> None:
        try:
            async for message in requests:
                session.last_seen = self.engine.clock.monotonic()
                self._handle(message, session)
        except InvalidArgument as exc:
            failure.append(exc)
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            pass
        finally:
            outbound.put_nowait(None)

    def _handle(self, message: worker_pb2.WorkerMessage, session: WorkerSession) -> None:
        engine, name = self.engine, session.name
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
            if engine.watchers:
                engine.publish(control_pb2.WatchResponse(worker=messages.worker_pb(session)))
        elif body == "log":
            ref = attempt_ref(message.log.attempt, "log")
            ti = engine.scheduler.tis.get(ref.ti_id)
            if ti is not None and ti.token == ref.token:
                engine.logs.append(log_key(ti, ref.try_number), message.log.data)
        elif body == "ack":
            engine.submit(
                Acked(name, attempt_ref(message.ack.attempt, "ack"), message.ack.accepted, message.ack.reason)
            )
        elif body == "started":
            started = message.started
            engine.submit(
                Started(
                    name,
                    attempt_ref(started.attempt, "started"),
                    from_timestamp(started.started_at, started.HasField("started_at")),
                )
            )
        elif body == "finished":
            f = message.finished
            outcome = OUTCOMES.get(f.outcome)
            if outcome is None:
                raise InvalidArgument(f"finished: outcome must be set to a known value, not {f.outcome}")
            engine.submit(
                Finished(
                    name,
                    attempt_ref(f.attempt, "finished"),
                    outcome,
                    f.exit_code,
                    f.error,
                    f.return_value_json,
                    from_timestamp(f.ended_at, f.HasField("ended_at")),
                    f.usage.cpu_user_seconds,
                    f.usage.cpu_system_seconds,
                    f.usage.max_rss_bytes,
                )
            )
        elif body == "hello":
            raise InvalidArgument(f"worker {name!r} sent hello twice on one stream")
        else:
            raise InvalidArgument("a worker message must carry a body")

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
