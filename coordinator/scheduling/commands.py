"""People's commands: clear, mark, cancel a run, and pools.

A command on a task instance that a worker holds first withdraws it there: the attempt's own
token is cancelled (captured in the Cancel effect), and its late report lands on its own row.
"""

from __future__ import annotations

from coordinator.records import Run, TaskInstance
from coordinator.scheduling.membership import Membership
from coordinator.scheduling.readiness import downstream_tis
from coordinator.scheduling.setup_teardown import with_setups_and_teardowns
from tradewind.exceptions import FailedPrecondition, InvalidArgument, NotFound
from tradewind.states import FINISHED, RunState, TaskState, check_run

T = TaskState


class Commands(Membership):
    def set_pool(self, name: str, slots: int) -> None:
        self.pools[name] = slots
        self.warned_pools.discard(name)

    def delete_pool(self, name: str) -> None:
        """Refused while task instances wait for the pool or hold its slots."""
        waiting = sum(1 for ti in self.tis.values() if ti.spec.pool == name and ti.state is T.SCHEDULED)
        holding = self.pool_used.get(name, 0)
        if waiting or holding:
            raise FailedPrecondition(
                f"pool {name!r} cannot be deleted: {waiting} task instances wait for it and "
                f"{holding} of its slots are in use"
            )
        self.pools.pop(name, None)

    def _end_attempt(self, ti: TaskInstance, reason: str) -> None:
        self._withdraw(ti, reason)
        self._drop_trigger(ti)
        attempt = ti.attempt
        if attempt is not None and attempt.ended_at is None:
            attempt.ended_at = self.clock.now()
            attempt.error = attempt.error or reason
            self.changes.touch_attempt(attempt)

    def clear(self, run: Run, task_ids: list[str], include_downstream: bool) -> list[TaskInstance]:
        unknown = [t for t in task_ids if t not in run.tis]
        if unknown:
            raise NotFound(f"DAG {run.dag_id!r} run {run.run_id!r} has no task {unknown[0]!r}")
        selected = set(task_ids)
        if include_downstream:
            stack = list(task_ids)
            while stack:
                for child in run.dag.downstream[stack.pop()]:
                    if child not in selected:
                        selected.add(child)
                        stack.append(child)
        selected = with_setups_and_teardowns(run.dag, selected)
        order = [t for t in run.dag.tasks if t in selected and t in run.tis]
        cleared = []
        self._reopen(run)
        for ti in [ti for task_id in order for ti in run.instances(task_id)]:
            run.map_values.pop(ti.task_id, None)
            self._end_attempt(ti, "cleared")
            if ti.state in FINISHED:
                run.unfinished += 1
            ti.max_tries = ti.try_number + ti.spec.retries + 1
            ti.end_date = ti.next_retry_at = None
            ti.losses = 0
            if ti.state is not T.NONE:
                self._set_state(ti, T.NONE)
            cleared.append(ti)
        self._forget_xcoms(run, cleared)
        self._evaluate(list(cleared))
        return cleared

    def mark(self, run: Run, task_id: str, state: TaskState, map_index: int = -1) -> TaskInstance:
        """Mark one task instance; a mapped task's instances are marked one at a time."""
        if state not in (T.SUCCESS, T.FAILED):
            raise InvalidArgument(f"a task instance can be marked success or failed, not {state.value}")
        ti = next((t for t in run.instances(task_id) if t.map_index == map_index), None)
        if ti is None:
            index = f" with map index {map_index}" if map_index >= 0 else ""
            raise NotFound(f"DAG {run.dag_id!r} run {run.run_id!r} has no task {task_id!r}{index}")
        if ti.state is state:
            return ti
        was_finished = ti.state in FINISHED
        self._end_attempt(ti, f"marked {state.value} by hand")
        self._reopen(run)
        self._set_state(ti, state)
        ti.end_date = self.clock.now()
        if was_finished:
            self._evaluate(downstream_tis(ti))
            if run.unfinished == 0:
                self._finish_run(run)
            self._past_follow(ti)
        else:
            self._ti_finished(ti)
        return ti

    def cancel_run(self, run: Run) -> Run:
        if not run.active:
            raise FailedPrecondition(f"DAG {run.dag_id!r} run {run.run_id!r} is already {run.state.value}")
        if run.state is RunState.QUEUED:
            run.state = check_run(run.state, RunState.FAILED)
            run.end_date = self.clock.now()
            self.changes.touch_run(run)
            self._watch_run(run)
            self._forget(run)
            self._backfill_run_ended(run)
            return run
        for ti in run.every_ti():
            if ti.state in FINISHED:
                continue
            self._end_attempt(ti, "DAG run cancelled")
            self._set_state(ti, T.SKIPPED if ti.state in (T.NONE, T.SCHEDULED) else T.FAILED)
            ti.end_date = self.clock.now()
        run.unfinished = 0
        self._end_run(run, RunState.FAILED)
        return run
