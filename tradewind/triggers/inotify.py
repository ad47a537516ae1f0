"""Directory watches: inotify through ctypes on Linux, a plain timeout elsewhere.

`changed(timeout)` returns when something in the directory was created, moved in, written or
removed, or after `timeout` seconds, whichever comes first; callers look again either way, so
a missed event (another file system) costs at most one timeout.

All the watches of one event loop share one inotify instance: a user may open only
`fs.inotify.max_user_instances` of them (128 by default), far fewer than the file triggers a
triggerer runs. Closing an instance waits for the kernel to retire it (tens of milliseconds),
so the last watch to leave closes it on a thread of its own, never on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import struct
import sys
import threading
import weakref
from types import TracebackType

_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
#: IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY
_MASK = 0x8 | 0x80 | 0x100 | 0x200 | 0x2
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_HEADER = struct.Struct("iIII")


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        libc.inotify_rm_watch.argtypes = [ctypes.c_int, ctypes.c_int]
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


class _Instance:
    """One inotify instance on one loop: watch descriptors by directory, waiters by descriptor."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.loop = loop
        self.fd = fd
        self.waiters: dict[int, set[asyncio.Event]] = {}
        loop.add_reader(fd, self._readable)

    def add(self, directory: str, waiter: asyncio.Event) -> int | None:
        assert _LIBC is not None
        wd = _LIBC.inotify_add_watch(self.fd, os.fsencode(directory), _MASK)
        if wd < 0:
            return None
        self.waiters.setdefault(wd, set()).add(waiter)
        return int(wd)

    def remove(self, wd: int, waiter: asyncio.Event) -> None:
        waiting = self.waiters.get(wd)
        if waiting is None:
            return
        waiting.discard(waiter)
        if not waiting:
            del self.waiters[wd]
            assert _LIBC is not None
            _LIBC.inotify_rm_watch(self.fd, wd)

    def close(self) -> None:
        self.loop.remove_reader(self.fd)
        threading.Thread(target=os.close, args=(self.fd,), name="inotify-close", daemon=True).start()

    def _readable(self) -> None:
        woken: set[int] = set()
        overflow = False
        with contextlib.suppress(BlockingIOError, OSError):
            while data := os.read(self.fd, 65536):
                offset = 0
                while offset + _HEADER.size <= len(data):
                    wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
                    offset += _HEADER.size + length
                    overflow = overflow or bool(mask & _IN_Q_OVERFLOW)
                    woken.add(wd)
                    if mask & _IN_IGNORED:
                        for waiter in self.waiters.pop(wd, set()):
                            waiter.set()
        for wd in self.waiters if overflow else woken:
            for waiter in self.waiters.get(wd, ()):
                waiter.set()


_INSTANCES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Instance] = weakref.WeakKeyDictionary()


def _instance(loop: asyncio.AbstractEventLoop) -> _Instance | None:
    found = _INSTANCES.get(loop)
    if found is not None or _LIBC is None:
        return found
    fd = _LIBC.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
    if fd < 0:
        return None
    _INSTANCES[loop] = found = _Instance(loop, fd)
    return found


def _close_if_unused(instance: _Instance) -> None:
    if instance.waiters:
        return
    if _INSTANCES.get(instance.loop) is instance:
        del _INSTANCES[instance.loop]
    instance.close()


class DirectoryWatch:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._event: asyncio.Event | None = None
        self._wd: int | None = None
        self._instance: _Instance | None = None

    def __enter__(self) -> DirectoryWatch:
        loop = asyncio.get_running_loop()
        instance = _instance(loop)
        if instance is None:
            return self
        event = asyncio.Event()
        wd = instance.add(self.directory, event)
        if wd is None:
            _close_if_unused(instance)
            return self
        self._instance, self._wd, self._event = instance, wd, event
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        instance, self._instance = self._instance, None
        if instance is None or self._wd is None or self._event is None:
            return
        instance.remove(self._wd, self._event)
        _close_if_unused(instance)

    @property
    def watching(self) -> bool:
        """Whether the kernel tells this watch of changes (else it only times out)."""
        return self._instance is not None and self._wd in self._instance.waiters

    async def changed(self, timeout: float) -> None:
        if self._event is None:
            await asyncio.sleep(timeout)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):  # wait_for could swallow the trigger's cancel (3.11)
                await self._event.wait()
        self._event.clear()
