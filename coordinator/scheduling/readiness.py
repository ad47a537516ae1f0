"""Readiness: trigger rules decide when a task instance runs; a try starts, fails or retries.

Readiness is decided by events: when a task instance finishes, only its downstream task
instances are evaluated. A task that chose its downstream tasks (a branch, a short-circuit)
skips the others first, as Airflow's SkipMixin does, and the skips pass on by trigger rules.
The choice is kept as its "skipmixin_key" XCom, so a task it skipped stays skipped when it is
cleared alone (Airflow's NotPreviouslySkippedDep); clearing the choosing task chooses again.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import timedelta

from coordinator.dagspec import DagSpec
from coordinator.mapspec import same_group
from coordinator.records import TaskInstance
from coordinator.scheduling.effects import RetryDue
from coordinator.scheduling.past import Past
from coordinator.scheduling.setup_teardown import setup_constraint
from tradewind.skipping import FollowTasks
from tradewind.states import RunState, TaskState
from tradewind.trigger_rules import UpstreamCounts, Verdict, evaluate

T = TaskState
#: Where a choosing task's skips are kept, as Airflow keeps them.
SKIPMIXIN_KEY = "skipmixin_key"


class Readiness(Past):
    def _evaluate(self, candidates: list[TaskInstance]) -> None:
        """Apply trigger rules to task instances in state none, following skips and failures down."""
        work = deque(candidates)
        while work:
            ti = work.popleft()
            if ti.state is not T.NONE:
                continue
            if ti.spec.mapping is not None and ti.task_id not in ti.run.map_values:
                work.extend(self._evaluate_mapped(ti))
                continue
            verdict = evaluate(ti.spec.trigger_rule, upstream_counts(ti))
            if verdict is Verdict.RUN and skipped_by_upstream(ti):
                verdict = Verdict.SKIP
            if verdict is Verdict.RUN:
                verdict = setup_constraint(ti) or verdict
            if verdict is Verdict.RUN and self._past_blocker(ti) is not None:
                verdict = Verdict.WAIT
            if verdict is Verdict.WAIT:
                continue
            if verdict is Verdict.RUN:
                self._schedule(ti)
                if ti.state is not T.SUCCESS:
                    continue
            else:
                self._set_state(ti, T.SKIPPED if verdict is Verdict.SKIP else T.UPSTREAM_FAILED)
                ti.end_date = self.clock.now()
            work.extend(downstream_tis(ti))
            self._ti_finished(ti, evaluate_downstream=False)

    def _evaluate_mapped(self, ti: TaskInstance) -> list[TaskInstance]:
        raise NotImplementedError  # coordinator.scheduling.mapping

    def _ti_finished(self, ti: TaskInstance, evaluate_downstream: bool = True) -> None:
        run = ti.run
        run.unfinished -= 1
        if evaluate_downstream:
            self._evaluate(downstream_tis(ti))
        if run.unfinished == 0 and run.state is RunState.RUNNING:
            self._finish_run(run)
        self._past_follow(ti)

    def _schedule(self, ti: TaskInstance) -> None:
        """Dependencies met: start a new try and put it in the queue (or finish an EmptyOperator)."""
        now = self.clock.now()
        if ti.spec.kind == "empty":
            self._set_state(ti, T.SUCCESS)
            ti.start_date = ti.end_date = now
            self._emit_outlets(ti)
            return
        ti.try_number += 1
        ti.next_retry_at = ti.start_date = ti.end_date = None
        ti.refused_by.clear()
        self._new_attempt(ti)
        self._set_state(ti, T.SCHEDULED)
        self.queue.push(ti)

    def _end_ti(self, ti: TaskInstance, state: TaskState) -> None:
        self._set_state(ti, state)
        ti.end_date = self.clock.now()
        if state is T.SUCCESS:
            self._emit_outlets(ti)
        self._ti_finished(ti)

    def _end_following(self, ti: TaskInstance, follow: FollowTasks) -> str:
        """Succeed a task that chose which downstream tasks run, skipping the others not yet
        started; a choice that is not a direct downstream task is returned as the failure instead."""
        run = ti.run
        direct = run.dag.downstream[ti.task_id]
        strangers = [task_id for task_id in follow.task_ids if task_id not in direct]
        if strangers:
            return (
                f"task {ti.task_id!r} chose task {strangers[0]!r}, which is not one of its direct downstream "
                f"tasks ({', '.join(direct) or 'none'})"
            )
        if follow.skip_all_downstream:
            doomed = descendants(run.dag, [ti.task_id])
        else:
            kept = {*follow.task_ids, *descendants(run.dag, follow.task_ids)}
            doomed = [task_id for task_id in direct if task_id not in kept]
        record = json.dumps({"skipped": doomed})
        run.xcoms[(ti.task_id, ti.map_index, SKIPMIXIN_KEY)] = record
        self.changes.xcoms.append((run.id, ti.task_id, ti.map_index, SKIPMIXIN_KEY, record))
        now = self.clock.now()
        skipped = []
        for other in [instance for task_id in doomed for instance in run.instances(task_id)]:
            if other.state is T.NONE:
                self._set_state(other, T.SKIPPED)
                other.end_date = now
                skipped.append(other)
        self._end_ti(ti, T.SUCCESS)
        for other in skipped:
            self._ti_finished(other)
        return ""

    def _fail(self, ti: TaskInstance, reason: str, retry: bool) -> None:
        """Fail the current try: up_for_retry when tries are left (and `retry`), else failed."""
        if ti.attempt is not None and not ti.attempt.error:
            ti.attempt.error = reason
        if ti.attempt is not None and ti.attempt.ended_at is None:
            ti.attempt.ended_at = self.clock.now()
        if retry and ti.try_number < ti.max_tries:
            delay = ti.run.dag.retry_delay(ti.task_id, ti.try_number)
            self._set_state(ti, T.UP_FOR_RETRY)
            ti.next_retry_at = self.clock.now() + timedelta(seconds=delay)
            self._timer(delay, RetryDue(ti.id, ti.token))
            return
        self._end_ti(ti, T.FAILED)

    def _retry_due(self, timer: RetryDue) -> None:
        ti = self.tis.get(timer.ti_id)
        if ti is None or ti.token != timer.token or ti.state is not T.UP_FOR_RETRY:
            return
        self._schedule(ti)


def skipped_by_upstream(ti: TaskInstance) -> bool:
    """Whether a direct upstream task chose to skip this one in its latest execution."""
    xcoms = ti.run.xcoms
    for up in ti.spec.upstream:
        record = xcoms.get((up, -1, SKIPMIXIN_KEY))
        if record is not None and ti.task_id in json.loads(record).get("skipped", ()):
            return True
    return False


def descendants(dag: DagSpec, roots: Iterable[str]) -> list[str]:
    """Every task downstream of `roots` at any depth, each once, nearest first."""
    seen: dict[str, None] = {}
    work = deque(d for root in roots for d in dag.downstream[root])
    while work:
        task_id = work.popleft()
        if task_id not in seen:
            seen[task_id] = None
            work.extend(dag.downstream[task_id])
    return list(seen)


def _upstream_states(ti: TaskInstance) -> Iterator[TaskState]:
    run = ti.run
    for up in ti.spec.upstream:
        instances = run.mapped.get(up)
        if instances is None:
            yield run.tis[up].state if up in run.tis else T.REMOVED
        elif 0 <= ti.map_index < len(instances) and same_group(run.dag.tasks[up].mapping, ti.spec.mapping):
            yield instances[ti.map_index].state
        else:
            for instance in instances:
                yield instance.state


def downstream_tis(ti: TaskInstance) -> list[TaskInstance]:
    """The task instances directly downstream: every instance of an expanded mapped task, but
    only the same index of one in the same mapped task group."""
    run = ti.run
    if not run.mapped:
        return [run.tis[d] for d in run.dag.downstream[ti.task_id] if d in run.tis]
    out = []
    for d in run.dag.downstream[ti.task_id]:
        instances = run.mapped.get(d)
        if instances is None:
            if d in run.tis:
                out.append(run.tis[d])
        elif 0 <= ti.map_index < len(instances) and same_group(ti.spec.mapping, run.dag.tasks[d].mapping):
            out.append(instances[ti.map_index])
        else:
            out.extend(instances)
    return out


def upstream_counts(ti: TaskInstance) -> UpstreamCounts:
    """Every instance of a mapped upstream task counts (only the same index of one in the same
    mapped task group), as in Airflow."""
    c = {T.SUCCESS: 0, T.FAILED: 0, T.UPSTREAM_FAILED: 0, T.SKIPPED: 0, T.REMOVED: 0}
    run = ti.run
    spec = ti.spec
    upstream = spec.upstream
    total = len(upstream)
    tis = run.tis
    if not run.mapped:  # the common case, kept as cheap as it is without mapping
        for up in upstream:
            # No task instance: the task is outside its start_date/end_date for this run; as removed.
            state = tis[up].state if up in tis else T.REMOVED
            if state in c:
                c[state] += 1
    else:
        total = 0
        for state in _upstream_states(ti):
            total += 1
            if state in c:
                c[state] += 1
    setup_states = [tis[up].state for up in spec.upstream_setups if up in tis] if spec.upstream_setups else []
    return UpstreamCounts(
        total=total,
        success=c[T.SUCCESS],
        failed=c[T.FAILED],
        upstream_failed=c[T.UPSTREAM_FAILED],
        skipped=c[T.SKIPPED],
        removed=c[T.REMOVED],
        setups=len(setup_states),
        setup_success=setup_states.count(T.SUCCESS),
        setup_skipped=setup_states.count(T.SKIPPED),
    )
