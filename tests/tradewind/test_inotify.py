"""Directory watches share one inotify instance per loop, and leaving the last one never closes
it on the loop."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tradewind.triggers import inotify
from tradewind.triggers.inotify import DirectoryWatch

pytestmark = pytest.mark.skipif(inotify._LIBC is None, reason="inotify is Linux's")


def _inotify_fds() -> int:
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == "anon_inode:inotify":
                count += 1
        except OSError:
            continue
    return count


async def _until(condition: object, deadline: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():  # type: ignore[operator]
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def test_more_watches_than_a_user_may_open_instances_share_one(tmp_path: Path) -> None:
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    count = min(limit + 10, 600)
    folders = [tmp_path / f"d{i}" for i in range(count)]
    for folder in folders:
        folder.mkdir()

    async def scenario() -> tuple[int, int, bool]:
        before = _inotify_fds()
        watches = [DirectoryWatch(str(folder)).__enter__() for folder in folders]
        opened = _inotify_fds() - before
        every_one_watching = all(w.watching for w in watches)
        (folders[-1] / "new.csv").write_text("x")
        await asyncio.wait_for(watches[-1].changed(60), 10)
        for watch in watches:
            watch.__exit__(None, None, None)
        await _until(lambda: _inotify_fds() == before)
        return opened, count, every_one_watching

    opened, count, every_one_watching = asyncio.run(scenario())
    assert opened == 1 and every_one_watching, f"{count} watches opened {opened} inotify instances"


def test_a_change_wakes_only_the_watches_of_its_directory(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    async def scenario() -> tuple[bool, bool]:
        with DirectoryWatch(str(tmp_path / "a")) as a, DirectoryWatch(str(tmp_path / "b")) as b:
            (tmp_path / "a" / "file").write_text("x")
            await asyncio.wait_for(a.changed(60), 10)  # the same read of the instance would have woken b
            assert a._event is not None and b._event is not None
            return a.watching, b._event.is_set()

    a_watching, b_woken = asyncio.run(scenario())
    assert a_watching and not b_woken


def test_two_watches_of_one_directory_outlive_each_other(tmp_path: Path) -> None:
    async def scenario() -> None:
        with DirectoryWatch(str(tmp_path)) as first:
            with DirectoryWatch(str(tmp_path)) as second:
                assert first._wd == second._wd
            (tmp_path / "after").write_text("x")
            await asyncio.wait_for(first.changed(60), 10)
            assert first.watching

    asyncio.run(scenario())


def test_a_removed_directory_leaves_its_watch_timing_out(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()

    async def scenario() -> tuple[bool, bool]:
        with DirectoryWatch(str(folder)) as watch:
            was = watch.watching
            folder.rmdir()
            await _until(lambda: not watch.watching)
            await watch.changed(0.01)
            return was, watch.watching

    was, now = asyncio.run(scenario())
    assert was and not now


@pytest.mark.skipif(sys.platform != "linux", reason="Linux only")
def test_a_folder_that_does_not_exist_falls_back_to_the_timeout(tmp_path: Path) -> None:
    async def scenario() -> bool:
        with DirectoryWatch(str(tmp_path / "missing")) as watch:
            await watch.changed(0.01)
            return watch.watching

    assert asyncio.run(scenario()) is False
