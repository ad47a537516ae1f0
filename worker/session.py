"""The worker's side of the protocol, without I/O: slots, running attempts, unacknowledged results.

The agent feeds it what arrives and asks it what to answer; tests drive it directly.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tradewind.v1 import common_pb2, worker_pb2

AttemptKey = tuple[int, str]
LOG_BUFFER_BYTES = 8 * 1024 * 1024


def key_of(attempt: common_pb2.Attempt) -> AttemptKey:
    return attempt.task_instance_id, attempt.attempt_token


@dataclass
class Running:
    attempt: common_pb2.Attempt
    kind: str
    task: Any = None
    cancel_reason: str = ""


@dataclass
class Session:
    slots: int
    kinds: frozenset[str]
    draining: bool = False
    running: dict[AttemptKey, Running] = field(default_factory=dict)
    #: TaskFinished messages sent but not yet acknowledged, in the order they were produced.
    unacked: dict[AttemptKey, worker_pb2.WorkerMessage] = field(default_factory=dict)
    #: Messages produced while disconnected, sent after the next Welcome.
    pending: deque[worker_pb2.WorkerMessage] = field(default_factory=deque)
    pending_log_bytes: int = 0
    dropped_log_bytes: int = 0

    def refusal(self, kind: str) -> str:
        """Why an assignment of this kind cannot be taken now; empty when it can."""
        if self.draining:
            return "draining"
        if kind not in self.kinds:
            return f"this worker does not run {kind} tasks"
        if len(self.running) >= self.slots:
            return f"no free slot ({self.slots} in use)"
        return ""

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
        """Keep a message for the next connection; log bytes beyond 8 MB are dropped, oldest first."""
        if message.WhichOneof("body") == "heartbeat":
            return
        if message.WhichOneof("body") == "finished":
            return  # resent from `unacked` after the next Welcome
        if message.WhichOneof("body") == "log":
            size = len(message.log.data)
            self.pending_log_bytes += size
            while self.pending_log_bytes > LOG_BUFFER_BYTES and self.pending:
                oldest = self.pending.popleft()
                if oldest.WhichOneof("body") == "log":
                    self.pending_log_bytes -= len(oldest.log.data)
                    self.dropped_log_bytes += len(oldest.log.data)
        self.pending.append(message)

    def after_welcome(self, rejected: list[common_pb2.Attempt]) -> list[worker_pb2.WorkerMessage]:
        """What to send once a (re)connection is welcomed: held messages, then unacknowledged results."""
        for attempt in rejected:
            self.unacked.pop(key_of(attempt), None)
        rejected_keys = {key_of(a) for a in rejected}
        out = [m for m in self.pending if key_of(_attempt_of(m)) not in rejected_keys]
        self.pending.clear()
        self.pending_log_bytes = 0
        return out + list(self.unacked.values())

    def running_attempts(self) -> list[common_pb2.Attempt]:
        return [entry.attempt for entry in self.running.values()]


def _attempt_of(message: worker_pb2.WorkerMessage) -> common_pb2.Attempt:
    body = message.WhichOneof("body")
    return getattr(message, body).attempt if body else common_pb2.Attempt()
