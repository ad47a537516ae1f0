"""The coordinator's own life as a process: one line for every startup error, and the local
workers of `coordinator standalone` that live and die with it."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import Cluster, Process, assert_eventually, write_dag
from tests.integration.test_end_to_end import finished_run, trigger


def _coordinator(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coordinator", *args, "--home", str(home), "--dags", str(home / "dags")],
        capture_output=True,
        text=True,
        cwd=home,
        timeout=60,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("coordinator: error: ")
    return lines[0]


def test_a_second_coordinator_on_the_same_port_fails_at_once_with_one_line(cluster: Cluster, tmp_path: Path) -> None:
    cluster.coordinator()
    other = tmp_path / "other"
    other.mkdir()
    result = _coordinator(other, "serve", "--bind", cluster.address)
    assert _one_line_error(result) == f"coordinator: error: {cluster.address} is in use"


@pytest.mark.parametrize(
    ("bind", "message"),
    [
        ("999.1.1.1:1", "999.1.1.1:1 is not a valid address to listen on"),
        ("192.0.2.1:7000", "192.0.2.1:7000 is not an address of this machine"),
        ("nowhere", "bind must be HOST:PORT, not 'nowhere'"),
    ],
)
def test_an_address_that_cannot_be_listened_on_is_one_line(tmp_path: Path, bind: str, message: str) -> None:
    assert _one_line_error(_coordinator(tmp_path, "serve", "--bind", bind)) == f"coordinator: error: {message}"


def test_an_unreachable_postgresql_metastore_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://nobody@127.0.0.1:{port}/x"
    line = _one_line_error(_coordinator(tmp_path, "serve", "--bind", "127.0.0.1:0", "--db", url))
    assert f"cannot open metastore {url}" in line
    assert "Connection refused" in line


def test_standalone_workers_exit_when_standalone_is_killed(cluster: Cluster) -> None:
    standalone = _standalone(cluster, workers=2)
    workers = assert_eventually(
        lambda: len(found := _local_workers(cluster.home)) == 2 and found, 30, "two local workers to start"
    )
    assert all(f"--parent-pid {standalone.pid}" in command for command in workers.values())
    standalone.kill(signal.SIGKILL)
    assert_eventually(lambda: not _local_workers(cluster.home), 15, "the local workers to exit with standalone")


def test_a_lingering_worker_of_the_same_name_makes_no_join_storm(cluster: Cluster) -> None:
    """Whichever of the two joins first keeps the name; the other is refused without a storm."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster.address = f"127.0.0.1:{port}"
    lingering = cluster.worker("local-1")
    standalone = _standalone(cluster, workers=1, port=port)

    def settled() -> str:
        if lingering.popen.poll() is not None:
            return "standalone"
        if len(re.findall(r"local worker 1 exited", standalone.output())) >= 3:
            return "lingering"
        return ""

    holder = assert_eventually(settled, 40, "one of the two to hold the name")
    if holder == "lingering":
        pauses = re.findall(r"local worker 1 exited with code \S+; starting it again in (\S+)s", standalone.output())
        assert pauses[:3] == ["1", "2", "4"], standalone.output()
        assert "refused worker 'local-1'" in standalone.output()
        assert lingering.output().count("joined coordinator") == 1, "the lingering worker was knocked off"
    else:
        assert lingering.popen.returncode != 0
        assert "refused worker 'local-1'" in lingering.output()
        assert "local worker 1 exited" not in standalone.output(), "the standalone's worker was knocked off"


def _standalone(cluster: Cluster, workers: int, port: int = 0) -> Process:
    process = cluster._spawn(
        "standalone",
        [
            "-m",
            "coordinator",
            "standalone",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--dags",
            str(cluster.dags),
            "--home",
            str(cluster.home),
            "--db",
            cluster.db_url,
        ],
    )
    assert_eventually(lambda: "coordinator listening on" in process.output(), 30, "standalone to listen")
    return process


def _local_workers(home: Path) -> dict[int, str]:
    """pid -> command line of every running `worker join` whose home is `home` (standalone's workers)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if "worker join" in command and f"--home {home} " in command + " " and state != "Z":
            found[int(entry.name)] = command
    return found


def test_task_logs_that_cannot_be_written_are_reported_once_and_the_run_still_succeeds(cluster: Cluster) -> None:
    (cluster.home / "logs").write_text("a file where the log folder should be\n")
    write_dag(
        cluster.dags,
        "chatty.py",
        """
from tradewind import DAG, BashOperator

with DAG("chatty", schedule=None):
    first = BashOperator(task_id="first", bash_command="for i in 1 2 3; do echo line $i; done")
    second = BashOperator(task_id="second", bash_command="echo more")
    first >> second
""",
    )
    coordinator = cluster.coordinator()
    worker = cluster.worker("w1")
    run_id = trigger(cluster, "chatty")
    assert finished_run(cluster, "chatty", run_id, timeout=60)["state"] == "success"
    assert coordinator.output().count("cannot write task logs") == 1, coordinator.output()
    assert worker.output().count("joined coordinator") == 1, "the worker's stream broke on the log error"


def test_standalone_stops_on_sigterm_every_time_also_after_a_restart(cluster: Cluster) -> None:
    """Its workers' and triggerer's leaving reaches the engine as it stops, while a DAG's next
    run is timed: a stop lost to that race left standalone running after SIGTERM about half the time."""
    write_dag(
        cluster.dags,
        "daily.py",
        "from datetime import datetime\nfrom tradewind import DAG, BashOperator\n"
        "with DAG('daily', schedule='@daily', start_date=datetime(2024, 1, 1), catchup=False):\n"
        "    BashOperator(task_id='t', bash_command='true')\n",
    )
    for _ in range(3):
        standalone = _standalone(cluster, workers=2)
        assert_eventually(lambda: len(_local_workers(cluster.home)) == 2, 30, "two local workers to start")
        assert_eventually(lambda s=standalone: "joined" in s.output(), 30, "the workers to join")
        standalone.popen.send_signal(signal.SIGTERM)
        assert standalone.popen.wait(timeout=30) == 0
        assert_eventually(lambda: not _local_workers(cluster.home), 15, "the local workers to exit with standalone")
