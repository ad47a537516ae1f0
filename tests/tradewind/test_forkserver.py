from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tradewind.forkserver import ForkServer, ForkServerError


@pytest.fixture
def server() -> Iterator[ForkServer]:
    fs = ForkServer()
    fs.start()
    yield fs
    fs.close()


def run(server: ForkServer, command: str, **kwargs) -> tuple[int, bytes]:
    read, write = os.pipe()
    child = server.spawn("tradewind.forkserver:exec_command", {"argv": ["bash", "-c", command]}, stdout=write, **kwargs)
    os.close(write)
    code = child.exit.result(timeout=20).returncode
    with os.fdopen(read, "rb") as pipe:
        return code, pipe.read()


def test_output_and_exit_code_come_back(server: ForkServer) -> None:
    assert run(server, "echo out; echo err >&2; exit 7") == (7, b"out\nerr\n")


def test_env_and_cwd_are_applied(server: ForkServer, tmp_path) -> None:
    code, output = run(server, "echo $ONLY:$HOME; pwd", env={"ONLY": "yes"}, cwd=str(tmp_path))
    assert (code, output.decode().split()) == (0, ["yes:", str(tmp_path)])


def test_a_python_target_that_raises_exits_1_with_its_traceback(server: ForkServer) -> None:
    read, write = os.pipe()
    child = server.spawn("json:loads", {"s": "{nope"}, stdout=write)
    os.close(write)
    assert child.exit.result(timeout=20).returncode == 1
    with os.fdopen(read, "rb") as pipe:
        assert b"JSONDecodeError" in pipe.read()


def test_kill_stops_the_whole_process_group(server: ForkServer, tmp_path) -> None:
    marker = tmp_path / "grandchild"
    read, write = os.pipe()
    child = server.spawn(
        "tradewind.forkserver:exec_command",
        {"argv": ["bash", "-c", f"(sleep 30; touch {marker}) & echo started; wait"]},
        stdout=write,
    )
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        assert pipe.readline() == b"started\n"
        child.kill()
        assert child.exit.result(timeout=20).returncode == -signal.SIGKILL
        assert pipe.read() == b""  # every writer of the pipe, the grandchild too, is gone


def test_many_concurrent_spawns(server: ForkServer) -> None:
    def one(i: int) -> int:
        return (
            server.spawn("tradewind.forkserver:exec_command", {"argv": ["bash", "-c", f"exit {i % 5}"]})
            .exit.result(timeout=30)
            .returncode
        )

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, range(40))) == [i % 5 for i in range(40)]


def test_a_dead_server_fails_pending_jobs_and_refuses_new_ones(server: ForkServer) -> None:
    child = server.spawn("tradewind.forkserver:exec_command", {"argv": ["sleep", "30"]})
    assert server._process is not None
    server._process.kill()
    with pytest.raises(ForkServerError, match="died"):
        child.exit.result(timeout=20)
    child.kill()
    with pytest.raises(ForkServerError, match="not running"):
        server.spawn("os:getpid", {})


def test_a_dead_server_can_be_replaced(server: ForkServer) -> None:
    assert server._process is not None
    server._process.kill()
    server._process.wait()
    server.ensure_running()
    assert server.spawn("os:getpid", {}).exit.result(timeout=20).returncode == 0


def test_a_child_killed_as_soon_as_it_is_spawned_dies_by_that_signal(server: ForkServer) -> None:
    # The child must lead its own group, with default handlers, before spawn returns: a kill
    # sent earlier would find no such group (or meet the server's ignored SIGTERM) and the
    # child would run on to the end after it.
    for sig in [signal.SIGTERM, signal.SIGKILL] * 15:
        child = server.spawn("subprocess:run", {"args": ["sleep", "20"]})
        child.kill(sig)
        assert child.exit.result(timeout=10).returncode == -sig
