"""The triggerer agent: joins a coordinator over TriggererService.Connect, runs the triggers it
is given, reports each first event (every event of an asset watcher's trigger) until
acknowledged, and reconnects (triggerer.proto).

On every new session it starts from nothing (the coordinator sends again the triggers it wants
run), so a trigger never runs here for a session that no longer holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import psutil

from tradewind import wire
from tradewind.config import Settings
from tradewind.credentials import Credentials, aio_channel
from tradewind.exceptions import TradewindError
from tradewind.v1 import triggerer_pb2, triggerer_pb2_grpc, worker_pb2, worker_pb2_grpc
from triggerer.runner import TriggerRunner, watch_blocking
from worker.bundles import BundleCache
from worker.parent import watch_parent

log = logging.getLogger("tradewind.triggerer")
VERSION = "0.1.0"
OPTIONS = [
    ("grpc.keepalive_time_ms", 5_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", wire.MAX_MESSAGE_BYTES),
]
PERMANENT = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS})
BACKOFF_MAX = 1.0

Outbound = asyncio.Queue[triggerer_pb2.TriggererMessage | None]


class TriggererRefused(TradewindError):
    """The coordinator refused this triggerer with a permanent status."""


class Agent:
    def __init__(self, settings: Settings, name: str, capacity: int, parent_pid: int | None = None) -> None:
        self.settings = settings
        self.credentials = Credentials.from_settings(settings)
        self.name = name or f"{socket.gethostname()}-triggerer-{os.getpid()}"
        self.capacity = capacity
        self.parent_pid = parent_pid
        self.instance_id = secrets.token_hex(16)
        self.runner = TriggerRunner(self._report, self._bundle_dir)
        self.bundles = BundleCache(settings.home.resolve() / "triggerer" / "bundles", self._fetch_bundle)
        #: Fired and failed reports not yet acknowledged, resent on every new session: by trigger
        #: id, or by event id for an asset watcher's events.
        self.unacked: dict[int | str, triggerer_pb2.TriggererMessage] = {}
        self._outbound: Outbound | None = None
        self._channel: grpc.aio.Channel | None = None
        self._stopping = asyncio.Event()
        self._bundle_uses: dict[str, contextlib.AsyncExitStack] = {}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        watch_blocking(loop)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        os.environ["TRADEWIND_HOST"] = self.settings.host  # triggers that ask the coordinator
        watcher = None
        if self.parent_pid is not None:
            watcher = loop.create_task(watch_parent(self.parent_pid, self._stopping.set))
        try:
            await self._connect_forever()
        finally:
            self.runner.cancel_all()
            if watcher is not None:
                watcher.cancel()
            for stack in self._bundle_uses.values():
                await stack.aclose()

    async def _connect_forever(self) -> None:
        hosts = self.settings.hosts
        index, delay = 0, 0.1
        while not self._stopping.is_set():
            host = hosts[index]
            async with aio_channel(host, self.credentials, OPTIONS) as channel:
                self._channel = channel
                welcomed = await self._session(channel, host)
            if self._stopping.is_set():
                return
            index = (index + 1) % len(hosts)
            delay = 0.1 if welcomed else min(delay * 2, BACKOFF_MAX)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay * random.uniform(0.5, 1.0))

    async def _session(self, channel: grpc.aio.Channel, host: str) -> bool:
        outbound: Outbound = asyncio.Queue()
        outbound.put_nowait(self._hello())
        stub = triggerer_pb2_grpc.TriggererServiceStub(channel)
        call = stub.Connect(_drain(outbound), metadata=self.credentials.metadata())
        stopped = asyncio.ensure_future(self._stopping.wait())
        beats: asyncio.Task[None] | None = None
        welcomed, silence = False, 30.0
        try:
            while True:
                reading = asyncio.ensure_future(call.read())
                await asyncio.wait({reading, stopped}, timeout=silence, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    reading.cancel()
                    break
                message = reading.result()
                if message is grpc.aio.EOF:
                    break
                body = message.WhichOneof("body")
                if body == "welcome":
                    welcomed = True
                    self.runner.cancel_all()
                    self._outbound = outbound
                    for report in self.unacked.values():
                        outbound.put_nowait(report)
                    interval = message.welcome.heartbeat_interval_ms / 1000
                    silence = max(message.welcome.heartbeat_timeout_ms / 1000, 1.0) * 3
                    beats = asyncio.create_task(self._heartbeats(outbound, interval))
                    log.info("joined coordinator at %s as triggerer %s", host, self.name)
                elif body == "run":
                    self.runner.start(message.run)
                elif body == "cancel":
                    self.runner.cancel(message.cancel.trigger_id)
                elif body == "fired_ack":
                    ack = message.fired_ack
                    self.unacked.pop(ack.event_id or ack.trigger_id, None)
        except grpc.aio.AioRpcError as exc:
            details = " ".join((exc.details() or "").split())
            if exc.code() in PERMANENT:
                raise TriggererRefused(
                    f"the coordinator at {host} refused triggerer {self.name!r}: {details}"
                ) from None
            log.debug("the stream ended: %s: %s", exc.code().name, details)
        finally:
            stopped.cancel()
            call.cancel()
            self._outbound = None
            if beats is not None:
                beats.cancel()
        return welcomed

    def _hello(self) -> triggerer_pb2.TriggererMessage:
        return triggerer_pb2.TriggererMessage(
            hello=triggerer_pb2.TriggererHello(
                name=self.name,
                instance_id=self.instance_id,
                host=socket.gethostname()[: wire.MAX_HOST_CHARS],
                pid=os.getpid(),
                version=VERSION,
                capacity=self.capacity,
            )
        )

    async def _heartbeats(self, outbound: Outbound, interval: float) -> None:
        process = psutil.Process()
        process.cpu_percent(None)
        while True:
            beat = triggerer_pb2.TriggererHeartbeat(
                running=len(self.runner.running),
                rss_bytes=process.memory_info().rss,
                cpu_percent=process.cpu_percent(None),
            )
            outbound.put_nowait(triggerer_pb2.TriggererMessage(heartbeat=beat))
            await asyncio.sleep(max(interval, 0.1))

    def _report(self, message: triggerer_pb2.TriggererMessage) -> None:
        body = message.WhichOneof("body")
        if body == "fired" and message.fired.event_id:
            self.unacked[message.fired.event_id] = message
        elif body == "fired":
            self.unacked[message.fired.trigger_id] = message
        elif not message.failed.HasField("asset_watcher"):
            self.unacked[message.failed.trigger_id] = message
        if self._outbound is not None:
            self._outbound.put_nowait(message)

    async def _bundle_dir(self, bundle_hash: str) -> Path:
        """The extracted bundle, kept from eviction while this triggerer lives."""
        if bundle_hash not in self._bundle_uses:
            stack = contextlib.AsyncExitStack()
            path = await stack.enter_async_context(self.bundles.use(bundle_hash))
            self._bundle_uses[bundle_hash] = stack
            return path
        return self.bundles.root / bundle_hash

    async def _fetch_bundle(self, bundle_hash: str) -> bytes:
        if self._channel is None:
            raise TradewindError("no connection to the coordinator to fetch the DAG bundle from")
        stub = worker_pb2_grpc.WorkerServiceStub(self._channel)
        chunks = []
        async for part in stub.FetchBundle(
            worker_pb2.FetchBundleRequest(bundle_hash=bundle_hash), metadata=self.credentials.metadata()
        ):
            chunks.append(part.chunk)
        return b"".join(chunks)


async def _drain(queue: Outbound) -> AsyncIterator[triggerer_pb2.TriggererMessage]:
    while (message := await queue.get()) is not None:
        yield message


def run(settings: Settings, name: str, capacity: int, parent_pid: int | None = None) -> None:
    asyncio.run(Agent(settings, name, capacity, parent_pid).run())


__all__ = ["Agent", "TriggererRefused", "run"]
