"""What the machine itself costs, measured in the same run: the floor under every workload."""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import tempfile
import time
from concurrent import futures
from pathlib import Path

import grpc


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def spawn_bash_true(n: int = 30) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(["bash", "-c", "true"], check=True)
        samples.append(time.perf_counter() - start)
    return _median_ms(samples)


def grpc_round_trip(n: int = 300) -> float:
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(lambda request, context: request)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            echo = channel.unary_unary("/bench.Echo/Echo")
            echo(b"warm")
            samples = []
            for _ in range(n):
                start = time.perf_counter()
                echo(b"x" * 64)
                samples.append(time.perf_counter() - start)
    finally:
        server.stop(0)
    return _median_ms(samples)


def sqlite_commit(n: int = 300) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=wal")
        db.execute("PRAGMA synchronous=normal")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        samples = []
        for i in range(n):
            start = time.perf_counter()
            db.execute("BEGIN")
            db.execute("INSERT INTO t (v) VALUES (?)", (str(i),))
            db.execute("COMMIT")
            samples.append(time.perf_counter() - start)
        db.close()
    return _median_ms(samples)


def measure() -> dict[str, float]:
    return {"spawn_ms": spawn_bash_true(), "grpc_rtt_ms": grpc_round_trip(), "commit_ms": sqlite_commit()}
