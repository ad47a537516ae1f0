"""FileTrigger: fires when a file matching a path or glob exists.

It is told of new files by inotify where Linux has it (through ctypes: no library), and looks
again every `poke_interval` seconds in any case, so it works on any file system and platform.
"""

from __future__ import annotations

import glob
import os
from collections.abc import AsyncIterator
from typing import Any

from tradewind.triggers.base import BaseTrigger, TriggerEvent
from tradewind.triggers.inotify import DirectoryWatch


class FileTrigger(BaseTrigger):
    def __init__(self, filepath: str, recursive: bool = False, poke_interval: float = 5.0, **kwargs: Any) -> None:
        super().__init__()
        self.filepath = filepath
        self.recursive = recursive
        self.poke_interval = float(poke_interval)

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

    async def run(self) -> AsyncIterator[TriggerEvent]:
        with DirectoryWatch(watched_directory(self.filepath)) as watch:
            while self.found() is None:
                await watch.changed(self.poke_interval)
        yield TriggerEvent(True)


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
