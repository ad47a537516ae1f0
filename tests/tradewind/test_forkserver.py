from __future__ import annotations

import contextlib
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


def _idle_children(server: ForkServer) -> set[int]:
    import psutil

    assert server._process is not None
    return {child.pid for child in psutil.Process(server._process.pid).children()}


def _wait_for(condition, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
    return value


WARM = ("os:getpid", {})


def _all_gone(pids: set[int]) -> bool:
    import psutil

    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
    return True


def test_the_next_job_of_a_warm_key_runs_in_a_child_forked_ahead_with_its_own_stdout_cwd_and_env(
    server: ForkServer, tmp_path
) -> None:
    server.spawn("os:getpid", {}, warm=WARM).exit.result(timeout=20)
    spare = _wait_for(lambda: _idle_children(server))
    read, write = os.pipe()
    child = server.spawn(
        "subprocess:run",
        {"args": ["bash", "-c", "echo $ONLY; pwd"]},
        stdout=write,
        cwd=str(tmp_path),
        env={"ONLY": "yes", "PATH": os.environ["PATH"]},
        warm=WARM,
    )
    os.close(write)
    assert child.exit.result(timeout=20).returncode == 0
    with os.fdopen(read, "rb") as pipe:
        assert pipe.read().decode().split() == ["yes", str(tmp_path)]
    assert spare == {child.pid}


def test_a_job_run_by_a_spare_is_killed_with_its_whole_group(server: ForkServer, tmp_path) -> None:
    server.spawn("os:getpid", {}, warm=WARM).exit.result(timeout=20)
    _wait_for(lambda: _idle_children(server))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        child = server.spawn("subprocess:run", {"args": ["sleep", "20"]}, warm=WARM)
        _wait_for(lambda c=child: len(__import__("psutil").Process(c.pid).children()) == 1)
        child.kill(sig)
        assert child.exit.result(timeout=10).returncode == -sig


def test_spares_are_kept_for_a_few_warm_keys_and_die_with_the_server(server: ForkServer) -> None:

    from tradewind.forkserver import MAX_SPARES

    for n in range(MAX_SPARES + 3):
        server.spawn("os:getpid", {}, warm=("os:getpid", {"n": n})).exit.result(timeout=20)
    _wait_for(lambda: len(_idle_children(server)) == MAX_SPARES)
    spares = _idle_children(server)
    server.close()

    _wait_for(lambda: _all_gone(spares))


def test_a_spare_that_died_is_replaced_by_a_fork(server: ForkServer) -> None:
    server.spawn("os:getpid", {}, warm=WARM).exit.result(timeout=20)
    (spare,) = _wait_for(lambda: _idle_children(server))
    os.kill(spare, signal.SIGKILL)
    _wait_for(lambda: spare not in _idle_children(server))  # dead and reaped
    child = server.spawn("os:getpid", {}, warm=WARM)
    assert child.pid != spare and child.exit.result(timeout=20).returncode == 0


def test_on_a_loop_replies_are_read_by_the_loop_and_a_dead_server_fails_pending_jobs() -> None:
    import asyncio
    import threading
    import time

    async def scenario() -> tuple[int, float, int, str]:
        server = ForkServer(on_loop=True)
        server.start()
        try:
            before = time.time()
            child = await asyncio.wrap_future(server.submit("os:getpid", {}))
            code = (await asyncio.wrap_future(child.exit)).returncode
            threads = sum(t.name == "forkserver-reader" for t in threading.enumerate())
            sleeper = await asyncio.wrap_future(
                server.submit("tradewind.forkserver:exec_command", {"argv": ["sleep", "30"]})
            )
            assert server._process is not None
            server._process.kill()
            try:
                await asyncio.wait_for(asyncio.wrap_future(sleeper.exit), 20)
                error = ""
            except ForkServerError as exc:
                error = str(exc)
            sleeper.kill()
            return code, child.started_at - before, threads, error
        finally:
            server.close()

    code, started_after, reader_threads, error = asyncio.run(scenario())
    assert code == 0 and started_after >= 0 and reader_threads == 0
    assert "died" in error


def test_spares_exit_when_the_server_is_killed_outright(server: ForkServer) -> None:

    server.spawn("os:getpid", {}, warm=WARM).exit.result(timeout=20)
    spares = _wait_for(lambda: _idle_children(server))
    assert server._process is not None
    server._process.kill()

    _wait_for(lambda: _all_gone(spares))
