"""depends_on_past and wait_for_downstream: a task instance waits for the same task in the
previous run (by logical date) to have succeeded or been skipped, and with wait_for_downstream
for that task's direct downstream task instances there too, as Airflow's PrevDagrunDep.

Event driven: when a task instance of a DAG with such tasks finishes, the waiting task
instances of the later live runs are evaluated again. Only DAGs with such tasks keep a
`PastIndex` (their live runs, the run before each, and the newest); a run that ends leaves the
states it ended in there. After a restart, or when an old run is brought back to be cleared,
the engine reads the run before it from the metastore (`remember_past`).
"""

from __future__ import annotations

from coordinator.records import PastRun, Run, TaskInstance
from coordinator.scheduling.slots import Slots
from tradewind.states import TaskState

T = TaskState
#: The states of a previous task instance that let the next one run.
PASSED = frozenset({T.SUCCESS, T.SKIPPED})


class Past(Slots):
    def _past_blocker(self, ti: TaskInstance) -> tuple[str, str] | None:
        """(task_id, run_id) of the task instance in the previous run this one waits for, or None."""
        spec = ti.spec
        run = ti.run
        if not spec.depends_on_past:
            return None
        entry = self.dags.get(run.dag_id)
        if entry is None:
            return None
        before = entry.past.previous(run.logical_date, run.id, skip_manual=run.dag.catchup)
        if before is None:
            return None
        if before.run is not None and not before.run.tis:
            return (ti.task_id, before.run_id)
        state = before.state_of(ti.task_id)
        if state is None:
            return None if spec.ignore_first_depends_on_past else (ti.task_id, before.run_id)
        if state not in PASSED:
            return (ti.task_id, before.run_id)
        if spec.wait_for_downstream:
            for child in run.dag.downstream[ti.task_id]:
                child_state = before.state_of(child)
                if child_state is not None and child_state not in PASSED:
                    return (child, before.run_id)
        return None

    def _past_track(self, run: Run) -> None:
        """A live run of a DAG with depends_on_past tasks joins its DAG's index."""
        entry = self.dags.get(run.dag_id)
        if entry is not None and run.dag.uses_past:
            entry.past.add(PastRun(run.id, run.run_id, run.logical_date, run.run_type == "manual", run=run))

    def _past_ended(self, run: Run) -> None:
        entry = self.dags.get(run.dag_id)
        if entry is None or not run.dag.uses_past:
            return
        states = {task_id: ti.state for task_id, ti in run.tis.items()}
        entry.past.add(PastRun(run.id, run.run_id, run.logical_date, run.run_type == "manual", states))
        entry.past.prune(skip_manual=run.dag.catchup)

    def remember_past(self, dag_id: str, past: PastRun) -> None:
        """A run read from the metastore that a live run's depends_on_past may need (not if live)."""
        entry = self.dags.get(dag_id)
        if entry is not None and (past.logical_date, past.pk) not in entry.past.runs:
            entry.past.add(past)

    def _past_follow(self, ti: TaskInstance) -> None:
        """Evaluate again the task instances of later runs that may have waited for `ti`."""
        run = ti.run
        if not run.dag.uses_past:
            return
        entry = self.dags.get(run.dag_id)
        if entry is None:
            return
        for later in entry.past.later_live(run.logical_date, run.id):
            spec = later.dag.tasks.get(ti.task_id)
            if spec is None:
                continue
            waiting = [later.tis[ti.task_id]] if spec.depends_on_past and ti.task_id in later.tis else []
            waiting += [
                later.tis[up] for up in spec.upstream if later.dag.tasks[up].wait_for_downstream and up in later.tis
            ]
            self._evaluate([w for w in waiting if w.state is T.NONE])

    def _evaluate(self, candidates: list[TaskInstance]) -> None:
        raise NotImplementedError
