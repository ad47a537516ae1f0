"""Run one attempt: fork it, stream its output, enforce its timeout, report how it ended."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tradewind.exceptions import TradewindError
from tradewind.forkserver import ChildExit, ForkServer
from tradewind.v1 import common_pb2, worker_pb2
from tradewind.wire import to_timestamp
from worker.bundles import BundleCache
from worker.payloads import FAILED, Result
from worker.payloads import bash as bash_payload
from worker.payloads import python as python_payload
from worker.session import Running

Emit = Callable[[worker_pb2.WorkerMessage], None]
FLUSH_BYTES = 32 * 1024
FLUSH_SECONDS = 0.02


class LogPump(asyncio.Protocol):
    """Reads a task's output pipe and emits it as LogChunks, coalesced by size and time."""

    def __init__(self, attempt: common_pb2.Attempt, emit: Emit) -> None:
        self.attempt = attempt
        self.emit = emit
        self.buffer = bytearray()
        self.timer: asyncio.TimerHandle | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= FLUSH_BYTES:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.buffer:
            self.emit(worker_pb2.WorkerMessage(log=worker_pb2.LogChunk(attempt=self.attempt, data=bytes(self.buffer))))
            self.buffer.clear()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.flush()
        if not self.closed.done():
            self.closed.set_result(None)


class Runner:
    def __init__(self, forkserver: ForkServer, bundles: BundleCache, emit: Emit) -> None:
        self.forkserver = forkserver
        self.bundles = bundles
        self.emit = emit

    async def run(self, assignment: worker_pb2.Assignment, entry: Running) -> worker_pb2.WorkerMessage:
        attempt = assignment.attempt
        workdir = Path(tempfile.mkdtemp(prefix=f"tw-{attempt.task_instance_id}-"))
        try:
            result, usage = await self._run(assignment, entry, workdir)
        except TradewindError as exc:
            result, usage = Result(FAILED, f"{type(exc).__name__}: {exc}"), ChildExit(1, 0.0, 0.0, 0)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return worker_pb2.WorkerMessage(
            finished=worker_pb2.TaskFinished(
                attempt=attempt,
                outcome=result.outcome,
                exit_code=usage.returncode,
                error=result.error,
                return_value_json=result.return_value_json,
                ended_at=to_timestamp(datetime.now(UTC)),
                usage=common_pb2.ResourceUsage(
                    cpu_user_seconds=usage.cpu_user,
                    cpu_system_seconds=usage.cpu_system,
                    max_rss_bytes=usage.max_rss_bytes,
                ),
            )
        )

    async def _run(self, assignment: worker_pb2.Assignment, entry: Running, workdir: Path) -> tuple[Result, ChildExit]:
        payload = assignment.payload
        kind = payload.WhichOneof("kind")
        if kind == "bash":
            launch = bash_payload.prepare(payload.bash, workdir)
        elif kind == "python":
            bundle_dir = await self.bundles.ensure(payload.python.bundle_hash)
            launch = python_payload.prepare(payload.python, bundle_dir, workdir)
        else:
            return Result(FAILED, f"unknown payload kind {kind!r}"), ChildExit(1, 0.0, 0.0, 0)
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
                    attempt=assignment.attempt, pid=child.pid, started_at=to_timestamp(datetime.now(UTC))
                )
            )
        )
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        transport, pump = await loop.connect_read_pipe(lambda: LogPump(assignment.attempt, self.emit), pipe)
        timeout = assignment.execution_timeout_ms / 1000 or None
        killed_for = ""
        try:
            ended = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(child.exit)), timeout)
        except TimeoutError:
            killed_for = f"execution_timeout of {timeout:g}s exceeded"
            child.kill()
            ended = await asyncio.wrap_future(child.exit)
        except asyncio.CancelledError:
            child.kill()
            await asyncio.shield(asyncio.wrap_future(child.exit))
            raise
        finally:
            child.kill(signal.SIGKILL)
            try:
                await asyncio.wait_for(asyncio.shield(pump.closed), 2.0)
            except TimeoutError:
                transport.close()
        if killed_for:
            return Result(worker_pb2.TASK_OUTCOME_TIMED_OUT, killed_for), ended
        if kind == "bash":
            return bash_payload.interpret(payload.bash, ended.returncode), ended
        return python_payload.interpret(workdir, ended.returncode), ended
