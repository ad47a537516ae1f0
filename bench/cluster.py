"""A coordinator and workers as real processes on loopback, for one benchmark workload."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from tradewind.client import Client


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"benchmark gave up waiting for {what} after {timeout:g}s")
        time.sleep(interval)


class BenchCluster:
    def __init__(self, db: str | None = None, workers: int = 2, slots: int = 16, triggerers: int = 0) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="tw-bench-"))
        self.dags = self.home / "dags"
        self.dags.mkdir()
        self.db = db or f"sqlite:///{self.home / 'tradewind.db'}"
        self.workers = workers
        self.slots = slots
        self.triggerers: list[subprocess.Popen[bytes]] = []
        self.triggerer_count = triggerers
        self.procs: list[subprocess.Popen[bytes]] = []
        self.coordinator: subprocess.Popen[bytes] | None = None
        self.address = ""

    def start(self, scan_interval: float = 0.2) -> BenchCluster:
        log = open(self.home / "coordinator.log", "wb")  # noqa: SIM115
        env = {**os.environ, "TRADEWIND_DAG_SCAN_INTERVAL": str(scan_interval)}
        self.coordinator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "coordinator",
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--dags",
                str(self.dags),
                "--home",
                str(self.home),
                "--db",
                self.db,
                "--log-level",
                "WARNING",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.procs.append(self.coordinator)

        def listening() -> str:
            found = re.search(r"listening on (\S+)", (self.home / "coordinator.log").read_text())
            if self.coordinator is not None and self.coordinator.poll() is not None:
                raise RuntimeError((self.home / "coordinator.log").read_text())
            return found.group(1) if found else ""

        self.address = wait_for(listening, 60, "the coordinator")
        for i in range(self.workers):
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "worker",
                        "join",
                        "--host",
                        self.address,
                        "--name",
                        f"bench-{i}",
                        "--slots",
                        str(self.slots),
                        "--home",
                        str(self.home / f"w{i}"),
                        "--log-level",
                        "WARNING",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        for i in range(self.triggerer_count):
            command = ["-m", "triggerer", "join", "--host", self.address, "--name", f"bench-triggerer-{i}"]
            command += ["--home", str(self.home / f"t{i}"), "--log-level", "WARNING"]
            triggerer = subprocess.Popen(
                [sys.executable, *command],
                stdout=subprocess.DEVNULL,
                stderr=open(self.home / f"triggerer-{i}.log", "wb"),  # noqa: SIM115
                start_new_session=True,
            )
            self.triggerers.append(triggerer)
            self.procs.append(triggerer)
        with self.client() as client:
            wait_for(lambda: len(client.list_workers().workers) >= self.workers, 60, "the workers")
        return self

    def client(self) -> Client:
        return Client(self.address, timeout=60)

    def add_dag(self, name: str, source: str, dag_id: str) -> None:
        (self.dags / name).write_text(source)
        with self.client() as client:
            wait_for(lambda: any(d.dag_id == dag_id for d in client.list_dags().dags), 600, f"DAG {dag_id}")

    def run(self, dag_id: str, timeout: float = 600) -> tuple[str, float]:
        """Trigger a run and wait for it; returns its run id and the trigger-to-end wall time."""
        with self.client() as client:
            start = datetime.now(UTC)
            run_id = client.trigger_dag(dag_id).dag_run.run_id

            def finished() -> Any:
                runs = client.list_dag_runs(dag_id, page_size=5).dag_runs
                return next((r for r in runs if r.run_id == run_id and r.state in (3, 4)), None)

            run = wait_for(finished, timeout, f"run {run_id}", interval=0.05)
        if run.state != 3:
            raise RuntimeError(f"benchmark run {dag_id} {run_id} failed")
        return run_id, (run.end_date.ToDatetime(tzinfo=UTC) - start).total_seconds()

    def coordinator_process(self) -> psutil.Process:
        assert self.coordinator is not None
        return psutil.Process(self.coordinator.pid)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
