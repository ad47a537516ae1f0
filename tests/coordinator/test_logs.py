from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from coordinator.logs import LogKey, LogStore

KEY = LogKey("etl", "manual__1", "extract", 1)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_log_folder_that_cannot_be_written_is_logged_once_and_followers_still_get_the_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    root.chmod(0o500)
    try:
        _assert_full_disk_is_survived(LogStore(root), caplog)
    finally:
        root.chmod(0o700)


def test_a_full_disk_is_logged_once_and_followers_still_get_the_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LogStore(tmp_path / "logs")
    full = OSError(28, "No space left on device")

    def no_space(key: LogKey, data: bytes) -> None:
        raise full

    monkeypatch.setattr(store, "_write", no_space)
    _assert_full_disk_is_survived(store, caplog)
    monkeypatch.undo()
    store.append(KEY, b"room again\n")
    store.close(KEY)
    assert store.read(KEY) == b"room again\n"
    assert "works again" in caplog.text


def _assert_full_disk_is_survived(store: LogStore, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[bytes]:
        received: list[bytes] = []
        alive = True

        async def follow() -> None:
            async for chunk in store.follow(KEY, lambda: alive):
                received.append(chunk)

        follower = asyncio.create_task(follow())
        async with asyncio.timeout(10):
            while not store._followers.get(KEY):
                await asyncio.sleep(0)
        for n in range(3):
            store.append(KEY, f"line {n}\n".encode())
        alive = False
        store.close(KEY)
        await follower
        return received

    with caplog.at_level(logging.ERROR, logger="tradewind.coordinator"):
        received = asyncio.run(scenario())
    assert received == [b"line 0\n", b"line 1\n", b"line 2\n"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "cannot write task logs" in errors[0].getMessage()
    assert store.failing


@pytest.mark.parametrize(
    "bad", [KEY._replace(dag_id="../../x"), KEY._replace(run_id="a/../../b"), KEY._replace(task_id="")]
)
def test_an_id_that_could_leave_the_log_folder_names_no_file(tmp_path: Path, bad: LogKey) -> None:
    from tradewind.exceptions import InvalidArgument

    with pytest.raises(InvalidArgument, match="cannot name a log file"):
        LogStore(tmp_path / "logs").path(bad)
