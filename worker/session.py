"""The worker's side of the protocol, without I/O: slots, running attempts, unacknowledged results.

The agent feeds it what arrives and asks it what to answer; tests drive it directly.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tradewind import wire
from tradewind.v1 import common_pb2, worker_pb2

AttemptKey = tuple[int, str]
LOG_BUFFER_BYTES = 8 * 1024 * 1024


def key_of(attempt: common_pb2.Attempt) -> AttemptKey:
    return attempt.task_instance_id, attempt.attempt_token


@dataclass(frozen=True)
class Limits:
    """What Welcome told this worker; the wire defaults until a Welcome says otherwise."""

    max_return_value_bytes: int = wire.MAX_RETURN_VALUE_BYTES
    max_log_chunk_bytes: int = wire.MAX_LOG_CHUNK_BYTES
    max_error_bytes: int = wire.MAX_ERROR_CHARS
    kill_grace: float = wire.KILL_GRACE_SECONDS

    @classmethod
    def from_welcome(cls, welcome: worker_pb2.Welcome) -> Limits:
        """A field the coordinator left at 0 keeps its default."""
        limits = welcome.limits
        default = cls()
        return cls(
            limits.max_return_value_bytes or default.max_return_value_bytes,
            limits.max_log_chunk_bytes or default.max_log_chunk_bytes,
            limits.max_error_bytes or default.max_error_bytes,
            welcome.kill_grace_period_ms / 1000 if welcome.kill_grace_period_ms > 0 else default.kill_grace,
        )

    def cut_error(self, text: str) -> str:
        """`text` cut so its UTF-8 fits max_error_bytes (which also bounds its characters)."""
        data = text.encode()
        if len(data) <= self.max_error_bytes:
            return text
        return data[: self.max_error_bytes].decode(errors="ignore")


@dataclass
class Stop:
    """Why an attempt is being stopped and how it will be reported."""

    reason: str
    outcome: wire.Outcome
    grace: float


@dataclass
class Running:
    attempt: common_pb2.Attempt
    kind: str
    task: Any = None
    stop: Stop | None = None
    #: Set on each stop request; the runner waits on it.
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    def request_stop(self, stop: Stop) -> None:
        """Ask the runner to end the attempt; a later request only shortens the grace."""
        if self.stop is None:
            self.stop = stop
        elif stop.grace < self.stop.grace:
            self.stop = Stop(self.stop.reason, self.stop.outcome, stop.grace)
        self.stopped.set()


@dataclass
class Session:
    slots: int
    kinds: frozenset[str]
    draining: bool = False
    limits: Limits = field(default_factory=Limits)
    running: dict[AttemptKey, Running] = field(default_factory=dict)
    #: TaskFinished messages sent but not yet acknowledged, in the order they were produced.
    unacked: dict[AttemptKey, worker_pb2.WorkerMessage] = field(default_factory=dict)
    #: TaskStarted messages produced while disconnected, sent first after the next Welcome.
    pending_started: list[worker_pb2.WorkerMessage] = field(default_factory=list)
    #: LogChunks produced while disconnected, oldest first.
    pending_logs: deque[worker_pb2.WorkerMessage] = field(default_factory=deque)
    pending_log_bytes: int = 0
    #: Bytes of held output dropped for each attempt since the last Welcome.
    dropped: dict[AttemptKey, tuple[common_pb2.Attempt, int]] = field(default_factory=dict)

    def refusal(self, kind: str) -> tuple[wire.Refusal, str] | None:
        """Why an assignment of this kind cannot be taken now; None when it can."""
        if self.draining:
            return wire.Refusal.DRAINING, "draining"
        if kind not in self.kinds:
            return wire.Refusal.UNSUPPORTED_KIND, f"this worker does not run {kind} tasks"
        if len(self.running) >= self.slots:
            return wire.Refusal.NO_FREE_SLOT, f"no free slot ({self.slots} in use)"
        return None

    def start(self, attempt: common_pb2.Attempt, kind: str) -> Running:
        entry = Running(attempt, kind)
        self.running[key_of(attempt)] = entry
        return entry

    def finish(self, message: worker_pb2.WorkerMessage) -> None:
        key = key_of(message.finished.attempt)
        self.running.pop(key, None)
        self.unacked[key] = message

    def acked(self, attempt: common_pb2.Attempt) -> None:
        self.unacked.pop(key_of(attempt), None)

    def hold(self, message: worker_pb2.WorkerMessage) -> None:
        """Keep what must be replayed after the next Welcome; log bytes beyond 8 MB are dropped, oldest first.

        Results are replayed from `unacked`; heartbeats, acks and drain notices belong to the
        stream they were meant for."""
        body = message.WhichOneof("body")
        if body == "started":
            self.pending_started.append(message)
        elif body == "log":
            self.pending_logs.append(message)
            self.pending_log_bytes += len(message.log.data)
            while self.pending_log_bytes > LOG_BUFFER_BYTES and self.pending_logs:
                oldest = self.pending_logs.popleft()
                self.pending_log_bytes -= len(oldest.log.data)
                key = key_of(oldest.log.attempt)
                before = self.dropped.get(key, (oldest.log.attempt, 0))[1]
                self.dropped[key] = (oldest.log.attempt, before + len(oldest.log.data))

    @property
    def dropped_log_bytes(self) -> int:
        return sum(size for _, size in self.dropped.values())

    def after_welcome(self, rejected: list[common_pb2.Attempt]) -> list[worker_pb2.WorkerMessage]:
        """The replay once a (re)connection is welcomed, in worker.proto's order: held starts,
        held logs (each attempt's first chunk saying how much was dropped), unacknowledged results."""
        rejected_keys = {key_of(a) for a in rejected}
        for key in rejected_keys:
            self.unacked.pop(key, None)
        out = [m for m in self.pending_started if key_of(m.started.attempt) not in rejected_keys]
        noted: set[AttemptKey] = set()
        for message in self.pending_logs:
            key = key_of(message.log.attempt)
            if key in rejected_keys:
                continue
            if key in self.dropped and key not in noted:
                noted.add(key)
                out.append(dropped_note(*self.dropped[key]))
            out.append(message)
        for key, (attempt, size) in self.dropped.items():
            if key not in noted and key not in rejected_keys:
                out.append(dropped_note(attempt, size))
        self.pending_started.clear()
        self.pending_logs.clear()
        self.pending_log_bytes = 0
        self.dropped.clear()
        return out + list(self.unacked.values())

    def running_attempts(self) -> list[common_pb2.Attempt]:
        return [entry.attempt for entry in self.running.values()]


def dropped_note(attempt: common_pb2.Attempt, size: int) -> worker_pb2.WorkerMessage:
    text = f"\n... {size} bytes of output were dropped while the coordinator was unreachable\n"
    return worker_pb2.WorkerMessage(log=worker_pb2.LogChunk(attempt=attempt, data=text.encode()))
