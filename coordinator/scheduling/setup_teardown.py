"""Setup and teardown tasks in the scheduler: Airflow's setup constraint and what a clear takes along.

A task inside a setup's scope (downstream of it and upstream of one of its teardowns) does not
run when that setup failed or was skipped, whatever its own trigger rule says; the teardown's
own rule (`all_done_setup_success`) counts its direct setups in `UpstreamCounts`. Clearing a
task clears the setups of its scope and their teardowns, so the resource is made again.
"""

from __future__ import annotations

from coordinator.dagspec import DagSpec
from coordinator.records import TaskInstance
from tradewind.states import TaskState
from tradewind.trigger_rules import Verdict

T = TaskState


def setup_constraint(ti: TaskInstance) -> Verdict | None:
    """upstream_failed (or skipped) when an indirect setup of the task's scope failed (or was
    skipped); None when the scope does not decide. Teardowns follow their own rule instead."""
    spec = ti.spec
    if spec.is_teardown or not spec.setup_scope:
        return None
    tis = ti.run.tis
    skipped = False
    for setup in spec.setup_scope:
        if setup in spec.upstream or setup not in tis:
            continue
        state = tis[setup].state
        if state in (T.FAILED, T.UPSTREAM_FAILED):
            return Verdict.UPSTREAM_FAILED
        skipped = skipped or state is T.SKIPPED
    return Verdict.SKIP if skipped else None


def with_setups_and_teardowns(dag: DagSpec, task_ids: set[str]) -> set[str]:
    """`task_ids` with the setups of their scopes (and their own, for setups) and those setups'
    teardowns, as Airflow's clear takes them along."""
    out = set(task_ids)
    setups = {s for task_id in task_ids for s in dag.tasks[task_id].setup_scope}
    setups |= {task_id for task_id in task_ids if dag.tasks[task_id].is_setup}
    out |= setups
    for setup in setups:
        out.update(child for child in dag.downstream[setup] if dag.tasks[child].is_teardown)
    return out
