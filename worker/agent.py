"""The worker agent: joins a coordinator, takes assignments, runs them, reports, reconnects.

gRPC lives here and only here on the worker side; protocol state is in `Session`, task
execution in `Runner`. The rules it follows are worker.proto's package comment.
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
import sys
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, cast

import grpc

from tradewind import wire
from tradewind.config import Settings
from tradewind.connections import from_pb
from tradewind.credentials import Credentials, aio_channel, diagnose
from tradewind.exceptions import TradewindError
from tradewind.forkserver import ForkServer
from tradewind.secrets_masker import MASK
from tradewind.v1 import common_pb2, worker_pb2, worker_pb2_grpc
from worker.bundles import BundleCache
from worker.channel import Requests
from worker.parent import watch_parent
from worker.resources import heartbeat
from worker.runner import Runner
from worker.session import Limits, Running, Session, Stop, key_of

log = logging.getLogger("tradewind.worker")
VERSION = "0.1.0"
KINDS = {"bash": common_pb2.TASK_KIND_BASH, "python": common_pb2.TASK_KIND_PYTHON}
OPTIONS = [
    ("grpc.keepalive_time_ms", 5_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", wire.MAX_MESSAGE_BYTES),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1_000),
]
#: Statuses a retry cannot fix (worker.proto, Errors): the worker exits with the message.
PERMANENT = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 1.0
#: How long a coordinator may take to answer Hello before the worker tries again.
WELCOME_TIMEOUT_SECONDS = 30.0
SHUT_DOWN = "worker shut down before the task finished"


class WorkerRefused(TradewindError):
    """The coordinator refused this worker with a permanent status."""


class Agent:
    def __init__(self, settings: Settings, grace: float = 60.0, parent_pid: int | None = None) -> None:
        self.settings = settings
        self.credentials = Credentials.from_settings(settings)
        self.name = settings.worker_name or f"{socket.gethostname()}-{os.getpid()}"
        self.instance_id = secrets.token_hex(16)
        self.grace = grace
        self.parent_pid = parent_pid
        self.session = Session(settings.worker_slots, frozenset(KINDS))
        self.forkserver = ForkServer(
            preload=("tradewind", "tradewind.execution", "worker.payloads.python"), on_loop=True
        )
        self.bundles = BundleCache(settings.home.resolve() / "worker" / "bundles", self._fetch_bundle)
        self.requests = Requests(self.send)
        self.runner = Runner(
            self.forkserver, self.bundles, self.send, lambda: self.session.limits, requests=self.requests
        )
        self._outbound: asyncio.Queue[worker_pb2.WorkerMessage | None] | None = None
        #: Connection tests being run (worker.proto ConnectionTest).
        self._tests: set[asyncio.Task[None]] = set()
        self._stub: worker_pb2_grpc.WorkerServiceStub | None = None
        self._stopping = asyncio.Event()
        self._hard_stop = False
        self._heartbeat_timeout = settings.heartbeat_timeout
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- lifecycle ----------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal)
        if self.parent_pid is not None:
            self._spawn(watch_parent(self.parent_pid, self._on_parent_gone))
        os.environ["TRADEWIND_HOST"] = self.settings.host  # task processes call the coordinator
        if self.settings.tls_ca:
            os.environ["TRADEWIND_TLS_CA"] = str(Path(self.settings.tls_ca).resolve())
        # The worker's own credential is not its tasks'; they get the task token, if any.
        for name in ("TRADEWIND_TOKEN", "TRADEWIND_TOKEN_FILE", "TRADEWIND_TASK_TOKEN"):
            os.environ.pop(name, None)
        if self.settings.task_token:
            os.environ["TRADEWIND_TOKEN"] = self.settings.task_token
        elif self.settings.task_token_file:
            os.environ["TRADEWIND_TOKEN_FILE"] = str(Path(self.settings.task_token_file).resolve())
        self.forkserver.start()
        try:
            await self._connect_forever()
        finally:
            for task in list(self._tasks):
                task.cancel()
            self.forkserver.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_signal(self) -> None:
        if self.session.draining:
            log.warning("second signal: killing running tasks now")
            self._kill_all()
            return
        self.drain("signal")

    def _on_parent_gone(self) -> None:
        log.warning("parent process %s is gone: killing running tasks and exiting", self.parent_pid)
        self.session.draining = True
        self._kill_all()
        self._stop_now()

    def _kill_all(self) -> None:
        self._hard_stop = True
        for entry in self.session.running.values():
            entry.request_stop(Stop(SHUT_DOWN, wire.Outcome.LOST, 0))

    def _stop_now(self) -> None:
        self._stopping.set()
        if self._outbound is not None:
            self._outbound.put_nowait(None)

    def drain(self, why: str) -> None:
        if self.session.draining:
            return
        log.info("draining (%s): finishing %d running task(s), taking no new work", why, len(self.session.running))
        self.session.draining = True
        self._send_draining(why)
        self._spawn(self._finish_and_stop())

    def _send_draining(self, why: str) -> None:
        if self._outbound is not None:
            self._outbound.put_nowait(worker_pb2.WorkerMessage(draining=worker_pb2.WorkerDraining(reason=why)))

    async def _finish_and_stop(self) -> None:
        """Let running tasks finish within the grace; stop the rest as lost; wait for the acks."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace
        while self.session.running and loop.time() < deadline and not self._hard_stop:
            await asyncio.sleep(0.1)
        grace = 0 if self._hard_stop else self.session.limits.kill_grace
        for entry in list(self.session.running.values()):
            entry.request_stop(Stop(SHUT_DOWN, wire.Outcome.LOST, grace))
        ack_deadline = loop.time() + grace + 5
        while (self.session.running or self.session.unacked) and loop.time() < ack_deadline:
            await asyncio.sleep(0.05)
        self._stop_now()

    async def _connect_forever(self) -> None:
        hosts = self.settings.hosts
        index, delay, failures = 0, BACKOFF_FIRST, 0
        while not self._stopping.is_set():
            host = hosts[index]
            async with aio_channel(host, self.credentials, OPTIONS) as channel:
                self._stub = worker_pb2_grpc.WorkerServiceStub(channel)
                welcomed = await self._session(self._stub, host)
            if self._stopping.is_set():
                return
            index = (index + 1) % len(hosts)
            if welcomed:
                delay, failures = BACKOFF_FIRST, 0
            failures += 1
            wait = delay * random.uniform(0.5, 1.0)
            delay = min(delay * 2, BACKOFF_MAX)
            level = logging.WARNING if failures % 60 == 1 else logging.DEBUG  # about once a minute while down
            why = await asyncio.to_thread(diagnose, host, self.credentials) if level == logging.WARNING else ""
            log.log(
                level,
                "no session with the coordinator at %s%s; trying %s in %.1fs",
                host,
                f" ({why})" if why else "",
                hosts[index],
                wait,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait)

    async def _session(self, stub: worker_pb2_grpc.WorkerServiceStub, host: str) -> bool:
        """One connected stream; returns whether it got as far as a Welcome.

        Raises WorkerRefused on a permanent status. Once the coordinator is known to answer
        heartbeats, a silence of heartbeat_timeout ends the stream (a frozen coordinator, a cut
        path, or this worker having been stopped)."""
        outbound: asyncio.Queue[worker_pb2.WorkerMessage | None] = asyncio.Queue()
        outbound.put_nowait(self._hello())
        welcomed = False
        beats: asyncio.Task[None] | None = None
        silence: float | None = WELCOME_TIMEOUT_SECONDS
        call = stub.Connect(_drain_queue(outbound), metadata=self.credentials.metadata())
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            while True:
                reading = asyncio.ensure_future(call.read())
                waiting: set[asyncio.Future[Any]] = {reading, stopped}
                await asyncio.wait(waiting, timeout=silence, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    reading.cancel()
                    if not stopped.done():
                        log.warning("heard nothing from the coordinator at %s for %.1fs; reconnecting", host, silence)
                    break
                message = reading.result()
                if message is grpc.aio.EOF:
                    break
                body = message.WhichOneof("body")
                if body == "welcome":
                    welcomed = True
                    welcome = message.welcome
                    beats = self._welcomed(welcome, outbound, host)
                    silence = self._heartbeat_timeout if welcome.HasField("limits") else None
                elif body == "heartbeat_ack":
                    silence = self._heartbeat_timeout
                elif body == "assignment":
                    self._assign(message.assignment)
                elif body == "cancel":
                    self._cancel(message.cancel)
                elif body == "result_ack":
                    self.session.acked(message.result_ack.attempt)
                elif body == "task_response":
                    self.requests.answered(message.task_response)
                elif body == "connection_test":
                    tested = asyncio.create_task(self._test_connection(message.connection_test))
                    self._tests.add(tested)
                    tested.add_done_callback(self._tests.discard)
                elif body == "drain":
                    self.drain(message.drain.reason or "asked by the coordinator")
        except grpc.aio.AioRpcError as exc:
            details = " ".join((exc.details() or "").split())
            if exc.code() in PERMANENT:
                raise WorkerRefused(f"the coordinator at {host} refused worker {self.name!r}: {details}") from None
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                log.error("the coordinator closed the stream: %s: %s", exc.code().name, details)
        finally:
            stopped.cancel()
            call.cancel()
            self._outbound = None
            if beats is not None:
                beats.cancel()
            while not outbound.empty():  # what gRPC never took is replayed after the next Welcome
                unsent = outbound.get_nowait()
                if unsent is not None:
                    self.session.hold(unsent)
        return welcomed

    def _welcomed(
        self, welcome: worker_pb2.Welcome, outbound: asyncio.Queue[worker_pb2.WorkerMessage | None], host: str
    ) -> asyncio.Task[None]:
        self.session.limits = Limits.from_welcome(welcome)
        self._heartbeat_timeout = welcome.heartbeat_timeout_ms / 1000 or self.settings.heartbeat_timeout
        self._outbound = outbound
        if self.session.draining:
            self._send_draining("shutting down")
        replay = self.session.after_welcome(list(welcome.rejected))
        results = [m for m in replay if m.WhichOneof("body") == "finished"]
        held = [m for m in replay if m.WhichOneof("body") != "finished"]
        for msg in held + self.requests.unanswered(list(welcome.rejected)) + results:
            outbound.put_nowait(msg)
        self._kill_rejected(welcome.rejected)
        log.info("joined coordinator at %s as %s", host, self.name)
        return asyncio.create_task(self._heartbeats(outbound, welcome.heartbeat_interval_ms / 1000))

    def _hello(self) -> worker_pb2.WorkerMessage:
        return worker_pb2.WorkerMessage(
            hello=worker_pb2.Hello(
                name=self.name,
                host=socket.gethostname()[: wire.MAX_HOST_CHARS],
                pid=os.getpid(),
                queues=list(self.settings.worker_queues),
                slots=self.settings.worker_slots,
                kinds=list(KINDS.values()),
                version=VERSION,
                running=self.session.running_attempts(),
                instance_id=self.instance_id,
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

    async def _test_connection(self, test: worker_pb2.ConnectionTest) -> None:
        """Open the connection on a thread (drivers block) and answer; nothing of it is kept."""
        try:
            connection = from_pb(test.connection)
        except TradewindError as exc:
            ok, message = False, str(exc)
        else:
            ok, message = await asyncio.to_thread(connection.test_connection)
            if connection.password:
                message = message.replace(connection.password, MASK)
        result = worker_pb2.ConnectionTestResult(test_id=test.test_id, ok=ok, message=message[: wire.MAX_REASON_CHARS])
        self.send(worker_pb2.WorkerMessage(connection_test_result=result))

    def _assign(self, assignment: worker_pb2.Assignment) -> None:
        kind = assignment.payload.WhichOneof("kind") or "unknown"
        refused = self.session.refusal(kind)
        ack = worker_pb2.AssignmentAck(attempt=assignment.attempt, accepted=refused is None)
        if refused is not None:
            ack.refusal = cast(worker_pb2.RefusalReason, wire.refusal_to_pb(refused[0]))
            ack.reason = refused[1]
        self.send(worker_pb2.WorkerMessage(ack=ack))
        if refused is not None:
            return
        entry = self.session.start(assignment.attempt, kind)
        entry.task = asyncio.create_task(self._run(assignment, entry))

    async def _run(self, assignment: worker_pb2.Assignment, entry: Running) -> None:
        try:
            finished = await self.runner.run(assignment, entry)
        except Exception as exc:  # noqa: BLE001 - a runner bug must not take the worker down
            log.exception("running %s failed", assignment.task_id)
            finished = worker_pb2.WorkerMessage(
                finished=worker_pb2.TaskFinished(
                    attempt=assignment.attempt,
                    outcome=worker_pb2.TASK_OUTCOME_FAILED,
                    exit_code=1,
                    error=self.session.limits.cut_error(f"worker error: {type(exc).__name__}: {exc}"),
                )
            )
        if key_of(assignment.attempt) in self.session.running:
            self.send(finished)

    def _cancel(self, cancel: worker_pb2.Cancel) -> None:
        entry = self.session.running.get(key_of(cancel.attempt))
        if entry is not None:
            reason = cancel.reason or "cancelled"
            entry.request_stop(Stop(reason, wire.Outcome.CANCELLED, self.session.limits.kill_grace))

    def _kill_rejected(self, rejected: list[common_pb2.Attempt]) -> None:
        """The coordinator no longer counts on these: kill them at once and report nothing."""
        for attempt in rejected:
            entry = self.session.running.pop(key_of(attempt), None)
            if entry is not None:
                entry.request_stop(Stop("no longer current", wire.Outcome.LOST, 0))

    async def _fetch_bundle(self, bundle_hash: str) -> bytes:
        assert self._stub is not None
        chunks = []
        request = worker_pb2.FetchBundleRequest(bundle_hash=bundle_hash)
        async for part in self._stub.FetchBundle(request, metadata=self.credentials.metadata()):
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


def run(settings: Settings, grace: float, parent_pid: int | None = None) -> None:
    # The loop hands work to gRPC's and the fork server's threads many times per task; CPython's
    # default 5 ms GIL switch interval would add up to that much to each hand-off.
    sys.setswitchinterval(0.0005)
    asyncio.run(Agent(settings, grace, parent_pid).run())


__all__ = ["Agent", "WorkerRefused", "run"]
