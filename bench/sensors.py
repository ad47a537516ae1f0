"""The workloads of sensors and deferral: waiting tasks that hold no worker slot."""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil

from bench.cluster import BenchCluster, wait_for
from bench.workloads import _attempts, percentile
from tradewind.v1 import common_pb2

DEFERRED = common_pb2.TASK_STATE_DEFERRED
SUCCESS = common_pb2.TASK_STATE_SUCCESS


def _states(cluster: BenchCluster, dag_id: str, run_id: str) -> list[int]:
    with cluster.client() as client:
        return [ti.state for ti in client.list_task_instances(dag_id, run_id).task_instances]


def _running_on_workers(cluster: BenchCluster) -> int:
    with cluster.client() as client:
        return sum(w.running for w in client.list_workers().workers)


def deferred_wait(cluster: BenchCluster, n: int, wait_s: float) -> dict[str, Any]:
    """n tasks defer at once on time triggers `wait_s` ahead; the triggerer's RSS and CPU while
    they wait, whether any worker slot is held meanwhile, and whether all resume."""
    source = (
        "from datetime import timedelta\n"
        "from tradewind import DAG, BaseOperator, TimeDeltaTrigger\n"
        "class Wait(BaseOperator):\n"
        "    def execute(self, context):\n"
        f"        self.defer(trigger=TimeDeltaTrigger(timedelta(seconds={wait_s})), method_name='done')\n"
        "    def done(self, context, event=None):\n"
        "        return None\n"
        "with DAG('bench_deferred', schedule=None):\n"
        f"    for i in range({n}):\n"
        "        Wait(task_id=f'w{i:04d}')\n"
    )
    cluster.add_dag("bench_deferred.py", source, "bench_deferred")
    with cluster.client() as client:
        run_id = client.trigger_dag("bench_deferred").dag_run.run_id
    start = time.monotonic()
    wait_for(lambda: _states(cluster, "bench_deferred", run_id).count(DEFERRED) == n, 600, "every task deferred", 0.2)
    deferred_s = time.monotonic() - start
    triggerer = psutil.Process(cluster.triggerers[0].pid)
    before, sampled = triggerer.cpu_times(), time.monotonic()
    slots_held = 0
    while time.monotonic() - sampled < min(wait_s / 2, 10):
        slots_held = max(slots_held, _running_on_workers(cluster))
        time.sleep(0.5)
    after, window = triggerer.cpu_times(), time.monotonic() - sampled
    with cluster.client() as client:
        running = {t.name: t.triggers for t in client.list_workers().triggerers}
    cpu = (after.user + after.system - before.user - before.system) / window * 100
    rss = triggerer.memory_info().rss / 2**20
    wait_for(lambda: _states(cluster, "bench_deferred", run_id).count(SUCCESS) == n, 600, "every task resumed", 0.5)
    return {
        "tasks": n,
        "deferred_all_s": deferred_s,
        "triggerer_rss_mb": rss,
        "triggerer_cpu_pct": cpu,
        "triggers_by_triggerer": running,
        "slots_held_while_waiting": slots_held,
        "all_resumed": True,
        "run_s": time.monotonic() - start,
    }


def file_latency(cluster: BenchCluster, samples: int, folder: str) -> dict[str, Any]:
    """A file appearing to the downstream task of a deferrable FileSensor starting. The files land
    in a folder of their own (`folder`/landing), as they would, not beside the metastore."""
    source = (
        "from tradewind import DAG, BashOperator, FileSensor\n"
        "with DAG('bench_file_event', schedule=None):\n"
        "    FileSensor(task_id='wait', filepath='{{ dag_run.conf[\"path\"] }}', deferrable=True,\n"
        "               poke_interval=60) >> BashOperator(task_id='next', bash_command='true')\n"
    )
    cluster.add_dag("bench_file_event.py", source, "bench_file_event")
    latencies = []
    landing = os.path.join(folder, "landing")
    os.makedirs(landing, exist_ok=True)
    with cluster.client() as client:
        for i in range(samples):
            path = f"{landing}/ready-{i}"
            run_id = client.trigger_dag("bench_file_event", {"path": path}).dag_run.run_id
            wait_for(lambda r=run_id: DEFERRED in _states(cluster, "bench_file_event", r), 60, "the deferral", 0.02)
            time.sleep(0.05)  # the trigger is on its triggerer
            written = datetime.now(UTC)
            with open(path, "w") as handle:
                handle.write("x")
            wait_for(
                lambda r=run_id: _states(cluster, "bench_file_event", r) == [SUCCESS, SUCCESS], 60, "the run", 0.25
            )
            started = _attempts(cluster, "bench_file_event", run_id)["next"].started_at.replace(tzinfo=UTC)
            latencies.append((started - written).total_seconds() * 1000)
    return {
        "samples": samples,
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
    }


def reschedule_sensor(cluster: BenchCluster, n: int, seconds: float) -> dict[str, Any]:
    """n sensors in reschedule mode poking every second for `seconds` on the cluster's slots."""
    source = (
        "from tradewind import DAG, DateTimeSensor\n"
        "with DAG('bench_reschedule', schedule=None):\n"
        f"    for i in range({n}):\n"
        "        DateTimeSensor(task_id=f's{i:03d}', target_time='{{ dag_run.conf[\"until\"] }}',\n"
        "                       mode='reschedule', poke_interval=1)\n"
    )
    cluster.add_dag("bench_reschedule.py", source, "bench_reschedule")
    until = datetime.now(UTC) + timedelta(seconds=seconds + 5)
    with cluster.client() as client:
        run_id = client.trigger_dag("bench_reschedule", {"until": until.isoformat()}).dag_run.run_id
    capacity = cluster.workers * cluster.slots
    most_on_workers, waiting_seen = 0, 0
    start = time.monotonic()
    while True:
        states = _states(cluster, "bench_reschedule", run_id)
        if states.count(SUCCESS) == n:
            break
        on_workers = sum(1 for s in states if s in (common_pb2.TASK_STATE_QUEUED, common_pb2.TASK_STATE_RUNNING))
        most_on_workers = max(most_on_workers, on_workers)
        waiting_seen = max(waiting_seen, states.count(common_pb2.TASK_STATE_UP_FOR_RESCHEDULE))
        if time.monotonic() - start > seconds + 600:
            raise TimeoutError("the rescheduling sensors did not finish")
        time.sleep(0.5)
    pokes = sum(1 for _ in _reschedules(cluster))
    return {
        "sensors": n,
        "slots": capacity,
        "most_on_workers": most_on_workers,
        "most_up_for_reschedule": waiting_seen,
        "reschedules": pokes,
        "finished_s": time.monotonic() - start,
        "all_finished": True,
    }


def _reschedules(cluster: BenchCluster) -> list[Any]:
    from coordinator.metastore import models as m
    from coordinator.metastore.db import connect

    db = connect(cluster.db)
    try:
        return list(m.TaskReschedule.select(m.TaskReschedule.id))
    finally:
        db.close()
