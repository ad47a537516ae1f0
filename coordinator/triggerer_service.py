"""TriggererService: one session per triggerer's Connect stream (triggerer.proto).

Hello is checked here; heartbeats only touch the session in memory; fired and failed triggers
go to the engine's inbox tagged with the session's generation. Once TriggererJoined is
submitted, every way out of the handler submits TriggererLeft, so the triggers it ran move on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

import grpc

from coordinator.engine import Engine
from coordinator.events import TriggererJoined, TriggererLeft, TriggerFired
from coordinator.sessions import TriggererSession
from coordinator.worker_messages import INSTANCE_ID, NAME
from coordinator.worker_service import first_hello
from tradewind import wire
from tradewind.assets import URI_LIMIT
from tradewind.exceptions import InvalidArgument
from tradewind.v1 import triggerer_pb2, triggerer_pb2_grpc

log = logging.getLogger("tradewind.coordinator")

Outbound = asyncio.Queue[triggerer_pb2.TriggererCommand | None]
MAX_CAPACITY = 100_000
EVENT_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def triggerer_from_hello(hello: triggerer_pb2.TriggererHello, engine: Engine) -> TriggererSession:
    """The session a TriggererHello asks for; InvalidArgument naming the first field that breaks a rule."""
    if not NAME.fullmatch(hello.name):
        raise InvalidArgument(
            "hello.name: triggerer name must be 1-200 characters of letters, digits and _.@:-, "
            f"not {hello.name[:250]!r}"
        )
    if not INSTANCE_ID.fullmatch(hello.instance_id):
        raise InvalidArgument(
            f"hello.instance_id: triggerer {hello.name!r} instance_id must be 1-64 letters, digits and -, "
            f"not {hello.instance_id[:100]!r}"
        )
    if not 1 <= hello.capacity <= MAX_CAPACITY:
        raise InvalidArgument(
            f"hello.capacity: triggerer {hello.name!r} capacity must be 1 to {MAX_CAPACITY}, not {hello.capacity}"
        )
    return TriggererSession(
        name=hello.name,
        instance_id=hello.instance_id,
        capacity=hello.capacity,
        host=hello.host[: wire.MAX_HOST_CHARS],
        pid=hello.pid,
        version=hello.version[: wire.MAX_VERSION_CHARS],
        connected_at=engine.clock.now(),
    )


class TriggererService(triggerer_pb2_grpc.TriggererServiceServicer):
    def __init__(self, engine: Engine, heartbeat_timeout: float) -> None:
        self.engine = engine
        self.heartbeat_timeout = heartbeat_timeout
        self.heartbeat_interval = max(heartbeat_timeout / 5, 0.2)

    async def Connect(
        self, request_iterator: AsyncIterator[triggerer_pb2.TriggererMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[triggerer_pb2.TriggererCommand]:
        requests = aiter(request_iterator)
        first = await first_hello(requests, wire.HELLO_TIMEOUT_SECONDS, self.engine, "triggerer")
        if first is None:
            return
        session = triggerer_from_hello(first.hello, self.engine)
        outbound: Outbound = asyncio.Queue()
        streams = self.engine.triggerer_streams
        previous = streams.get(session.name)
        reply: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Triggers given out in the join's own turn queue up here and follow the welcome.
        streams[session.name] = (-1, outbound)
        self.engine.submit(TriggererJoined(session, reply))
        try:
            generation = await asyncio.shield(reply)
        except BaseException:
            if streams.get(session.name, (None, None))[1] is outbound:
                if previous is not None:
                    streams[session.name] = previous
                else:
                    del streams[session.name]
            raise
        try:
            if previous is not None:
                previous[1].put_nowait(None)
            streams[session.name] = (generation, outbound)
            log.info("triggerer %s joined from %s (capacity %d)", session.name, session.host, session.capacity)
            yield triggerer_pb2.TriggererCommand(
                welcome=triggerer_pb2.TriggererWelcome(
                    heartbeat_interval_ms=int(self.heartbeat_interval * 1000),
                    heartbeat_timeout_ms=int(self.heartbeat_timeout * 1000),
                )
            )
            reader = asyncio.create_task(self._read(requests, session, outbound))
            try:
                while (message := await outbound.get()) is not None:
                    yield message
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            if reader.done() and not reader.cancelled() and reader.exception() is not None:
                raise reader.exception()  # type: ignore[misc]
        finally:
            if streams.get(session.name, (None, None))[1] is outbound:
                del streams[session.name]
            self.engine.submit(TriggererLeft(session.name, session.generation))
            log.info("triggerer %s disconnected", session.name)

    async def _read(
        self, requests: AsyncIterator[triggerer_pb2.TriggererMessage], session: TriggererSession, outbound: Outbound
    ) -> None:
        try:
            async for message in requests:
                session.last_seen = self.engine.clock.monotonic()
                self._handle(message, session)
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            pass
        finally:
            outbound.put_nowait(None)

    def _handle(self, message: triggerer_pb2.TriggererMessage, session: TriggererSession) -> None:
        body = message.WhichOneof("body")
        if body == "heartbeat":
            session.rss_bytes, session.cpu_percent = message.heartbeat.rss_bytes, message.heartbeat.cpu_percent
        elif body == "fired":
            fired = message.fired
            watcher = _watcher_ref(fired, session)
            if watcher is not None and not EVENT_ID.fullmatch(fired.event_id):
                raise InvalidArgument(
                    f"fired.event_id: triggerer {session.name!r}: an asset watcher's event id must be 1-64 letters, "
                    f"digits and -, not {fired.event_id[:100]!r}"
                )
            size = len(fired.event_json.encode())
            event_json, error = fired.event_json, ""
            if size > wire.MAX_RETURN_VALUE_BYTES:
                event_json, error = "", f"its event is {size:,} bytes; the limit is {wire.MAX_RETURN_VALUE_BYTES:,}"
            self.engine.submit(
                TriggerFired(
                    session.name, session.generation, fired.trigger_id, event_json, error, watcher, fired.event_id
                )
            )
        elif body == "failed":
            failed = message.failed
            error = failed.error[: wire.MAX_ERROR_CHARS] or "the trigger failed"
            watcher = _watcher_ref(failed, session)
            self.engine.submit(TriggerFired(session.name, session.generation, failed.trigger_id, "", error, watcher))
        elif body == "hello":
            raise InvalidArgument(f"triggerer {session.name!r} sent hello twice on one stream")
        else:
            raise InvalidArgument(f"triggerer {session.name!r}: a triggerer message must carry a body")


def _watcher_ref(
    report: triggerer_pb2.TriggerFired | triggerer_pb2.TriggerFailed, session: TriggererSession
) -> tuple[str, str] | None:
    """(asset URI, watcher name) of an asset watcher's report; None for a task's trigger."""
    if not report.HasField("asset_watcher"):
        return None
    ref = report.asset_watcher
    if not 1 <= len(ref.asset_uri) <= URI_LIMIT:
        raise InvalidArgument(
            f"asset_watcher.asset_uri: triggerer {session.name!r}: an asset URI must be 1 to {URI_LIMIT} characters"
        )
    return ref.asset_uri, ref.name
