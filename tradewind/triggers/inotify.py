"""A directory watch: inotify through ctypes on Linux, a plain timeout elsewhere.

`changed(timeout)` returns when something in the directory was created, moved in, written or
removed, or after `timeout` seconds, whichever comes first; callers look again either way, so
a missed event (another file system, a directory made later) costs at most one timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import sys
from types import TracebackType

_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
#: IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY
_MASK = 0x8 | 0x80 | 0x100 | 0x200 | 0x2


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


class DirectoryWatch:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._fd = -1
        self._event: asyncio.Event | None = None

    def __enter__(self) -> DirectoryWatch:
        if _LIBC is None:
            return self
        fd = _LIBC.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return self
        if _LIBC.inotify_add_watch(fd, os.fsencode(self.directory), _MASK) < 0:
            os.close(fd)
            return self
        self._fd = fd
        self._event = asyncio.Event()
        asyncio.get_running_loop().add_reader(fd, self._readable)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._fd >= 0:
            asyncio.get_running_loop().remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1

    def _readable(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._fd, 65536):
                pass
        if self._event is not None:
            self._event.set()

    async def changed(self, timeout: float) -> None:
        if self._event is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()
