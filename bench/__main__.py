"""`python -m bench`: run the workloads on real processes and print them beside the floors.

Figures are also written as JSON to bench/results/<timestamp>.json. `--quick` shrinks every
workload (for a smoke run); `--only chain,idle` picks workloads; `--postgres URL` adds a column.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import psycopg2

from bench import floors, monitor, sensors, workloads
from bench.cluster import BenchCluster

ALL = [
    "chain",
    "chain_work",
    "fanout_bash",
    "fanout_python",
    "wide_deep",
    "many_dags",
    "idle",
    "history",
    "tui",
    "event_latency",
    "deferred_wait",
    "file_latency",
    "reschedule_sensor",
]
TARGETS = {
    "chain": "hop p50 <= 5 ms, p99 <= 25 ms",
    "chain_work": "run <= 0.8 s",
    "fanout_bash": ">= 500 tasks/s",
    "fanout_python": ">= 800 tasks/s",
    "wide_deep": "<= 1 ms CPU per TI, peak RSS <= 200 MB",
    "many_dags": "parse all <= 60 s, rescan parses nothing",
    "idle": "< 1% of a core, no metastore writes",
    "history": "within 2x of an empty metastore",
    "tui": "every keypress answered < 100 ms",
    "deferred_wait": "triggerer < 100 MB and < 2% of a core for 1,000 triggers, no slot held",
    "event_latency": "asset event to task start p50 <= 20 ms, p99 <= 100 ms",
    "file_latency": "file to a deferrable FileSensor's downstream start p50 <= 20 ms, p99 <= 100 ms",
    "reschedule_sensor": "no slot held between pokes; all finish",
}


@contextmanager
def database(server: str | None) -> Iterator[Callable[[], str | None]]:
    """For PostgreSQL, a factory of fresh, empty databases on `server`, dropped afterwards."""
    if server is None:
        yield lambda: None
        return
    created: list[str] = []
    admin = psycopg2.connect(server)
    admin.autocommit = True

    def fresh() -> str:
        name = f"tw_bench_{uuid.uuid4().hex[:10]}"
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        created.append(name)
        return server.rsplit("/", 1)[0] + "/" + name

    try:
        yield fresh
    finally:
        with admin.cursor() as cursor:
            for name in created:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def run_workload(name: str, quick: bool, server: str | None) -> dict[str, Any]:
    scale = 10 if quick else 1
    with database(server) as fresh:
        if name == "history":
            return workloads.history(lambda: BenchCluster(fresh()), 100_000 // scale)
        if name == "tui":
            return monitor.monitor(lambda: BenchCluster(fresh()), 500 // scale, 10, 100 // scale, 10_000 // scale)
        return _run(name, scale, fresh())


def _run(name: str, scale: int, db: str | None) -> dict[str, Any]:
    if name in SENSOR_WORKLOADS:
        return _run_sensors(name, scale, db)
    cluster = BenchCluster(db).start()
    try:
        if name == "chain":
            return workloads.chain(cluster, 100)
        if name == "chain_work":
            return workloads.chain_work(cluster, 40)
        if name == "fanout_bash":
            return workloads.fanout(cluster, 2000 // scale, "bash")
        if name == "fanout_python":
            return workloads.fanout(cluster, 2000 // scale, "python")
        if name == "wide_deep":
            return workloads.wide_deep(cluster, 100 // (scale // 2 or 1), 100 // (scale // 2 or 1))
        if name == "many_dags":
            return workloads.many_dags(cluster, 1000 // scale)
        if name == "event_latency":
            return workloads.event_latency(cluster, 100 // scale)
        if name == "idle":
            time.sleep(2)
            return workloads.idle(cluster, 30 / (scale // 2 or 1))
        raise ValueError(name)
    finally:
        cluster.stop()


SENSOR_WORKLOADS = ("deferred_wait", "file_latency", "reschedule_sensor")


def _run_sensors(name: str, scale: int, db: str | None) -> dict[str, Any]:
    """The deferral workloads on 2 workers of 8 slots and a triggerer; reschedule_sensor on 2 slots.
    TRADEWIND_BENCH_RESCHEDULE_SECONDS sets how long its sensors poke (default 60, 10 with --quick)."""
    slots = 1 if name == "reschedule_sensor" else 8
    cluster = BenchCluster(db, workers=2, slots=slots, triggerers=1).start()
    try:
        if name == "deferred_wait":
            return sensors.deferred_wait(cluster, 1000 // scale, 60 / (scale // 2 or 1))
        if name == "file_latency":
            return sensors.file_latency(cluster, 50 // (scale // 2 or 1), str(cluster.home))
        seconds = float(os.environ.get("TRADEWIND_BENCH_RESCHEDULE_SECONDS", 60 if scale == 1 else 10))
        return sensors.reschedule_sensor(cluster, 200 // (scale // 2 or 1), seconds)
    finally:
        cluster.stop()


def summary(name: str, figures: dict[str, Any]) -> str:
    keys = {
        "chain": ("hop_p50_ms", "hop_p99_ms"),
        "chain_work": ("run_s",),
        "fanout_bash": ("tasks_per_s", "all_succeeded_once"),
        "fanout_python": ("tasks_per_s", "all_succeeded_once"),
        "wide_deep": ("cpu_ms_per_ti", "peak_rss_mb"),
        "many_dags": ("parse_all_s", "reparsed_on_rescan"),
        "idle": ("cpu_pct_of_core", "metastore_written"),
        "history": ("ratio_start", "ratio_list"),
        "tui": ("keypress_p50_ms", "keypress_p99_ms", "keypress_max_ms"),
        "event_latency": ("event_to_start_p50_ms", "event_to_start_p99_ms"),
        "deferred_wait": ("triggerer_rss_mb", "triggerer_cpu_pct", "slots_held_while_waiting", "all_resumed"),
        "file_latency": ("p50_ms", "p99_ms"),
        "reschedule_sensor": ("most_on_workers", "slots", "reschedules", "finished_s"),
    }[name]
    parts = []
    for key in keys:
        value = figures.get(key)
        parts.append(f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


def side_by_side(server: str, chain_n: int, fanout_n: int) -> None:
    """The same two workloads on Tradewind and on Airflow with the same settings, both on PostgreSQL."""
    from bench import airflow

    floor = floors.measure()
    figures: dict[str, Any] = {"floors": floor, "settings": airflow.SETTINGS}
    with database(server) as fresh:
        for name, work in (
            ("chain", lambda c: workloads.chain(c, chain_n)),
            (
                "fanout_bash",
                lambda c: workloads.fanout(c, fanout_n, "bash", airflow.MAX_ACTIVE_TASKS, airflow.POOL_SLOTS),
            ),
        ):
            cluster = BenchCluster(fresh(), workers=airflow.TRADEWIND_WORKERS, slots=airflow.TRADEWIND_SLOTS).start()
            try:
                figures.setdefault("tradewind", {})[name] = work(cluster)
            finally:
                cluster.stop()
    figures["airflow"] = airflow.run(server, chain_n, fanout_n)
    tw, af = figures["tradewind"], figures["airflow"]
    print(f"floors: bash -c true {floor['spawn_ms']:.2f} ms, gRPC round trip {floor['grpc_rtt_ms']:.3f} ms")
    print(airflow.SETTINGS)
    tw_fan, af_fan = tw["fanout_bash"], af["fanout_bash"]
    print(
        f"fan-out executions counted from the tasks: Tradewind {tw_fan['executions']} of {fanout_n}, "
        f"Airflow {af_fan['executions']} of {fanout_n} (each exactly once: "
        f"{tw_fan['all_succeeded_once']}, {af_fan['all_succeeded_once']})"
    )
    print(f"{'workload':38} {'Tradewind':>14} {'Airflow ' + af['version']:>16} {'ratio':>8}")
    rows = [
        (f"chain of {chain_n}: hop p50 (ms)", tw["chain"]["hop_p50_ms"], af["chain"]["hop_p50_ms"]),
        (f"chain of {chain_n}: hop p99 (ms)", tw["chain"]["hop_p99_ms"], af["chain"]["hop_p99_ms"]),
        (f"fan-out of {fanout_n}: tasks/s", tw["fanout_bash"]["tasks_per_s"], af["fanout_bash"]["tasks_per_s"]),
    ]
    for label, ours, theirs in rows:
        ratio = theirs / ours if "ms" in label else ours / theirs
        print(f"{label:38} {ours:14.1f} {theirs:16.1f} {ratio:7.0f}x")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"airflow-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    print(f"figures written to {path}")


def versus_floor(name: str, figures: dict[str, Any], floor: dict[str, float], cpus: int) -> tuple[str, float]:
    """Each workload's floor on this machine, and how far above it the result is (1.0 = at the floor)."""
    spawn, rtt, commit = floor["spawn_ms"], floor["grpc_rtt_ms"], floor["commit_ms"]
    if name == "chain":
        base = rtt + commit + spawn
        return f"{base:.2f} ms (rtt + commit + spawn)", figures["hop_p50_ms"] / base
    if name == "event_latency":
        base = rtt + commit + spawn
        return f"{base:.2f} ms (rtt + commit + spawn)", figures["event_to_start_p50_ms"] / base
    if name == "chain_work":
        base = figures["tasks"] * 0.010
        return f"{base:.2f} s (the work itself)", figures["run_s"] / base
    if name.startswith("fanout"):
        base = cpus * 1000 / spawn
        return f"{base:.0f} tasks/s ({cpus} cores spawning bash)", base / figures["tasks_per_s"]
    if name == "wide_deep":
        return f"{commit:.3f} ms (one commit)", figures["cpu_ms_per_ti"] / commit
    if name == "many_dags":
        base = figures["dags"] * spawn / cpus / 1000
        return f"{base:.2f} s (one process per file)", figures["parse_all_s"] / base
    if name == "history":
        return "empty metastore", max(figures["ratio_start"], figures["ratio_list"])
    if name == "tui":
        return "100 ms (the target)", figures["keypress_max_ms"] / 100
    if name == "file_latency":
        base = rtt + commit + spawn
        return f"{base:.2f} ms (rtt + commit + spawn)", figures["p50_ms"] / base
    if name == "deferred_wait":
        return "100 MB (the goal)", figures["triggerer_rss_mb"] / 100
    if name == "reschedule_sensor":
        return f"{figures['slots']} slots", figures["most_on_workers"] / figures["slots"]
    return "0% (nothing to do)", float("nan")


def reachable_postgres() -> str | None:
    """A PostgreSQL server to add a column for: from the environment, else the local default, if it answers."""
    for url in (
        os.environ.get("TRADEWIND_BENCH_POSTGRES_URL"),
        os.environ.get("TRADEWIND_TEST_POSTGRES_URL"),
        "postgresql://postgres@127.0.0.1:5432/postgres",
    ):
        if not url:
            continue
        try:
            psycopg2.connect(url, connect_timeout=2).close()
        except psycopg2.Error:
            continue
        return url
    return None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help="comma-separated workloads (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller workloads, for a smoke run")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="PostgreSQL server for the second column (default: TRADEWIND_BENCH_POSTGRES_URL, or the local "
        "server when one answers)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--airflow",
        action="store_true",
        help="run the chain and fan-out workloads side by side with Apache Airflow 3 (needs --postgres)",
    )
    args = parser.parse_args()
    if not args.postgres and not args.no_postgres:
        args.postgres = reachable_postgres()
    if args.airflow:
        if not args.postgres:
            parser.error("--airflow needs --postgres URL: Airflow's LocalExecutor does not run on SQLite")
        side_by_side(args.postgres, 30, 200)
        return
    names = args.only.split(",") if args.only else ALL
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; choose from {', '.join(ALL)}")
    floor = floors.measure()
    results: dict[str, Any] = {
        "machine": {
            "cpus": psutil.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "floors": floor,
        "workloads": {},
    }
    print(
        f"floors: bash -c true {floor['spawn_ms']:.2f} ms, gRPC round trip {floor['grpc_rtt_ms']:.3f} ms, "
        f"SQLite commit {floor['commit_ms']:.3f} ms"
    )
    backends = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    for name in names:
        for backend, url in backends:
            figures = run_workload(name, args.quick, url)
            base, ratio = versus_floor(name, figures, floor, results["machine"]["cpus"])
            figures["floor"], figures["ratio_to_floor"] = base, ratio
            results["workloads"].setdefault(name, {})[backend] = figures
            print(
                f"{name:14} {backend:10} {summary(name, figures):52} floor {base} x{ratio:.1f}  "
                f"target: {TARGETS[name]}",
                flush=True,
            )
            for group, row in figures.get("by_screen", {}).items():
                print(f"{'':26}{group:24} {row}", flush=True)
            for call, full_ms in figures.get("full", {}).get("by_call_ms", {}).items():
                empty_ms = figures["empty"]["by_call_ms"][call]
                print(f"{'':26}{call:24} {empty_ms} ms empty, {full_ms} ms with history", flush=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"figures written to {path}")


if __name__ == "__main__":
    main()
