"""Task logs: one file per attempt under the log folder, and live fan-out to followers.

Everything runs on the coordinator's event loop, so reading a file and subscribing to its new
chunks happen with no await in between and a follower neither misses nor repeats a chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO, NamedTuple

from tradewind.exceptions import InvalidArgument

log = logging.getLogger("tradewind.coordinator")


class LogKey(NamedTuple):
    dag_id: str
    run_id: str
    task_id: str
    try_number: int
    #: -1 for a task that is not mapped.
    map_index: int = -1


class LogStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[LogKey, BinaryIO] = {}
        self._followers: dict[LogKey, set[asyncio.Queue[bytes | None]]] = {}
        #: The last write failed; the next failure is not logged again.
        self.failing = False

    def path(self, key: LogKey) -> Path:
        """The attempt's file; an id that could leave the log folder (a `/`, a NUL) is refused."""
        for what, value in (("dag_id", key.dag_id), ("run_id", key.run_id), ("task_id", key.task_id)):
            if not value or "/" in value or "\x00" in value:
                raise InvalidArgument(f"{what} {value!r} cannot name a log file")
        folder = self.root / f"dag_id={key.dag_id}" / f"run_id={key.run_id}" / f"task_id={key.task_id}"
        if key.map_index >= 0:
            folder = folder / f"map_index={key.map_index}"
        return folder / f"attempt={key.try_number}.log"

    def append(self, key: LogKey, data: bytes) -> None:
        """Write a chunk to the attempt's file and pass it to followers.

        A write that fails (a full disk) costs the chunk its place in the file, never the worker's
        stream or the run's state; it is logged loudly once, until a write succeeds again.
        """
        try:
            self._write(key, data)
        except OSError as exc:
            if not self.failing:
                log.error(
                    "cannot write task logs under %s (%s); log lines are being dropped until writing works again",
                    self.root,
                    exc,
                )
            self.failing = True
        else:
            if self.failing:
                log.warning("writing task logs under %s works again", self.root)
            self.failing = False
        for queue in self._followers.get(key, ()):
            queue.put_nowait(data)

    def _write(self, key: LogKey, data: bytes) -> None:
        handle = self._open.get(key)
        if handle is None:
            path = self.path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = self._open[key] = open(path, "ab", buffering=0)  # noqa: SIM115 - kept open per attempt
        handle.write(data)

    def close(self, key: LogKey) -> None:
        """The attempt ended: release its file and end every follower's stream."""
        handle = self._open.pop(key, None)
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
        for queue in self._followers.pop(key, set()):
            queue.put_nowait(None)

    def close_all(self) -> None:
        for key in list(self._open):
            self.close(key)

    def read(self, key: LogKey) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return b""

    async def follow(self, key: LogKey, live: Callable[[], bool]) -> AsyncIterator[bytes]:
        """What is written so far, then new chunks until the attempt ends (checked each second)."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        existing = self.read(key)
        if not live():
            if existing:
                yield existing
            return
        self._followers.setdefault(key, set()).add(queue)
        try:
            if existing:
                yield existing
            while True:
                try:
                    async with asyncio.timeout(1.0):  # wait_for could swallow the stream's cancel (3.11)
                        chunk = await queue.get()
                except TimeoutError:
                    if not live():
                        return
                    continue
                if chunk is None:
                    return
                yield chunk
        finally:
            followers = self._followers.get(key)
            if followers is not None:
                followers.discard(queue)
