"""Workers and triggerers known to the scheduler: what each serves, its free slots and when it
was last heard.

Heartbeats only touch `last_seen` and the load figures here, in memory: a heartbeat costs
no metastore write.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(eq=False)
class WorkerSession:
    name: str
    queues: tuple[str, ...]
    kinds: frozenset[str]
    slots: int
    host: str = ""
    pid: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    version: str = ""
    connected_at: datetime | None = None
    #: Monotonic seconds of the last message from the worker.
    last_seen: float = 0.0
    last_heartbeat_at: datetime | None = None
    connected: bool = True
    draining: bool = False
    #: Task instance ids it holds (queued or running).
    running: set[int] = field(default_factory=set)
    cpu_percent: float = 0.0
    memory_percent: float = 0.0
    rss_bytes: int = 0
    #: (cpu percent, memory percent) of recent heartbeats, oldest first.
    history: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=60))
    #: Bumped on every new stream, so a closed old stream cannot disconnect a newer one.
    generation: int = 0
    #: Chosen once per worker process: tells a reconnect from another worker with this name.
    instance_id: str = ""
    #: Attempt ids cancelled while running here: they hold a slot until the worker reports them.
    cancelled: set[int] = field(default_factory=set)
    #: It refused an assignment for want of a slot: it gets nothing until one of its attempts ends.
    full: bool = False

    @property
    def free(self) -> int:
        if not self.connected or self.draining or self.full:
            return 0
        return max(self.slots - len(self.running) - len(self.cancelled), 0)

    @property
    def state(self) -> str:
        if self.draining:
            return "draining"
        return "active" if self.connected else "disconnected"


@dataclass(eq=False)
class TriggererSession:
    """A triggerer's session (triggerer.proto): the triggers it runs and when it was last heard."""

    name: str
    instance_id: str
    capacity: int
    host: str = ""
    pid: int = 0
    version: str = ""
    connected_at: datetime | None = None
    #: Monotonic seconds of the last message from the triggerer.
    last_seen: float = 0.0
    generation: int = 0
    #: Trigger ids it runs.
    triggers: set[int] = field(default_factory=set)
    rss_bytes: int = 0
    cpu_percent: float = 0.0

    @property
    def free(self) -> int:
        return max(self.capacity - len(self.triggers), 0)
