"""Real coordinator and worker processes on loopback, always reaped; waiting with deadlines."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent


class Deadline:
    """One condition polled until it holds or `timeout` seconds pass; the waiting is the caller's."""

    def __init__(
        self,
        condition: Callable[[], T],
        timeout: float,
        message: str = "",
        errors: tuple[type[Exception], ...] = (AssertionError,),
    ) -> None:
        self.condition, self.timeout, self.message, self.errors = condition, timeout, message, errors
        self.end = time.monotonic() + timeout

    def poll(self) -> Any:
        """The condition's value when truthy, else None; AssertionError once the deadline has passed."""
        try:
            last: Any = self.condition()
        except self.errors as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > self.end:
            raise AssertionError(f"not true after {self.timeout}s: {self.message or self.condition} (last: {last!r})")
        return None


def assert_eventually(
    condition: Callable[[], T], timeout: float = 20.0, message: str = "", interval: float = 0.05
) -> T:
    """Poll `condition` until it returns something truthy; fail with `message` after `timeout` seconds."""
    deadline = Deadline(condition, timeout, message)
    while (value := deadline.poll()) is None:
        time.sleep(interval)
    return value


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            if sig == signal.SIGKILL:
                self.popen.wait(timeout=10)

    def kill_group(self) -> None:
        """SIGKILL the process with every process it started, as when its machine dies, and reap it.
        Task processes lead process groups of their own, so they are found by parentage."""
        if self.popen.poll() is None:
            descendants = _descendants(self.popen.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            for child in descendants:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            self.popen.wait(timeout=10)

    @property
    def pid(self) -> int:
        return self.popen.pid


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


@dataclass
class Cluster:
    """Starts processes for one test in `home`; every process is killed at teardown."""

    home: Path
    dags: Path
    db_url: str
    processes: list[Process] = field(default_factory=list)
    address: str = ""

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Process:
        log = self.home / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 - closed by the child's exit
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        popen = subprocess.Popen(
            [sys.executable, *args],
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=self.home,
            env=full_env,
            start_new_session=True,
        )
        handle.close()
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def coordinator(self, *extra: str, port: int = 0, heartbeat_timeout: float = 3.0, wait: bool = True) -> Process:
        """Start `coordinator serve`; with wait (not for a standby), until it listens, keeping its address."""
        process = self._spawn(
            f"coordinator-{len(self.processes)}",
            [
                "-m",
                "coordinator",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--dags",
                str(self.dags),
                "--home",
                str(self.home),
                "--db",
                self.db_url,
                "--heartbeat-timeout",
                str(heartbeat_timeout),
                "--parse-timeout",
                "5",
                *extra,
            ],
        )

        def listening() -> str:
            if process.popen.poll() is not None:
                raise RuntimeError(f"coordinator exited with {process.popen.returncode}:\n{process.output()}")
            found = re.search(r"coordinator listening on (\S+)", process.output())
            return found.group(1) if found else ""

        if wait:
            self.address = assert_eventually(listening, 30, "coordinator to listen")
        return process

    @property
    def port(self) -> int:
        """The port of the latest coordinator, to start the next one on the same address."""
        return int(self.address.rsplit(":", 1)[1])

    def worker(self, name: str, *extra: str) -> Process:
        return self._spawn(
            f"worker-{name}",
            ["-m", "worker", "join", "--host", self.address, "--name", name, "--home", str(self.home / name), *extra],
        )

    def triggerer(self, name: str, *extra: str) -> Process:
        return self._spawn(
            f"triggerer-{name}",
            ["-m", "triggerer", "join", "--host", self.address, "--name", name, "--home", str(self.home / name)]
            + list(extra),
        )

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "tradewind.cli", "--host", self.address, *args],
            capture_output=True,
            text=True,
            cwd=self.home,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"tradewind {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def client(self) -> Any:
        from tradewind.client import Client

        return Client(self.address)

    def reap(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.kill_group()
                process.popen.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"===== {p.name}\n{p.output()[-4000:]}" for p in self.processes)


def write_dag(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(source)
    return path


def cluster_in(tmp_path: Path, failed: Callable[[], bool], db_url: str | None = None) -> Iterator[Cluster]:
    """A Cluster whose processes are reaped after the test; their output is printed when it failed."""
    dags = tmp_path / "dags"
    dags.mkdir()
    cluster = Cluster(tmp_path, dags, db_url or f"sqlite:///{tmp_path / 'tradewind.db'}")
    try:
        yield cluster
    finally:
        cluster.reap()
        if failed():
            print(cluster.logs())
