"""Random SIGKILLs of workers and of the coordinator while mixed DAGs run, on SQLite and PostgreSQL.

Every task execution appends a line to one file ("dag run task try execution-id start", and
"... done" when it got to its end), so what ran is counted from the executions themselves and
compared with what the metastore recorded: every run ends, every recorded success executed, and
every execution has its own attempt row (none ran twice under one recorded attempt). No task can
fail by itself (the flaky ones have retries), and a lost worker must not use up a try, so every
task instance ends in success. Workers are also frozen (SIGSTOP) for a while; at the end every
worker serves again.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import failed
from tests.harness import Cluster, Process, assert_eventually, cluster_in, write_dag
from tests.pg import fresh_database
from tradewind.client import Client
from tradewind.exceptions import ApiError
from tradewind.wire import run_state_from_pb, task_state_from_pb

SEED = int(os.environ.get("TRADEWIND_CHAOS_SEED", "8"))
CHAOS_SECONDS = 25.0
SETTLE_SECONDS = 40.0
WORKERS = ("w1", "w2", "w3")
TERMINAL_RUNS = {"success", "failed"}
TERMINAL_TIS = {"success", "failed", "upstream_failed", "skipped", "removed"}

BASH = (
    'id=$(cat /proc/sys/kernel/random/uuid); line="{{ dag_id }} {{ run_id }} {{ task_id }} {{ ti.try_number }} $id"; '
    'echo "$line start" >> EXECUTIONS; FAIL sleep SECONDS; echo "$line done" >> EXECUTIONS'
)
FAIL_FIRST_TRY = "if [ {{ ti.try_number }} -lt 2 ]; then exit 1; fi;"

PYTHON_RECORD = """
import time, uuid
from datetime import timedelta

def record(context, seconds, fail_first_try=False):
    line = " ".join(str(context[k]) for k in ("dag_id", "run_id", "task_id", "try_number")) + " " + uuid.uuid4().hex
    with open("EXECUTIONS", "a") as out:
        out.write(line + " start\\n")
    if fail_first_try and context["try_number"] < 2:
        raise RuntimeError("fails on its first try")
    time.sleep(seconds)
    with open("EXECUTIONS", "a") as out:
        out.write(line + " done\\n")
"""


def bash(seconds: float, fail_first_try: bool = False) -> str:
    return BASH.replace("FAIL ", FAIL_FIRST_TRY if fail_first_try else "").replace("SECONDS", str(seconds))


DAGS = {
    "chaos_chain.py": f"""
from datetime import timedelta
from tradewind import DAG, BashOperator

with DAG(dag_id="chaos_chain", schedule=None):
    a = BashOperator(task_id="a", bash_command={bash(0.3)!r})
    b = BashOperator(task_id="b", bash_command={bash(0.5)!r})
    c = BashOperator(task_id="c", bash_command={bash(0.2, True)!r}, retries=2, retry_delay=timedelta(0))
    d = BashOperator(task_id="d", bash_command={bash(0.4)!r})
    a >> b >> c >> d
""",
    "chaos_fanout.py": PYTHON_RECORD
    + f"""
from tradewind import DAG, BashOperator, task

with DAG(dag_id="chaos_fanout", schedule=None):
    @task
    def merge(**context):
        record(context, 0.2)

    shards = [BashOperator(task_id=f"shard_{{i}}", bash_command={bash(0.6)!r}) for i in range(6)]
    BashOperator(task_id="start", bash_command={bash(0.1)!r}) >> shards >> merge()
""",
    "chaos_taskflow.py": PYTHON_RECORD
    + """
from tradewind import dag, task

@dag(schedule=None)
def chaos_taskflow():
    @task
    def numbers(**context):
        record(context, 0.3)
        return [1, 2, 3]

    @task(retries=2, retry_delay=timedelta(0))
    def doubled(values, **context):
        record(context, 0.3, fail_first_try=True)
        return [2 * v for v in values]

    @task
    def total(values, **context):
        record(context, 0.2)
        assert sum(values) == 12, values

    total(doubled(numbers()))

chaos_taskflow()
""",
}
DAG_IDS = ("chaos_chain", "chaos_fanout", "chaos_taskflow")


@dataclass
class Chaos:
    """The cluster under test and what was done to it."""

    cluster: Cluster
    rng: random.Random
    workers: dict[str, Process] = field(default_factory=dict)
    kills: Counter[str] = field(default_factory=Counter)
    triggered: list[tuple[str, str]] = field(default_factory=list)
    #: Frozen workers (SIGSTOP), and how many more rounds until they are thawed.
    frozen: dict[str, int] = field(default_factory=dict)

    def restart_coordinator(self) -> None:
        def started() -> Process | None:
            with contextlib.suppress(RuntimeError):  # it exited before listening: try again
                return self.cluster.coordinator(port=self.cluster.port)
            return None

        assert_eventually(started, 30, "the coordinator to restart on its port", interval=0.2)

    def start_missing_workers(self) -> None:
        """A worker that was killed, or that exited by itself, is started again under its name."""
        for name in WORKERS:
            if name not in self.workers or self.workers[name].popen.poll() is not None:
                self.workers[name] = self.cluster.worker(name)

    def kill_something(self) -> None:
        """SIGKILL the coordinator (a fifth of the time) or a worker, alone or with its task processes,
        or freeze a worker (SIGSTOP) for two rounds, which outlasts the heartbeat timeout about half the time."""
        roll = self.rng.random()
        if roll < 0.2:
            coordinator = next(p for p in reversed(self.cluster.processes) if p.name.startswith("coordinator"))
            coordinator.kill_group()
            self.kills["coordinator"] += 1
            self.restart_coordinator()
            return
        name = self.rng.choice(WORKERS)
        if roll < 0.35:
            if name not in self.frozen:
                self.signal_group(name, signal.SIGSTOP)
                self.frozen[name] = 2
                self.kills["freeze"] += 1
            return
        if self.frozen.pop(name, None) is not None:
            # A frozen worker killed alone: the rest of its group (its fork server) carries on, and
            # sees its owner gone, as it would after the freeze ends on a real machine.
            self.signal_group(name, signal.SIGCONT)
        if self.rng.random() < 0.5:
            self.workers[name].kill_group()
        else:
            self.workers[name].kill()
        self.kills["worker"] += 1

    def thaw(self, everyone: bool = False) -> None:
        for name, rounds in list(self.frozen.items()):
            if everyone or rounds <= 1:
                self.signal_group(name, signal.SIGCONT)
                del self.frozen[name]
            else:
                self.frozen[name] = rounds - 1

    def signal_group(self, name: str, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.workers[name].pid, sig)

    def trigger(self, client: Client, dag_id: str, run_id: str) -> bool:
        """True once the run exists; a call lost with a killed coordinator is simply tried again."""
        try:
            client.trigger_dag(dag_id, run_id=run_id)
        except ApiError as exc:
            if exc.code != "ALREADY_EXISTS":
                return False
        self.triggered.append((dag_id, run_id))
        return True


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def chaos_cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    if request.param == "sqlite":
        yield from cluster_in(tmp_path, lambda: failed(request))
    else:
        with fresh_database() as url:
            yield from cluster_in(tmp_path, lambda: failed(request), db_url=url)


def test_kills_of_workers_and_coordinator_lose_no_run_and_record_every_execution(chaos_cluster: Cluster) -> None:
    cluster = chaos_cluster
    executions = cluster.home / "executions.txt"
    for name, source in DAGS.items():
        write_dag(cluster.dags, name, source.replace("EXECUTIONS", str(executions)))
    cluster.coordinator()
    chaos = Chaos(cluster, random.Random(SEED))
    chaos.start_missing_workers()
    with cluster.client() as client:
        assert_eventually(lambda: len(client.list_dags().dags) == len(DAG_IDS), 30, "the chaos DAGs to be parsed")
        unleash(chaos, client)
        task_instances = assert_eventually(
            lambda: settled(chaos, client), SETTLE_SECONDS, "every run and task instance to end", interval=0.5
        )
        problems = compare(chaos, client, task_instances, *read_executions(executions))
        try:
            assert_eventually(
                lambda: all_workers_serve(chaos, client), 15, "every worker, thawed or restarted, to serve"
            )
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, "\n".join(problems)


def unleash(chaos: Chaos, client: Client) -> None:
    """Trigger the runs one a round while killing and freezing; then thaw and restart everything."""
    pending = [(DAG_IDS[n % len(DAG_IDS)], f"chaos_{n:02d}") for n in range(12)]
    end = time.monotonic() + CHAOS_SECONDS
    while time.monotonic() < end:
        if pending and chaos.trigger(client, *pending[0]):
            pending.pop(0)
        chaos.thaw()
        chaos.kill_something()
        chaos.start_missing_workers()
        time.sleep(chaos.rng.uniform(1.0, 2.5))  # pacing of the kills, not a wait for a condition
    chaos.thaw(everyone=True)
    chaos.start_missing_workers()
    for run in pending:
        assert_eventually(lambda run=run: chaos.trigger(client, *run), 30, f"run {run} to be triggered")


def settled(chaos: Chaos, client: Client) -> dict[str, list[Any]] | None:
    """Every triggered run's task instances, once every run and task instance has ended."""
    try:
        tis = {
            run_id: list(client.list_task_instances(dag_id, run_id).task_instances)
            for dag_id, run_id in chaos.triggered
        }
        runs = {r.run_id: run_state_from_pb(r.state) for r in client.list_dag_runs(page_size=1000).dag_runs}
    except ApiError:
        return None
    done = all(runs.get(run_id) in TERMINAL_RUNS for _, run_id in chaos.triggered) and all(
        task_state_from_pb(ti.state) in TERMINAL_TIS for rows in tis.values() for ti in rows
    )
    return tis if done else None


def read_executions(path: Path) -> tuple[dict[tuple[str, ...], set[str]], set[tuple[str, ...]]]:
    """Execution ids by (dag, run, task, try), and the keys of executions that reached their end."""
    starts: defaultdict[tuple[str, ...], set[str]] = defaultdict(set)
    done: set[tuple[str, ...]] = set()
    for line in path.read_text().splitlines():
        dag_id, run_id, task_id, try_number, execution, phase = line.split()
        key = (dag_id, run_id, task_id, try_number)
        starts[key].add(execution)
        if phase == "done":
            done.add(key)
    return starts, done


def compare(
    chaos: Chaos,
    client: Client,
    task_instances: dict[str, list[Any]],
    starts: dict[tuple[str, ...], set[str]],
    done: set[tuple[str, ...]],
) -> list[str]:
    """What the metastore recorded against what executed; prints the counts, returns the problems."""
    attempts: Counter[tuple[str, ...]] = Counter()
    unexecuted_successes, failures = [], []
    for dag_id, run_id in chaos.triggered:
        for ti in task_instances[run_id]:
            detail = client.get_task_instance(dag_id, run_id, ti.task_id)
            for attempt in detail.attempts:
                attempts[(dag_id, run_id, ti.task_id, str(attempt.try_number))] += 1
            state = task_state_from_pb(ti.state)
            if state == "success" and (dag_id, run_id, ti.task_id, str(ti.try_number)) not in done:
                unexecuted_successes.append(f"{dag_id}/{run_id}/{ti.task_id} try {ti.try_number}")
            if state == "failed":
                error = detail.attempts[-1].error if detail.attempts else ""
                failures.append(f"{dag_id}/{run_id}/{ti.task_id}: {error}")
    double_runs = {key: len(ids) - attempts[key] for key, ids in starts.items() if len(ids) > attempts[key]}
    print(
        f"chaos (seed {SEED}): {len(chaos.triggered)} runs, {sum(map(len, starts.values()))} executions, "
        f"{sum(attempts.values())} attempts, {chaos.kills['worker'] + chaos.kills['coordinator']} kills "
        f"({chaos.kills['worker']} of workers, {chaos.kills['coordinator']} of the coordinator), "
        f"{chaos.kills['freeze']} worker freezes, "
        f"{sum(double_runs.values())} unrecorded double runs, {len(failures)} failed task instances"
    )
    problems = []
    if unexecuted_successes:
        problems.append(f"recorded as success but never ran to its end: {unexecuted_successes}")
    if double_runs:
        problems.append(f"executions without their own attempt row (task, try: extra runs): {double_runs}")
    if failures:
        problems.append(f"a task that fails only on its first try, with retries, failed: {failures}")
    return problems


def all_workers_serve(chaos: Chaos, client: Client) -> bool:
    """Whether every worker is active; one that exited (refused while its old session lingered, say)
    is started again, as its supervisor would."""
    chaos.start_missing_workers()
    states = {w.name: w.state for w in client.list_workers().workers}
    return all(states.get(name) == "active" for name in WORKERS)
