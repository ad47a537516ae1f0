"""The worker agent: joins a coordinator, takes assignments, runs them, reports, reconnects.

gRPC lives here and only here on the worker side; protocol state is in `Session`, task
execution in `Runner`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator

import grpc

from tradewind.config import Settings
from tradewind.forkserver import ForkServer
from tradewind.v1 import common_pb2, worker_pb2, worker_pb2_grpc
from worker.bundles import BundleCache
from worker.resources import heartbeat
from worker.runner import Runner
from worker.session import Running, Session, key_of

log = logging.getLogger("tradewind.worker")
VERSION = "0.1.0"
KINDS = {"bash": common_pb2.TASK_KIND_BASH, "python": common_pb2.TASK_KIND_PYTHON}
OPTIONS = [
    ("grpc.keepalive_time_ms", 5_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1_000),
]


class Agent:
    def __init__(self, settings: Settings, grace: float = 60.0) -> None:
        self.settings = settings
        self.name = settings.worker_name or f"{socket.gethostname()}-{os.getpid()}"
        self.grace = grace
        self.session = Session(settings.worker_slots, frozenset(KINDS))
        self.forkserver = ForkServer(preload=("tradewind", "tradewind.execution", "worker.payloads.python"))
        self.bundles = BundleCache(settings.home.resolve() / "worker" / "bundles", self._fetch_bundle)
        self.runner = Runner(self.forkserver, self.bundles, self.send)
        self._outbound: asyncio.Queue[worker_pb2.WorkerMessage | None] | None = None
        self._stub: worker_pb2_grpc.WorkerServiceStub | None = None
        self._stopping = asyncio.Event()
        self._hard_stop = False
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- lifecycle ----------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal)
        self.forkserver.start()
        try:
            await self._connect_forever()
        finally:
            for task in list(self._tasks):
                task.cancel()
            self.forkserver.close()

    def _on_signal(self) -> None:
        if self.session.draining:
            log.warning("second signal: killing running tasks now")
            self._hard_stop = True
            for entry in self.session.running.values():
                if entry.task is not None:
                    entry.cancel_reason = "worker shut down before the task finished"
                    entry.task.cancel()
            self._stopping.set()
            return
        self.drain("signal")

    def drain(self, why: str) -> None:
        if self.session.draining:
            return
        log.info("draining (%s): finishing %d running task(s), taking no new work", why, len(self.session.running))
        self.session.draining = True
        task = asyncio.get_running_loop().create_task(self._finish_and_stop())
        self._tasks.add(task)

    async def _finish_and_stop(self) -> None:
        deadline = asyncio.get_running_loop().time() + self.grace
        while self.session.running and asyncio.get_running_loop().time() < deadline and not self._hard_stop:
            await asyncio.sleep(0.1)
        for entry in list(self.session.running.values()):
            if entry.task is not None:
                entry.cancel_reason = "worker shut down before the task finished"
                entry.task.cancel()
        ack_deadline = asyncio.get_running_loop().time() + 5
        while (self.session.running or self.session.unacked) and asyncio.get_running_loop().time() < ack_deadline:
            await asyncio.sleep(0.05)
        self._stopping.set()
        if self._outbound is not None:
            self._outbound.put_nowait(None)

    async def _connect_forever(self) -> None:
        delay = 0.1
        while not self._stopping.is_set():
            async with grpc.aio.insecure_channel(self.settings.host, options=OPTIONS) as channel:
                self._stub = worker_pb2_grpc.WorkerServiceStub(channel)
                welcomed = await self._session(self._stub)
            if self._stopping.is_set():
                return
            delay = 0.1 if welcomed else min(delay * 2, 5.0)
            wait = delay * (0.5 + random.random())
            log.warning("cannot reach coordinator at %s; retrying in %.1fs", self.settings.host, wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait)

    async def _session(self, stub: worker_pb2_grpc.WorkerServiceStub) -> bool:
        """One connected stream; returns whether it got as far as a Welcome."""
        outbound: asyncio.Queue[worker_pb2.WorkerMessage | None] = asyncio.Queue()
        outbound.put_nowait(self._hello())
        welcomed = False
        beats: asyncio.Task[None] | None = None
        try:
            call = stub.Connect(_drain_queue(outbound))
            async for message in call:
                body = message.WhichOneof("body")
                if body == "welcome":
                    welcomed = True
                    self._outbound = outbound
                    for msg in self.session.after_welcome(list(message.welcome.rejected)):
                        outbound.put_nowait(msg)
                    self._kill_rejected(message.welcome.rejected)
                    beats = asyncio.create_task(
                        self._heartbeats(outbound, message.welcome.heartbeat_interval_ms / 1000)
                    )
                    log.info("joined coordinator at %s as %s", self.settings.host, self.name)
                elif body == "assignment":
                    self._assign(message.assignment)
                elif body == "cancel":
                    self._cancel(message.cancel)
                elif body == "result_ack":
                    self.session.acked(message.result_ack.attempt)
                elif body == "drain":
                    self.drain("asked by the coordinator")
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                log.error("coordinator closed the stream: %s: %s", exc.code().name, exc.details())
        finally:
            self._outbound = None
            if beats is not None:
                beats.cancel()
        return welcomed

    def _hello(self) -> worker_pb2.WorkerMessage:
        return worker_pb2.WorkerMessage(
            hello=worker_pb2.Hello(
                name=self.name,
                host=socket.gethostname(),
                pid=os.getpid(),
                queues=list(self.settings.worker_queues),
                slots=self.settings.worker_slots,
                kinds=list(KINDS.values()),
                version=VERSION,
                running=self.session.running_attempts(),
            )
        )

    async def _heartbeats(self, outbound: asyncio.Queue[worker_pb2.WorkerMessage | None], interval: float) -> None:
        while True:
            outbound.put_nowait(heartbeat(len(self.session.running)))
            await asyncio.sleep(max(interval, 0.1))

    # ---- messages -----------------------------------------------------------------------
    def send(self, message: worker_pb2.WorkerMessage) -> None:
        if message.WhichOneof("body") == "finished":
            self.session.finish(message)
        if self._outbound is not None:
            self._outbound.put_nowait(message)
        else:
            self.session.hold(message)

    def _assign(self, assignment: worker_pb2.Assignment) -> None:
        kind = assignment.payload.WhichOneof("kind") or "unknown"
        reason = self.session.refusal(kind)
        self.send(
            worker_pb2.WorkerMessage(
                ack=worker_pb2.AssignmentAck(attempt=assignment.attempt, accepted=not reason, reason=reason)
            )
        )
        if reason:
            return
        entry = self.session.start(assignment.attempt, kind)
        entry.task = asyncio.create_task(self._run(assignment, entry))

    async def _run(self, assignment: worker_pb2.Assignment, entry: Running) -> None:
        try:
            finished = await self.runner.run(assignment, entry)
        except asyncio.CancelledError:
            if not entry.cancel_reason:
                raise
            outcome = (
                worker_pb2.TASK_OUTCOME_FAILED
                if "shut down" in entry.cancel_reason
                else worker_pb2.TASK_OUTCOME_CANCELLED
            )
            finished = worker_pb2.WorkerMessage(
                finished=worker_pb2.TaskFinished(
                    attempt=assignment.attempt, outcome=outcome, exit_code=-9, error=entry.cancel_reason
                )
            )
        except Exception as exc:  # noqa: BLE001 - a runner bug must not take the worker down
            log.exception("running %s failed", assignment.task_id)
            finished = worker_pb2.WorkerMessage(
                finished=worker_pb2.TaskFinished(
                    attempt=assignment.attempt,
                    outcome=worker_pb2.TASK_OUTCOME_FAILED,
                    exit_code=1,
                    error=f"worker error: {type(exc).__name__}: {exc}",
                )
            )
        if key_of(assignment.attempt) in self.session.running:
            self.send(finished)

    def _cancel(self, cancel: worker_pb2.Cancel) -> None:
        entry = self.session.running.get(key_of(cancel.attempt))
        if entry is not None and entry.task is not None:
            entry.cancel_reason = cancel.reason or "cancelled"
            entry.task.cancel()

    def _kill_rejected(self, rejected: list[common_pb2.Attempt]) -> None:
        for attempt in rejected:
            entry = self.session.running.pop(key_of(attempt), None)
            if entry is not None and entry.task is not None:
                entry.task.cancel()

    async def _fetch_bundle(self, bundle_hash: str) -> bytes:
        assert self._stub is not None
        chunks = []
        async for part in self._stub.FetchBundle(worker_pb2.FetchBundleRequest(bundle_hash=bundle_hash)):
            chunks.append(part.chunk)
        return b"".join(chunks)


async def _drain_queue(
    queue: asyncio.Queue[worker_pb2.WorkerMessage | None],
) -> AsyncIterator[worker_pb2.WorkerMessage]:
    while True:
        message = await queue.get()
        if message is None:
            return
        yield message


def run(settings: Settings, grace: float) -> None:
    # The loop hands work to gRPC's and the fork server's threads many times per task; CPython's
    # default 5 ms GIL switch interval would add up to that much to each hand-off.
    sys.setswitchinterval(0.0005)
    asyncio.run(Agent(settings, grace).run())


__all__ = ["Agent", "run"]
