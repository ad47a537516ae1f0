"""Run one attempt: fork it, stream its output, enforce its timeout, stop it on request, report how it ended."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from tradewind import wire
from tradewind.callbacks import RAN_FILE, STOP_FILE
from tradewind.exceptions import TradewindError
from tradewind.forkserver import Child, ChildExit, ForkServer
from tradewind.skipping import FollowTasks
from tradewind.v1 import common_pb2, worker_pb2
from tradewind.wire import to_timestamp
from worker.bundles import BundleCache
from worker.channel import Channel, Requests, channel_path
from worker.payloads import FAILED, Launch, Result, bash_callbacks, late_callbacks
from worker.payloads import bash as bash_payload
from worker.payloads import python as python_payload
from worker.session import Limits, Running, Stop

Emit = Callable[[worker_pb2.WorkerMessage], None]
FLUSH_BYTES = 32 * 1024
FLUSH_SECONDS = 0.02
NOT_STARTED = ChildExit(0, 0.0, 0.0, 0)


class LogPump(asyncio.Protocol):
    """Reads a task's output pipe and emits it as LogChunks, coalesced by size and time, none over `limit`."""

    def __init__(self, attempt: common_pb2.Attempt, emit: Emit, limit: int) -> None:
        self.attempt = attempt
        self.emit = emit
        self.limit = limit
        self.buffer = bytearray()
        #: The end of the output, enough to hold a last line that fits in a return value.
        self.tail = bytearray()
        self.timer: asyncio.TimerHandle | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.tail += data
        del self.tail[: -wire.MAX_RETURN_VALUE_BYTES]
        if len(self.buffer) >= min(FLUSH_BYTES, self.limit):
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for start in range(0, len(self.buffer), self.limit):
            data = bytes(self.buffer[start : start + self.limit])
            self.emit(worker_pb2.WorkerMessage(log=worker_pb2.LogChunk(attempt=self.attempt, data=data)))
        self.buffer.clear()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.flush()
        if not self.closed.done():
            self.closed.set_result(None)


class Runner:
    def __init__(
        self,
        forkserver: ForkServer,
        bundles: BundleCache,
        emit: Emit,
        limits: Callable[[], Limits],
        *,
        requests: Requests | None = None,
    ) -> None:
        """Without `requests`, Python tasks run with no channel to the coordinator."""
        self.forkserver = forkserver
        self.bundles = bundles
        self.emit = emit
        self.limits = limits
        self.requests = requests

    async def run(self, assignment: worker_pb2.Assignment, entry: Running) -> worker_pb2.WorkerMessage:
        attempt = assignment.attempt
        workdir = Path(tempfile.mkdtemp(prefix=f"tw-{attempt.task_instance_id}-"))
        try:
            result, usage = await self._run(assignment, entry, workdir)
        except TradewindError as exc:
            result, usage = Result(FAILED, f"{type(exc).__name__}: {exc}"), ChildExit(1, 0.0, 0.0, 0)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        limits = self.limits()
        return worker_pb2.WorkerMessage(
            finished=worker_pb2.TaskFinished(
                attempt=attempt,
                outcome=result.outcome,
                exit_code=usage.returncode,
                error=limits.cut_error(result.error),
                return_value_json=result.return_value_json,
                ended_at=to_timestamp(datetime.now(UTC)),
                usage=common_pb2.ResourceUsage(
                    cpu_user_seconds=usage.cpu_user,
                    cpu_system_seconds=usage.cpu_system,
                    max_rss_bytes=usage.max_rss_bytes,
                ),
                follow=_follow_pb(result.follow),
                outlet_extra_json=result.outlet_extra_json,
                outlet_alias_events_json=result.outlet_alias_events_json,
                reschedule_date=to_timestamp(result.reschedule_date),
                deferral=result.deferral,
                rendered_map_index=result.rendered_map_index[: wire.MAX_RENDERED_MAP_INDEX_CHARS],
            )
        )

    async def _run(self, assignment: worker_pb2.Assignment, entry: Running, workdir: Path) -> tuple[Result, ChildExit]:
        payload = assignment.payload
        kind = payload.WhichOneof("kind")
        has_callbacks = assignment.HasField("callbacks")
        if kind == "bash" and not has_callbacks:
            launch = bash_payload.prepare(payload.bash, workdir)
        elif kind == "bash":
            async with contextlib.AsyncExitStack() as stack:
                try:
                    bundle_dir = await stack.enter_async_context(self.bundles.use(assignment.callbacks.bundle_hash))
                except Exception as exc:  # noqa: BLE001 - a fetch that fails (network, hash) is not the task's fault
                    return Result(worker_pb2.TASK_OUTCOME_LOST, f"cannot fetch the DAG bundle: {exc}"), NOT_STARTED
                launch = bash_callbacks.prepare(
                    payload.bash, workdir, bundle_dir, assignment.callbacks, f"{assignment.dag_id}|{assignment.task_id}"
                )
                result, ended = await self._execute(assignment, entry, workdir, launch)
                await self._late_callbacks(assignment, workdir, bundle_dir, result)
                return result, ended
        elif kind == "python":
            async with contextlib.AsyncExitStack() as stack:
                try:
                    bundle_dir = await stack.enter_async_context(self.bundles.use(payload.python.bundle_hash))
                except Exception as exc:  # noqa: BLE001 - a fetch that fails (network, hash) is not the task's fault
                    return Result(worker_pb2.TASK_OUTCOME_LOST, f"cannot fetch the DAG bundle: {exc}"), NOT_STARTED
                channel = channel_path(workdir)
                if self.requests is not None:
                    await stack.enter_async_context(Channel(assignment.attempt, channel, self.requests))
                started = (
                    assignment.reschedule_started_at.ToDatetime(UTC)
                    if assignment.HasField("reschedule_started_at")
                    else None
                )
                launch = python_payload.prepare(
                    payload.python,
                    bundle_dir,
                    workdir,
                    channel if self.requests else None,
                    assignment.map_index,
                    assignment.callbacks if has_callbacks else None,
                    (started, assignment.reschedule_count),
                    assignment.resume if assignment.HasField("resume") else None,
                )
                result, ended = await self._execute(assignment, entry, workdir, launch)
                if has_callbacks:
                    await self._late_callbacks(assignment, workdir, bundle_dir, result)
                return result, ended
        else:
            return Result(FAILED, f"unknown payload kind {kind!r}"), ChildExit(1, 0.0, 0.0, 0)
        return await self._execute(assignment, entry, workdir, launch)

    async def _late_callbacks(
        self, assignment: worker_pb2.Assignment, workdir: Path, bundle_dir: Path, result: Result
    ) -> None:
        """A failed try whose process ended without running its callback (killed outright) gets
        it run here, in a child of its own, its output in the attempt's log, within a time limit."""
        kind = late_callbacks.kind_after(result.outcome, assignment.callbacks)
        if kind is None or (workdir / RAN_FILE).exists():
            return
        launch = late_callbacks.prepare(
            bundle_dir, assignment.callbacks, assignment.dag_id, assignment.task_id, kind, result.error
        )
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        try:
            started = self.forkserver.submit(
                launch.target, launch.kwargs, stdout=write_fd, cwd=str(workdir), warm=launch.warm
            )
        finally:
            os.close(write_fd)
        child = await asyncio.wrap_future(started)
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        limit = self.limits().max_log_chunk_bytes
        transport, pump = await loop.connect_read_pipe(lambda: LogPump(assignment.attempt, self.emit, limit), pipe)
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(child.exit)), late_callbacks.LATE_SECONDS)
        except TimeoutError:
            pass
        finally:
            child.kill(signal.SIGKILL)
            try:
                await asyncio.wait_for(asyncio.shield(pump.closed), 2.0)
            except TimeoutError:
                transport.close()

    async def _execute(
        self, assignment: worker_pb2.Assignment, entry: Running, workdir: Path, launch: Launch
    ) -> tuple[Result, ChildExit]:
        payload = assignment.payload
        kind = payload.WhichOneof("kind")
        if entry.stop is not None:
            return Result(_pb(entry.stop.outcome), entry.stop.reason), NOT_STARTED
        loop = asyncio.get_running_loop()
        self.forkserver.ensure_running()
        read_fd, write_fd = os.pipe()
        try:
            started = self.forkserver.submit(
                launch.target, launch.kwargs, stdout=write_fd, cwd=launch.cwd, env=launch.env, warm=launch.warm
            )
        finally:
            os.close(write_fd)
        child = await asyncio.wrap_future(started)
        self.emit(
            worker_pb2.WorkerMessage(
                started=worker_pb2.TaskStarted(
                    attempt=assignment.attempt,
                    pid=child.pid,
                    started_at=to_timestamp(datetime.fromtimestamp(child.started_at, UTC)),
                )
            )
        )
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        limit = self.limits().max_log_chunk_bytes
        transport, pump = await loop.connect_read_pipe(lambda: LogPump(assignment.attempt, self.emit, limit), pipe)
        timeout = assignment.execution_timeout_ms / 1000 or None
        deadline = loop.time() + timeout if timeout else None
        exited = asyncio.ensure_future(asyncio.wrap_future(child.exit))
        exited.add_done_callback(_retrieve)
        stop: Stop | None = None
        early: ChildExit | None = None
        try:
            asked = asyncio.ensure_future(entry.stopped.wait())
            waiting: set[asyncio.Future[Any]] = {exited, asked}
            if kind == "python":
                waiting.add(pump.closed)  # its output ends when it is done, before its exit is reaped
            while True:
                remaining = None if deadline is None else max(0.0, deadline - loop.time())
                done, _ = await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                if pump.closed in done and exited not in done:
                    waiting.discard(pump.closed)
                    early = python_payload.ended(workdir)
                    if early is None and asked not in done:
                        continue
                break
            asked.cancel()
            if exited not in done and early is None:
                stop = entry.stop or Stop(
                    f"execution_timeout of {timeout:g}s exceeded", wire.Outcome.TIMED_OUT, self.limits().kill_grace
                )
                entry.stop = stop
                (workdir / STOP_FILE).write_text(stop.outcome.value)
                await _terminate(child, exited, entry)
            ended = early or await exited
        except asyncio.CancelledError:
            child.kill()
            await asyncio.shield(exited)
            raise
        finally:
            child.kill(signal.SIGKILL)
            try:
                await asyncio.wait_for(asyncio.shield(pump.closed), 2.0)
            except TimeoutError:
                transport.close()
        if stop is not None:
            return Result(_pb(stop.outcome), stop.reason), ended
        if kind == "bash":
            kept = workdir / bash_callbacks.LAST_LINE_FILE
            tail = json.loads(kept.read_text()).encode() if kept.exists() else bytes(pump.tail)
            result = bash_payload.interpret(payload.bash, ended.returncode, tail)
            return _bounded(result, self.limits()), ended
        return _bounded(python_payload.interpret(workdir, ended.returncode), self.limits()), ended


async def _terminate(child: Child, exited: asyncio.Future[ChildExit], entry: Running) -> None:
    """SIGTERM to the process group, SIGKILL once the grace (which a later stop may shorten) has passed."""
    assert entry.stop is not None
    loop = asyncio.get_running_loop()
    began = loop.time()
    child.kill(signal.SIGTERM if entry.stop.grace > 0 else signal.SIGKILL)
    while not exited.done():
        entry.stopped.clear()
        remaining = began + entry.stop.grace - loop.time()
        if remaining <= 0:
            child.kill(signal.SIGKILL)
            await asyncio.wait({exited})
            return
        asked = asyncio.ensure_future(entry.stopped.wait())
        waiting: set[asyncio.Future[Any]] = {exited, asked}
        await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        asked.cancel()


def _retrieve(future: asyncio.Future[ChildExit]) -> None:
    """An exit no longer awaited (the task reported its end first) must not log as never retrieved."""
    if not future.cancelled():
        future.exception()


def _pb(outcome: wire.Outcome) -> worker_pb2.TaskOutcome:
    return cast(worker_pb2.TaskOutcome, wire.outcome_to_pb(outcome))


def _follow_pb(follow: FollowTasks | None) -> worker_pb2.FollowTasks | None:
    if follow is None:
        return None
    return worker_pb2.FollowTasks(task_ids=follow.task_ids, skip_all_downstream=follow.skip_all_downstream)


def _bounded(result: Result, limits: Limits) -> Result:
    """A result whose return value is over the limit fails instead: the worker never sends it."""
    size = len(result.return_value_json.encode())
    if size <= limits.max_return_value_bytes:
        return result
    return Result(
        FAILED,
        f"return value is {size / wire.MiB:.1f} MB; the limit is {limits.max_return_value_bytes / wire.MiB:g} MB",
    )
