from __future__ import annotations

import asyncio
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from tradewind.bundles import BundleError
from worker.bundles import BundleCache


def bundle(n: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("flow.py", f"N = {n}\n")
    return buffer.getvalue()


BUNDLES = {hashlib.sha256(data).hexdigest(): data for data in map(bundle, range(6))}
HASHES = list(BUNDLES)


def cache_in(root: Path, fetched: list[str]) -> BundleCache:
    async def fetch(bundle_hash: str) -> bytes:
        fetched.append(bundle_hash)
        return BUNDLES.get(bundle_hash, b"not the bundle")

    return BundleCache(root, fetch, keep=2, idle=100.0)


def test_a_bundle_is_fetched_once_and_checked_against_its_hash(tmp_path: Path) -> None:
    fetched: list[str] = []
    cache = cache_in(tmp_path, fetched)

    async def scenario() -> list[Path]:
        return list(await asyncio.gather(*(cache.ensure(HASHES[0]) for _ in range(5))))

    paths = asyncio.run(scenario())
    assert fetched == [HASHES[0]] and {p.name for p in paths} == {HASHES[0]}
    assert (paths[0] / "flow.py").read_text() == "N = 0\n"
    with pytest.raises(BundleError, match="arrived with a different hash"):
        asyncio.run(cache.ensure("f" * 64))


def dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def test_bundles_unused_for_a_while_are_evicted_except_the_newest_and_those_in_use(tmp_path: Path) -> None:
    cache, other_worker = cache_in(tmp_path, []), cache_in(tmp_path, [])

    async def scenario() -> list[str]:
        for bundle_hash in HASHES[:5]:
            await cache.ensure(bundle_hash)
        for age, bundle_hash in enumerate(reversed(HASHES[:5])):
            old = 1_000_000.0 - age * 10  # newest first: 0 is the newest
            os.utime(tmp_path / bundle_hash, (old, old))
        async with cache.use(HASHES[0]):
            os.utime(tmp_path / HASHES[0], (1.0, 1.0))  # in use, however old
            return other_worker.evict(now=1_000_000.0 + 1000)

    removed = asyncio.run(scenario())
    assert sorted(removed) == sorted(HASHES[1:3])
    assert dirs(tmp_path) == sorted([HASHES[0], *HASHES[3:5]])


def test_recently_used_bundles_are_kept_whatever_their_number(tmp_path: Path) -> None:
    cache = cache_in(tmp_path, [])

    async def scenario() -> list[str]:
        for bundle_hash in HASHES:
            await cache.ensure(bundle_hash)
        return cache.evict()

    assert asyncio.run(scenario()) == []
    assert len(dirs(tmp_path)) == len(HASHES)


@pytest.mark.parametrize("bad", ["../" + "a" * 61, "../../etc", "A" * 64, "a" * 63 + "/", ""])
def test_a_bundle_hash_that_is_not_64_hex_digits_never_names_a_folder(tmp_path: Path, bad: str) -> None:
    fetched: list[str] = []
    cache = cache_in(tmp_path / "cache", fetched)
    with pytest.raises(BundleError, match="64 lowercase hex digits"):
        asyncio.run(cache.ensure(bad))
    assert fetched == [] and not (tmp_path / "etc").exists()


def test_a_bundle_being_evicted_is_waited_for_without_holding_the_loop(tmp_path: Path) -> None:
    import fcntl

    cache = cache_in(tmp_path, [])

    async def scenario() -> tuple[bool, bool]:
        await cache.ensure(HASHES[0])
        with open(tmp_path / f".{HASHES[0]}.lock", "ab") as evicting:
            fcntl.flock(evicting, fcntl.LOCK_EX)
            entered = asyncio.Event()

            async def user() -> None:
                async with cache.use(HASHES[0]):
                    entered.set()

            using = asyncio.create_task(user())
            for _ in range(10):  # the loop still turns while the user waits
                await asyncio.sleep(0)
            waited = not entered.is_set()
            fcntl.flock(evicting, fcntl.LOCK_UN)
        await asyncio.wait_for(using, 10)
        return waited, entered.is_set()

    waited, entered = asyncio.run(scenario())
    assert waited and entered
