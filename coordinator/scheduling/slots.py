"""The counters that must agree, owned here and nowhere else.

A task instance on a worker (queued or running) holds one slot of that worker, `pool_slots`
of its pool, and counts toward its DAG's max_active_tasks and the sequential executor's one. A
deferred task instance keeps its pool slots, and nothing else, when its pool includes deferred.
An attempt cancelled while running keeps its worker slot (only) until the worker reports it
ended: the process still runs there. `invariant_errors` is what the tests check after every
event.
"""

from __future__ import annotations

from typing import Any

from coordinator.records import TaskInstance
from coordinator.scheduling.base import SchedulerBase
from coordinator.sessions import WorkerSession
from tradewind.states import FINISHED, ON_WORKER, RunState


class Slots(SchedulerBase):
    def _hold(self, ti: TaskInstance, worker: WorkerSession) -> None:
        worker.running.add(ti.id)
        spec = ti.spec
        self.pool_used[spec.pool] = self.pool_used.get(spec.pool, 0) + spec.pool_slots
        self.dags[ti.run.dag_id].on_workers += 1
        self.on_workers += 1

    def _release(self, ti: TaskInstance, worker: WorkerSession | None = None) -> None:
        worker = worker or self.workers.get(ti.worker)
        if worker is None or ti.id not in worker.running:
            return
        worker.running.discard(ti.id)
        spec = ti.spec
        self.pool_used[spec.pool] = self.pool_used.get(spec.pool, 0) - spec.pool_slots
        self.dags[ti.run.dag_id].on_workers -= 1
        self.on_workers -= 1

    def _attempt_ended_on(self, worker: WorkerSession | None, attempt_id: int) -> None:
        """One of the worker's attempts ended: a slot there is free again."""
        if worker is not None:
            worker.cancelled.discard(attempt_id)
            worker.full = False


def invariant_errors(s: Any) -> list[str]:
    """Every way the counters disagree with the records; empty when all is well."""
    errors = []
    held = [(w, s.tis.get(ti_id), ti_id) for w in s.workers.values() for ti_id in w.running]
    pools: dict[str, int] = {}
    per_dag: dict[str, int] = {}
    for worker, ti, ti_id in held:
        if ti is None:
            errors.append(f"worker {worker.name!r} holds unknown task instance {ti_id}")
            continue
        if ti.state not in ON_WORKER or ti.worker != worker.name:
            errors.append(f"worker {worker.name!r} holds {ti.label()} in state {ti.state} on {ti.worker!r}")
        pools[ti.spec.pool] = pools.get(ti.spec.pool, 0) + ti.spec.pool_slots
        per_dag[ti.run.dag_id] = per_dag.get(ti.run.dag_id, 0) + 1
    for ti_id in s.deferred_in_pools:
        ti = s.tis.get(ti_id)
        if ti is None or ti.state.value != "deferred":
            errors.append(f"deferred task instance {ti_id} keeps pool slots but is {ti.state if ti else 'unknown'}")
            continue
        pools[ti.spec.pool] = pools.get(ti.spec.pool, 0) + ti.spec.pool_slots
    if s.on_workers != len(held):
        errors.append(f"on_workers is {s.on_workers}, but workers hold {len(held)}")
    for pool in set(pools) | set(s.pool_used):
        if s.pool_used.get(pool, 0) != pools.get(pool, 0):
            errors.append(f"pool {pool!r} used is {s.pool_used.get(pool, 0)}, held {pools.get(pool, 0)}")
    for dag_id, entry in s.dags.items():
        if entry.on_workers != per_dag.get(dag_id, 0):
            errors.append(f"DAG {dag_id!r} on_workers is {entry.on_workers}, held {per_dag.get(dag_id, 0)}")
        running = sum(1 for r in s.runs.values() if r.dag_id == dag_id and r.state is RunState.RUNNING)
        if entry.running_runs != running:
            errors.append(f"DAG {dag_id!r} running_runs is {entry.running_runs}, but {running} runs run")
    for ti in s.tis.values():
        if ti.state in ON_WORKER:
            worker = s.workers.get(ti.worker)
            if worker is None or ti.id not in worker.running:
                errors.append(f"{ti.label()} is {ti.state} on {ti.worker!r}, which does not hold it")
    for run in s.runs.values():
        unfinished = sum(1 for ti in run.every_ti() if ti.state not in FINISHED)
        if run.state is RunState.RUNNING and run.unfinished != unfinished:
            errors.append(f"run {run.run_id!r} unfinished is {run.unfinished}, counted {unfinished}")
    return errors
