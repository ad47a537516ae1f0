"""DAG bundles on the worker: fetched from the coordinator by content hash, cached on disk."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from tradewind.bundles import BundleError, extract_bundle


class BundleCache:
    def __init__(self, root: Path, fetch: Callable[[str], Awaitable[bytes]]) -> None:
        self.root = root
        self.fetch = fetch
        self._locks: dict[str, asyncio.Lock] = {}

    async def ensure(self, bundle_hash: str) -> Path:
        """The extracted bundle's folder; fetched once however many tasks need it at the same time."""
        target = self.root / bundle_hash
        if target.exists():
            return target
        lock = self._locks.setdefault(bundle_hash, asyncio.Lock())
        async with lock:
            if not target.exists():
                data = await self.fetch(bundle_hash)
                if hashlib.sha256(data).hexdigest() != bundle_hash:
                    raise BundleError(f"DAG bundle {bundle_hash} arrived with a different hash")
                await asyncio.to_thread(extract_bundle, data, target)
        return target
