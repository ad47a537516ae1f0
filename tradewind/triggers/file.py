"""FileTrigger: fires when a file matching a path or glob exists; FileDeleteTrigger: fires when
a file exists, after deleting it (Airflow's trigger for an asset watcher on a file).

For an asset watcher it fires once per new file instead, with the file's path as payload: the
files there when the watcher starts (on a triggerer) count as seen, and each file that appears
later fires once.

It is told of new files by inotify where Linux has it (through ctypes: no library), and looks
again every `poke_interval` seconds in any case, so it works on any file system and platform.
A folder of the pattern that does not exist yet is watched through its deepest existing parent,
and the watch moves into it as soon as it appears.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from tradewind.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent
from tradewind.triggers.inotify import DirectoryWatch

log = logging.getLogger("tradewind.triggers")


class FileTrigger(BaseTrigger):
    def __init__(self, filepath: str, recursive: bool = False, poke_interval: float = 5.0, **kwargs: Any) -> None:
        super().__init__()
        self.filepath = filepath
        self.recursive = recursive
        self.poke_interval = float(poke_interval)
        self._seen: set[str] | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "tradewind.triggers.file.FileTrigger",
            {"filepath": self.filepath, "recursive": self.recursive, "poke_interval": self.poke_interval},
        )

    def found(self) -> str | None:
        for path in glob.glob(self.filepath, recursive=self.recursive):
            if os.path.isfile(path):
                return path
            for _, _, files in os.walk(path):
                if files:
                    return path
        return None

    def files(self) -> set[str]:
        """Every file the pattern matches, or that is under a directory it matches."""
        out: set[str] = set()
        for path in glob.glob(self.filepath, recursive=self.recursive):
            if os.path.isfile(path):
                out.add(path)
            for root, _, files in os.walk(path):
                out.update(os.path.join(root, name) for name in files)
        return out

    async def run(self) -> AsyncIterator[TriggerEvent]:
        if self.watching:
            async for event in self._new_files():
                yield event
            return
        async with contextlib.aclosing(wakeups(self.filepath, self.poke_interval)) as wakes:
            async for _ in wakes:
                if self.found() is not None:
                    break
        yield TriggerEvent(True)

    async def _new_files(self) -> AsyncIterator[TriggerEvent]:
        if self._seen is None:
            self._seen = self.files()
            log.info("watching %s for new files (%d there already)", self.filepath, len(self._seen))
        async with contextlib.aclosing(wakeups(self.filepath, self.poke_interval)) as wakes:
            async for _ in wakes:
                for path in sorted(self.files() - self._seen):
                    self._seen.add(path)
                    yield TriggerEvent(path)


class FileDeleteTrigger(BaseEventTrigger):
    """Waits for the file `filepath` (no glob), deletes it, and fires with True; as a watcher it is
    re-armed, so each time the file is written again is one event."""

    def __init__(self, filepath: str, poke_interval: float = 5.0, **kwargs: Any) -> None:
        super().__init__()
        self.filepath = filepath
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return "tradewind.triggers.file.FileDeleteTrigger", {
            "filepath": self.filepath,
            "poke_interval": self.poke_interval,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async with contextlib.aclosing(wakeups(self.filepath, self.poke_interval)) as wakes:
            async for _ in wakes:
                if os.path.isfile(self.filepath):
                    break
        log.info("found %s; deleting it", self.filepath)
        os.remove(self.filepath)
        yield TriggerEvent(True)


async def wakeups(pattern: str, poke_interval: float) -> AsyncGenerator[None, None]:
    """Yields at once, then after each change in the deepest existing directory above `pattern`
    or after `poke_interval` seconds; when a missing directory of the pattern appears (or the
    watched one goes), the watch moves to the new deepest one, and it yields again at once."""
    while True:
        directory = watched_directory(pattern)
        with DirectoryWatch(directory) as watch:
            while True:
                yield
                await watch.changed(poke_interval)
                if watched_directory(pattern) != directory:
                    break


def watched_directory(pattern: str) -> str:
    """The deepest existing directory above the first wildcard of `pattern`."""
    head = pattern
    for index, char in enumerate(pattern):
        if char in "*?[":
            head = pattern[:index]
            break
    directory = os.path.dirname(head) if not os.path.isdir(head) else head
    while directory and not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    return directory or "/"
