"""The workloads of the benchmark suite; each returns its figures as a dict."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import peewee
import psutil

from bench.cluster import BenchCluster, wait_for
from coordinator.metastore import models as m
from coordinator.metastore.db import connect


def _attempts(cluster: BenchCluster, dag_id: str, run_id: str) -> dict[str, Any]:
    db = connect(cluster.db)
    try:
        rows: Any = (
            m.TaskAttempt.select(m.TaskAttempt, m.TaskInstance.task_id)
            .join(m.TaskInstance, on=(m.TaskAttempt.task_instance_id == m.TaskInstance.id))
            .where((m.TaskInstance.dag_id == dag_id) & (m.TaskInstance.run_id == run_id))
        )
        return {row.taskinstance.task_id: row for row in rows}
    finally:
        db.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(q * (len(ordered) - 1))), len(ordered) - 1)]


def _peak_rss_mb(process: psutil.Process) -> float:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return process.memory_info().rss / 2**20


def chain(cluster: BenchCluster, n: int) -> dict[str, Any]:
    source = (
        "from tradewind import DAG, BashOperator, chain\n"
        f"with DAG('bench_chain', schedule=None):\n"
        f"    chain(*[BashOperator(task_id=f't{{i:03d}}', bash_command='true') for i in range({n})])\n"
    )
    cluster.add_dag("bench_chain.py", source, "bench_chain")
    run_id, elapsed = cluster.run("bench_chain")
    attempts = _attempts(cluster, "bench_chain", run_id)
    hops = []
    for i in range(1, n):
        prev, cur = attempts[f"t{i - 1:03d}"], attempts[f"t{i:03d}"]
        hops.append((cur.started_at - prev.ended_at).total_seconds() * 1000)
    return {"tasks": n, "hop_p50_ms": statistics.median(hops), "hop_p99_ms": percentile(hops, 0.99), "run_s": elapsed}


def chain_work(cluster: BenchCluster, n: int) -> dict[str, Any]:
    source = (
        "import time\n"
        "from tradewind import dag, task\n"
        "@task\n"
        "def work(previous=None):\n"
        "    end = time.perf_counter() + 0.010\n"
        "    while time.perf_counter() < end:\n"
        "        pass\n"
        "    return (previous or 0) + 1\n"
        "@dag(schedule=None)\n"
        "def bench_chain_work():\n"
        "    value = None\n"
        f"    for _ in range({n}):\n"
        "        value = work(value)\n"
        "bench_chain_work()\n"
    )
    cluster.add_dag("bench_chain_work.py", source, "bench_chain_work")
    _, elapsed = cluster.run("bench_chain_work")
    return {"tasks": n, "run_s": elapsed}


def fanout(
    cluster: BenchCluster, n: int, kind: str, max_active_tasks: int | None = None, pool_slots: int | None = 10_000
) -> dict[str, Any]:
    """`n` independent tasks, each appending its task id to a file when it executes, so "each ran
    exactly once" is counted from the executions, not from attempt rows a requeue could reuse.
    `max_active_tasks` defaults to `n`; `pool_slots` None leaves the default pool as it is."""
    dag_id = f"bench_fanout_{kind}"
    executions = cluster.home / f"{dag_id}.executions"
    if kind == "bash":
        body = f"    for i in range({n}):\n        BashOperator(task_id=f't{{i}}', bash_command=RECORD)\n"
        record = repr(f"echo {{{{ task_id }}}} >> {executions}")
    else:
        body = (
            "    @task\n    def noop(task_id=None):\n"
            "        with open(RECORD, 'a') as out:\n            out.write(task_id + '\\n')\n"
            f"    for i in range({n}):\n        noop()\n"
        )
        record = repr(str(executions))
    source = (
        "from tradewind import DAG, BashOperator, task\n"
        f"RECORD = {record}\n"
        f"with DAG('{dag_id}', schedule=None, max_active_tasks={max_active_tasks or n}):\n" + body
    )
    cluster.add_dag(f"{dag_id}.py", source, dag_id)
    if pool_slots is not None:
        with cluster.client() as client:
            client.set_pool("default_pool", pool_slots)
    run_id, elapsed = cluster.run(dag_id, timeout=900)
    attempts = _attempts(cluster, dag_id, run_id)
    ran = Counter(executions.read_text().split()) if executions.exists() else Counter()
    once = len(ran) == n and set(ran.values()) == {1} and all(a.state == "success" for a in attempts.values())
    if not once:
        twice = sum(count - 1 for count in ran.values())
        raise RuntimeError(
            f"{dag_id}: {len(ran)} of {n} task instances executed, {twice} extra executions; "
            f"{sum(a.state == 'success' for a in attempts.values())} recorded as success"
        )
    return {
        "tasks": n,
        "tasks_per_s": n / elapsed,
        "run_s": elapsed,
        "executions": sum(ran.values()),
        "all_succeeded_once": once,
    }


def wide_deep(cluster: BenchCluster, layers: int, width: int) -> dict[str, Any]:
    source = (
        "from tradewind import DAG, BashOperator\n"
        f"with DAG('bench_wide_deep', schedule=None, max_active_tasks={width}):\n"
        "    previous = None\n"
        f"    for layer in range({layers}):\n"
        f"        current = [BashOperator(task_id=f'l{{layer}}_{{i}}', bash_command='true') for i in range({width})]\n"
        "        if previous:\n"
        "            for a, b in zip(previous, current):\n"
        "                a >> b\n"
        "        previous = current\n"
    )
    cluster.add_dag("bench_wide_deep.py", source, "bench_wide_deep")
    with cluster.client() as client:
        client.set_pool("default_pool", 10_000)
    process = cluster.coordinator_process()
    before = process.cpu_times()
    _, elapsed = cluster.run("bench_wide_deep", timeout=1800)
    after = process.cpu_times()
    cpu = (after.user + after.system) - (before.user + before.system)
    total = layers * width
    return {"tasks": total, "cpu_ms_per_ti": cpu * 1000 / total, "peak_rss_mb": _peak_rss_mb(process), "run_s": elapsed}


def many_dags(cluster: BenchCluster, n: int) -> dict[str, Any]:
    for i in range(n):
        (cluster.dags / f"many_{i:04d}.py").write_text(
            "from tradewind import DAG, BashOperator, chain\n"
            f"with DAG('many_{i:04d}', schedule=None):\n"
            "    chain(*[BashOperator(task_id=f't{j}', bash_command='true') for j in range(10)])\n"
        )
    start = time.perf_counter()
    with cluster.client() as client:
        wait_for(lambda: len(client.list_dags("many_").dags) >= n, 900, f"{n} DAGs", interval=0.2)
        parsed_s = time.perf_counter() - start
        first = {d.dag_id: d.last_parsed_at.ToDatetime() for d in client.list_dags("many_").dags}
        time.sleep(3)  # three rescans of an unchanged folder
        again = {d.dag_id: d.last_parsed_at.ToDatetime() for d in client.list_dags("many_").dags}
    reparsed = sum(1 for k in first if again.get(k) != first[k])
    return {"dags": n, "parse_all_s": parsed_s, "reparsed_on_rescan": reparsed}


def idle(cluster: BenchCluster, seconds: float) -> dict[str, Any]:
    processes = [psutil.Process(p.pid) for p in cluster.procs]
    family = processes + [c for p in processes for c in p.children(recursive=True)]
    writes_before = _metastore_writes(cluster)
    before = {p.pid: p.cpu_times() for p in family}
    time.sleep(seconds)
    cpu = 0.0
    for p in family:
        now = p.cpu_times()
        cpu += (now.user + now.system) - (before[p.pid].user + before[p.pid].system)
    writes = _metastore_writes(cluster) != writes_before
    rss = {p.name() + f"[{p.pid}]": round(p.memory_info().rss / 2**20, 1) for p in family}
    return {"seconds": seconds, "cpu_pct_of_core": cpu / seconds * 100, "metastore_written": writes, "rss_mb": rss}


def _metastore_writes(cluster: BenchCluster) -> Any:
    """Something that changes whenever the metastore is written: file stamps, or PostgreSQL's row counters."""
    if cluster.db.startswith("sqlite"):
        files = [cluster.home / "tradewind.db", cluster.home / "tradewind.db-wal"]
        return [f.stat().st_mtime_ns if f.exists() else 0 for f in files]
    import psycopg2

    time.sleep(11)  # an idle PostgreSQL backend publishes its table statistics within 10 s
    with psycopg2.connect(cluster.db) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables")
        return cursor.fetchone()


def history(cluster_factory: Any, n: int) -> dict[str, Any]:
    """Trigger-to-first-task and list latencies with `n` finished task instances in the measured
    DAG's own past runs, against none. The history belongs to the DAG that is triggered and listed,
    so every query that reads its runs, grid and task instances meets it; pages hold the `runs`
    newest runs either way, so only what lies beneath them differs."""
    tasks, runs = 10, 5
    source = (
        "from tradewind import DAG, BashOperator, chain\nwith DAG('bench_history', schedule=None):\n"
        f"    chain(*[BashOperator(task_id=f't{{j}}', bash_command='true') for j in range({tasks})])\n"
    )
    out: dict[str, Any] = {}
    for label, rows in (("empty", 0), ("full", n)):
        cluster = cluster_factory()
        cluster.start()
        try:
            cluster.add_dag("bench_history.py", source, "bench_history")
        finally:
            cluster.stop()
        written = fill_runs(cluster.db, "bench_history", rows // tasks) if rows else 0
        cluster.start()
        try:
            latencies = []
            for _ in range(runs):
                run_id, _ = cluster.run("bench_history")
                attempt = _attempts(cluster, "bench_history", run_id)["t0"]
                db = connect(cluster.db)
                run: Any = m.DagRun.get((m.DagRun.dag_id == "bench_history") & (m.DagRun.run_id == run_id))
                db.close()
                latencies.append((attempt.started_at - run.queued_at).total_seconds() * 1000)
            with cluster.client() as client:
                requests: dict[str, Any] = {
                    "list_dag_runs": partial(client.list_dag_runs, "bench_history", page_size=runs),
                    "get_dag_grid": partial(client.get_dag_grid, "bench_history", page_size=runs),
                    "list_dags": client.list_dags,
                    "list_task_instances": partial(client.list_task_instances, "bench_history", run_id),
                }
                each: dict[str, list[float]] = {name: [] for name in requests}
                for _ in range(20):
                    for name, request in requests.items():
                        start = time.perf_counter()
                        request()
                        each[name].append((time.perf_counter() - start) * 1000)
            out[label] = {
                "task_instances": written,
                "trigger_to_start_ms": statistics.median(latencies),
                "list_calls_ms": sum(statistics.median(v) for v in each.values()),
                "by_call_ms": {name: round(statistics.median(v), 2) for name, v in each.items()},
            }
        finally:
            cluster.stop()
    out["ratio_start"] = out["full"]["trigger_to_start_ms"] / max(out["empty"]["trigger_to_start_ms"], 1e-9)
    out["ratio_list"] = out["full"]["list_calls_ms"] / max(out["empty"]["list_calls_ms"], 1e-9)
    out["task_instances"] = out["full"]["task_instances"]
    return out


def insert_in_batches(model: Any, rows: list[dict[str, Any]], size: int = 500) -> None:
    for start in range(0, len(rows), size):
        model.insert_many(rows[start : start + size]).execute()


def fill_runs(url: str, dag_id: str, runs: int) -> int:
    """`runs` finished runs of `dag_id` with a task instance per task; returns the task instances written."""
    db = connect(url)
    rng = random.Random(7)
    try:
        version = m.DagVersion.select().where(m.DagVersion.dag_id == dag_id).order_by(m.DagVersion.id.desc()).get()
        task_ids = [t["task_id"] for t in json.loads(version.serialized)["tasks"]]
        run_base = m.DagRun.select(peewee.fn.COALESCE(peewee.fn.MAX(m.DagRun.id), 0)).scalar()
        ti_base = m.TaskInstance.select(peewee.fn.COALESCE(peewee.fn.MAX(m.TaskInstance.id), 0)).scalar()
        start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=runs)
        written = 0
        with db.atomic():
            batch_runs: list[dict[str, Any]] = []
            batch_tis: list[dict[str, Any]] = []
            for r in range(runs):
                failed = rng.random() < 0.1
                day = start + timedelta(days=r)
                run_pk = run_base + r + 1
                run_id = f"scheduled__{day:%Y-%m-%dT00:00:00}+00:00"
                batch_runs.append(
                    {
                        "id": run_pk,
                        "dag_id": dag_id,
                        "run_id": run_id,
                        "state": "failed" if failed else "success",
                        "run_type": "scheduled",
                        "logical_date": day,
                        "queued_at": day,
                        "start_date": day,
                        "end_date": day + timedelta(minutes=3),
                        "dag_version_id": version.id,
                        "conf": "{}",
                    }
                )
                for t, task_id in enumerate(task_ids):
                    state = "failed" if failed and t == len(task_ids) // 2 else "success"
                    batch_tis.append(
                        {
                            "id": ti_base + written + 1,
                            "dag_run_id": run_pk,
                            "dag_id": dag_id,
                            "run_id": run_id,
                            "task_id": task_id,
                            "state": state,
                            "try_number": 1,
                        }
                    )
                    written += 1
                if len(batch_tis) >= 20_000 or r == runs - 1:
                    insert_in_batches(m.DagRun, batch_runs)
                    insert_in_batches(m.TaskInstance, batch_tis)
                    batch_runs, batch_tis = [], []
        return written
    finally:
        db.close()


def event_latency(cluster: BenchCluster, n: int) -> dict[str, Any]:
    """An external asset event (EmitAssetEvent) to the start of the first task of the DAG it
    schedules, one event at a time: from just before the request is sent to the task's start."""
    source = (
        "from tradewind import DAG, Asset, BashOperator\n"
        "with DAG('bench_on_asset', schedule=[Asset('bench://event')]):\n"
        "    BashOperator(task_id='first', bash_command='true')\n"
    )
    cluster.add_dag("bench_on_asset.py", source, "bench_on_asset")
    latencies = []
    with cluster.client() as client:
        for _ in range(n):
            sent = datetime.now(UTC)
            (run,) = client.emit_asset_event("bench://event").dag_runs

            def started(run_id: str = run.run_id) -> Any:
                found = _attempts(cluster, "bench_on_asset", run_id).get("first")
                return found if found is not None and found.ended_at is not None else None

            attempt = wait_for(started, 60, f"run {run.run_id} to start", interval=0.02)
            latencies.append((attempt.started_at.replace(tzinfo=UTC) - sent).total_seconds() * 1000)
    return {
        "events": n,
        "event_to_start_p50_ms": statistics.median(latencies),
        "event_to_start_p99_ms": percentile(latencies, 0.99),
    }
