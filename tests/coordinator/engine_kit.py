"""An engine on a real Store (temp SQLite) and a fake clock, driven turn by turn."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coordinator.clock import FakeClock
from coordinator.dagspec import DagSpec
from coordinator.engine import Engine
from coordinator.events import AttemptRef, Command, WorkerJoined
from coordinator.logs import LogStore
from coordinator.metastore.db import connect
from coordinator.metastore.store import Store
from coordinator.sessions import WorkerSession
from tradewind.v1 import worker_pb2

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def make_engine(
    tmp_path: Path,
    clock: FakeClock | None = None,
    url: str = "",
    store: Store | None = None,
    engine_class: type[Engine] = Engine,
) -> Engine:
    """A started engine on `store`, or on `url` or tmp_path/meta.db; a second call on the same one is a restart."""
    store = store or Store(connect(url or f"sqlite:///{tmp_path / 'meta.db'}"))
    engine = engine_class(
        store,
        clock or FakeClock(),
        LogStore(tmp_path / "logs"),
        sequential=False,
        ack_timeout=5,
        heartbeat_timeout=10,
        default_pool_slots=8,
    )
    engine.start()
    return engine


def add_dag(engine: Engine, data: dict[str, Any]) -> None:
    version, _ = engine.store.save_dag_version(data, "h1", "e" * 64, NOW, {"fileloc": data["fileloc"]})
    assert version is not None
    engine.scheduler.register_dag(DagSpec.build(version.id, data, "e" * 64), False, None)


async def command(engine: Engine, name: str, /, **args: Any) -> Any:
    reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    await engine.turn([Command(name, args, reply)])
    return await reply


async def join(
    engine: Engine, name: str = "w1", running: tuple[AttemptRef, ...] = (), instance_id: str = "i1"
) -> asyncio.Queue[worker_pb2.CoordinatorMessage | None]:
    """Join a worker the way its stream handler does; returns the stream's outbound queue."""
    session = WorkerSession(name, ("default",), frozenset({"bash", "python"}), 4, instance_id=instance_id)
    outbound: asyncio.Queue[worker_pb2.CoordinatorMessage | None] = asyncio.Queue()
    engine.streams[name] = (-1, outbound)
    reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    await engine.turn([WorkerJoined(session, running, reply)])
    await reply
    engine.streams[name] = (session.generation, outbound)
    return outbound


def sent(outbound: asyncio.Queue[Any], kind: str) -> list[Any]:
    """Drain the outbound queue; the messages of one kind (assignment, cancel, ...)."""
    found = []
    while not outbound.empty():
        message = outbound.get_nowait()
        if message is not None and message.WhichOneof("body") == kind:
            found.append(getattr(message, kind))
    return found
