"""Apache Airflow 3, side by side: the chain and fan-out workloads on `airflow standalone`
(scheduler, DAG processor, API server, triggerer, LocalExecutor) on a fresh PostgreSQL database,
in a virtual environment of its own (never a Tradewind dependency). Both sides run with the same
task slots, per-DAG limit and pool (SETTINGS), which are Airflow's defaults, given explicitly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg2

from bench.cluster import wait_for

AIRFLOW_VERSION = "3.3.2"
VENV = Path(__file__).parent / ".airflow-venv"

#: Tasks running at once: Airflow's core.parallelism (LocalExecutor processes); Tradewind's
#: workers x slots.
PARALLELISM = 32
TRADEWIND_WORKERS, TRADEWIND_SLOTS = 2, 16
#: Tasks of one DAG running at once (max_active_tasks), and the default pool's slots.
MAX_ACTIVE_TASKS = 16
POOL_SLOTS = 128
SETTINGS = (
    f"same settings on both sides (Airflow's defaults): {PARALLELISM} tasks at once (Airflow parallelism "
    f"{PARALLELISM}; Tradewind {TRADEWIND_WORKERS} workers x {TRADEWIND_SLOTS} slots), max_active_tasks "
    f"{MAX_ACTIVE_TASKS} per DAG, default_pool {POOL_SLOTS} slots"
)


def ensure_installed() -> Path:
    """The Airflow virtual environment, created and installed on first use."""
    airflow = VENV / "bin" / "airflow"
    if not airflow.exists():
        print(f"installing Apache Airflow {AIRFLOW_VERSION} into {VENV} (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(VENV / "bin" / "pip"),
                "install",
                "-q",
                f"apache-airflow=={AIRFLOW_VERSION}",
                "apache-airflow-providers-postgres",
                "psycopg2-binary",
            ],
            check=True,
        )
    return airflow


class AirflowStandalone:
    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.database = f"af_bench_{uuid.uuid4().hex[:10]}"
        self.home = Path(tempfile.mkdtemp(prefix="af-bench-"))
        self.dags = self.home / "dags"
        self.dags.mkdir()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        base = server_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://")
        self.env = {
            **os.environ,
            "PATH": f"{VENV / 'bin'}:{os.environ['PATH']}",
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(MAX_ACTIVE_TASKS),
            "AIRFLOW__CORE__DEFAULT_POOL_TASK_SLOT_COUNT": str(POOL_SLOTS),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{base}/{self.database}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def _admin(self, sql: str) -> None:
        conn = psycopg2.connect(self.server_url)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
        conn.close()

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        conn = psycopg2.connect(self.server_url.rsplit("/", 1)[0] + "/" + self.database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchall()
        finally:
            conn.close()

    def __enter__(self) -> AirflowStandalone:
        self._admin(f"CREATE DATABASE {self.database}")
        log = open(self.home / "standalone.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(VENV / "bin" / "airflow"), "standalone"],
            env=self.env,
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._admin(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        shutil.rmtree(self.home, ignore_errors=True)

    def cli(self, *args: str) -> None:
        subprocess.run([str(VENV / "bin" / "airflow"), *args], env=self.env, check=True, capture_output=True)

    def run(self, dag_id: str, timeout: float) -> tuple[str, list[tuple[Any, ...]], float]:
        """Trigger a DAG, wait; returns its run id, task rows and queued-to-end seconds.

        DAG files are written before Airflow starts: at its defaults it looks for new files
        only every five minutes."""

        def parsed() -> bool:
            try:
                return bool(self.query("SELECT 1 FROM dag WHERE dag_id = %s", dag_id))
            except psycopg2.Error:
                return False

        wait_for(parsed, 600, f"Airflow to parse {dag_id}", interval=1.0)
        self.cli("dags", "unpause", dag_id)
        self.cli("dags", "trigger", dag_id)

        def finished() -> Any:
            rows = self.query("SELECT run_id, state, queued_at, end_date FROM dag_run WHERE dag_id = %s", dag_id)
            return rows[0] if rows and rows[0][1] in ("success", "failed") else None

        run_id, state, queued_at, end_date = wait_for(finished, timeout, f"Airflow run of {dag_id}", interval=0.5)
        if state != "success":
            raise RuntimeError(f"Airflow run {run_id} of {dag_id} ended {state}")
        tasks = self.query(
            "SELECT task_id, state, start_date, end_date, try_number FROM task_instance WHERE dag_id = %s", dag_id
        )
        return run_id, tasks, (end_date - queued_at).total_seconds()


def chain_source(module: str, dag_id: str, n: int) -> str:
    return (
        f"{module}\n"
        f"with DAG('{dag_id}', schedule=None, max_active_tasks={MAX_ACTIVE_TASKS}):\n"
        "    previous = None\n"
        f"    for i in range({n}):\n"
        "        current = BashOperator(task_id=f't{i:03d}', bash_command='true')\n"
        "        if previous is not None:\n"
        "            previous >> current\n"
        "        previous = current\n"
    )


def fanout_source(module: str, dag_id: str, n: int, executions: Path) -> str:
    """Each task appends its id to `executions` when it runs, so executions are counted, not rows."""
    record = repr(f"echo {{{{ ti.task_id }}}} >> {executions}")
    return (
        f"{module}\nwith DAG('{dag_id}', schedule=None, max_active_tasks={MAX_ACTIVE_TASKS}):\n"
        f"    for i in range({n}):\n        BashOperator(task_id=f't{{i}}', bash_command={record})\n"
    )


AIRFLOW_IMPORTS = "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator"


def hops_ms(tasks: list[tuple[Any, ...]]) -> list[float]:
    ordered = sorted(tasks)
    return [(b[2] - a[3]).total_seconds() * 1000 for a, b in zip(ordered, ordered[1:], strict=False)]


def run(server_url: str, chain_n: int, fanout_n: int) -> dict[str, Any]:
    ensure_installed()
    standalone = AirflowStandalone(server_url)
    (standalone.dags / "af_chain.py").write_text(chain_source(AIRFLOW_IMPORTS, "af_chain", chain_n))
    executions = Path(tempfile.mkdtemp(prefix="af-bench-executions-")) / "af_fanout.executions"
    (standalone.dags / "af_fanout.py").write_text(fanout_source(AIRFLOW_IMPORTS, "af_fanout", fanout_n, executions))
    with standalone as airflow:
        _, tasks, _ = airflow.run("af_chain", timeout=chain_n * 20 + 120)
        hops = hops_ms(tasks)
        _, fan, elapsed = airflow.run("af_fanout", timeout=fanout_n * 5 + 300)
        ran = Counter(executions.read_text().split()) if executions.exists() else Counter()
        once = len(ran) == fanout_n and set(ran.values()) == {1} and all(t[1] == "success" for t in fan)
    shutil.rmtree(executions.parent, ignore_errors=True)
    ordered = sorted(hops)
    return {
        "chain": {
            "tasks": chain_n,
            "hop_p50_ms": statistics.median(hops),
            "hop_p99_ms": ordered[min(int(round(0.99 * (len(ordered) - 1))), len(ordered) - 1)],
        },
        "fanout_bash": {
            "tasks": fanout_n,
            "tasks_per_s": fanout_n / elapsed,
            "executions": sum(ran.values()),
            "all_succeeded_once": once,
        },
        "version": AIRFLOW_VERSION,
        "settings": SETTINGS,
    }


__all__ = ["run"]
