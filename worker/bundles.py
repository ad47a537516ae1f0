"""DAG bundles on the worker: fetched from the coordinator by content hash, cached on disk.

Every edit of the DAG folder makes a new bundle, so the cache forgets bundles nobody has
used for a while; the newest few and those in use stay. Workers may share a cache folder
(`coordinator standalone`'s do), so "in use" is a shared flock on the bundle's lock file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from tradewind.bundles import BundleError, extract_bundle

_HASH = re.compile(r"[0-9a-f]{64}")
#: Bundles kept whatever their age.
KEEP = 8
#: A bundle beyond the newest KEEP is removed once unused this long.
IDLE_SECONDS = 3600.0


class BundleCache:
    def __init__(
        self, root: Path, fetch: Callable[[str], Awaitable[bytes]], keep: int = KEEP, idle: float = IDLE_SECONDS
    ) -> None:
        self.root = root
        self.fetch = fetch
        self.keep = keep
        self.idle = idle
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def use(self, bundle_hash: str) -> AsyncIterator[Path]:
        """The extracted bundle's folder, kept from eviction (by any process) until the block ends."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path(bundle_hash), "ab") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # an eviction holds it: wait off the loop
                await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_SH)
            yield await self.ensure(bundle_hash)

    async def ensure(self, bundle_hash: str) -> Path:
        """The extracted bundle's folder; fetched once however many tasks need it at the same time.

        The hash names a folder, so only a SHA-256 in hex is accepted; the data fetched must have it."""
        self._lock_path(bundle_hash)
        target = self.root / bundle_hash
        if target.exists():
            _touch(target)
            return target
        lock = self._locks.setdefault(bundle_hash, asyncio.Lock())
        async with lock:
            if not target.exists():
                data = await self.fetch(bundle_hash)
                if hashlib.sha256(data).hexdigest() != bundle_hash:
                    raise BundleError(f"DAG bundle {bundle_hash} arrived with a different hash")
                await asyncio.to_thread(extract_bundle, data, target)
                await asyncio.to_thread(self.evict)
        self._locks.pop(bundle_hash, None)
        return target

    def evict(self, now: float | None = None) -> list[str]:
        """Remove bundles beyond the newest `keep` that were unused for `idle` seconds; returns their hashes."""
        now = time.time() if now is None else now
        found = []
        for path in self.root.iterdir():
            if path.is_dir() and _HASH.fullmatch(path.name):
                with contextlib.suppress(FileNotFoundError):
                    found.append((path.stat().st_mtime, path))
        found.sort(reverse=True)
        removed = []
        for used_at, path in found[self.keep :]:
            if now - used_at < self.idle:
                continue
            with open(self._lock_path(path.name), "ab") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                shutil.rmtree(path, ignore_errors=True)
                self._lock_path(path.name).unlink(missing_ok=True)
            removed.append(path.name)
        return removed

    def _lock_path(self, bundle_hash: str) -> Path:
        if not _HASH.fullmatch(bundle_hash):
            raise BundleError(f"a DAG bundle hash is 64 lowercase hex digits, not {bundle_hash[:80]!r}")
        return self.root / f".{bundle_hash}.lock"


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)
