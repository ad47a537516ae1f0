"""DAGs and their runs: timetables make scheduled runs, people trigger manual ones, and a run
starts when max_active_runs allows and finishes when its last task instance does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from coordinator.dagspec import DagSpec
from coordinator.records import LastSuccess, Run, TaskInstance
from coordinator.scheduling.base import DagEntry, log
from coordinator.scheduling.effects import RunCallback, ScheduleDue, WatchDag
from coordinator.scheduling.mapping import Mapping
from coordinator.timetable import RunInfo, Timetable
from tradewind.exceptions import FailedPrecondition, InvalidArgument, NotFound
from tradewind.params import conf_error
from tradewind.states import RunState, TaskState, check_run

T = TaskState


class Runs(Mapping):
    def register_dag(self, spec: DagSpec, paused: bool, last_scheduled_date: datetime | None) -> None:
        entry = self.dags.get(spec.dag_id)
        timetable = Timetable(spec.data)
        if entry is None:
            entry = self.dags[spec.dag_id] = DagEntry(spec.dag_id, spec, timetable, paused)
            entry.last_scheduled_date = last_scheduled_date
        entry.spec, entry.timetable, entry.active = spec, timetable, True
        entry.max_active_runs = int(spec.data.get("max_active_runs", 16))
        self._start_runs(entry)
        self._schedule_dag(entry)
        self.effects.append(WatchDag(spec.dag_id))

    def deactivate(self, dag_ids: tuple[str, ...]) -> None:
        for dag_id in dag_ids:
            entry = self.dags.get(dag_id)
            if entry:
                entry.active = False
                self.changes.touch_dag(dag_id, next_run_at=None)
                self.effects.append(WatchDag(dag_id))

    def set_paused(self, dag_id: str, paused: bool) -> None:
        entry = self._dag(dag_id)
        entry.paused = paused
        self.changes.touch_dag(dag_id, paused=paused)
        self.effects.append(WatchDag(dag_id))
        if not paused:
            self._start_runs(entry)
            self._schedule_dag(entry)

    def _dag(self, dag_id: str) -> DagEntry:
        entry = self.dags.get(dag_id)
        if entry is None:
            raise NotFound(f"DAG {dag_id!r} not found")
        return entry

    def _schedule_dag(self, entry: DagEntry) -> None:
        """Create the scheduled runs that are due, as max_active_runs allows; arm a timer for the next."""
        if entry.paused or not entry.active or not entry.timetable.scheduled:
            return
        now = self.clock.now()
        while True:
            info = entry.timetable.next_run(entry.last_scheduled_date, now)
            if info is None:
                self.changes.touch_dag(entry.dag_id, next_run_at=None)
                return
            self.changes.touch_dag(entry.dag_id, next_run_at=info.run_after)
            if info.run_after > now:
                self._timer((info.run_after - now).total_seconds(), ScheduleDue(entry.dag_id))
                return
            if len(entry.queued_runs) + entry.running_runs >= entry.max_active_runs:
                return
            run_id = f"scheduled__{info.logical_date.isoformat()}"
            entry.last_scheduled_date = info.logical_date
            self.changes.touch_dag(entry.dag_id, last_scheduled_date=info.logical_date)
            if (entry.dag_id, run_id) in self.runs_by_key:
                continue
            self._create_run(entry, run_id, "scheduled", info, {})

    def _schedule_due(self, timer: ScheduleDue) -> None:
        entry = self.dags.get(timer.dag_id)
        if entry:
            self._schedule_dag(entry)

    def trigger(
        self, dag_id: str, conf: dict[str, Any], run_id: str, logical_date: datetime | None, run_exists: bool
    ) -> Run:
        entry = self._dag(dag_id)
        if not entry.active:
            raise FailedPrecondition(f"DAG {dag_id!r} is no longer in the DAG folder; it cannot be triggered")
        now = self.clock.now()
        logical = logical_date or now
        run_id = run_id or f"manual__{logical.isoformat()}"
        if run_exists or (dag_id, run_id) in self.runs_by_key:
            raise FailedPrecondition(f"DAG {dag_id!r} already has a run with run_id {run_id!r}")
        refused = conf_error(entry.spec.params, entry.spec.param_schemas, conf)
        if refused:
            raise InvalidArgument(f"DAG {dag_id!r}: conf_json: {refused}")
        start, end = entry.timetable.manual_interval(logical)
        return self._create_run(entry, run_id, "manual", RunInfo(logical, start, end, now), conf)

    def _create_run(self, entry: DagEntry, run_id: str, run_type: str, info: RunInfo, conf: dict[str, Any]) -> Run:
        run = self._new_run(entry, run_id, run_type, info, conf)
        entry.queued_runs.append(run)
        self._start_runs(entry)
        return run

    def _new_run(
        self,
        entry: DagEntry,
        run_id: str,
        run_type: str,
        info: RunInfo,
        conf: dict[str, Any],
        backfill_id: int | None = None,
    ) -> Run:
        """A queued run, remembered and recorded; the caller queues it where it waits to start."""
        run = Run(
            id=self.ids.next_run(),
            dag_id=entry.dag_id,
            run_id=run_id,
            state=RunState.QUEUED,
            run_type=run_type,
            logical_date=info.logical_date,
            data_interval_start=info.data_interval_start,
            data_interval_end=info.data_interval_end,
            conf=conf,
            queued_at=self.clock.now(),
            dag=entry.spec,
            backfill_id=backfill_id,
        )
        self._remember(run)
        self._past_track(run)
        self.changes.new_runs.append(run)
        self._watch_run(run)
        return run

    def _remember(self, run: Run) -> None:
        self.runs[run.id] = run
        self.runs_by_key[(run.dag_id, run.run_id)] = run

    def _forget(self, run: Run) -> None:
        for ti in run.every_ti():
            self.tis.pop(ti.id, None)
        self.runs.pop(run.id, None)
        self.runs_by_key.pop((run.dag_id, run.run_id), None)

    def _start_runs(self, entry: DagEntry) -> None:
        while entry.queued_runs and not entry.paused and entry.running_runs < entry.max_active_runs:
            run = entry.queued_runs.popleft()
            if run.state is not RunState.QUEUED:
                continue
            self._start_run(run, entry)

    def _start_run(self, run: Run, entry: DagEntry) -> None:
        run.state = check_run(run.state, RunState.RUNNING)
        run.start_date = self.clock.now()
        self._count_running(run, entry, 1)
        self.changes.touch_run(run)
        self._watch_run(run)
        self._arm_run_timeout(run)
        # a run a backfill re-runs keeps its task instances, cleared
        for task_id, spec in () if run.tis else run.dag.tasks.items():
            if not spec.covers(run.logical_date):
                continue
            ti = TaskInstance(id=self.ids.next_ti(), run=run, task_id=task_id, max_tries=spec.retries + 1)
            run.tis[task_id] = ti
            self.tis[ti.id] = ti
            self.changes.new_tis.append(ti)
        roots = [ti for ti in run.tis.values() if not any(up in run.tis for up in ti.spec.upstream)]
        run.unfinished = len(run.tis)
        roots.extend(self._expand_literals(run))
        self._evaluate(roots)
        if not run.tis:
            self._finish_run(run)

    def _finish_run(self, run: Run) -> None:
        leaves = [ti for t in run.dag.leaves for ti in run.instances(t)]
        failed = any(ti.state in (T.FAILED, T.UPSTREAM_FAILED) for ti in leaves)
        if failed:
            self._end_run(run, RunState.FAILED, "task_failure")
        else:
            self._end_run(run, RunState.SUCCESS, "success")

    def _end_run(self, run: Run, state: RunState, reason: str = "") -> None:
        """End a run; `reason` ("success", "task_failure", "timed_out") runs its DAG's callback
        for that end, as Airflow's; a run a person cancelled has none."""
        was_running = run.state is RunState.RUNNING
        run.state = check_run(run.state, state)
        run.end_date = self.clock.now()
        self.changes.touch_run(run)
        self._watch_run(run)
        kind = "on_success_callback" if state is RunState.SUCCESS else "on_failure_callback"
        if reason and kind in run.dag.callbacks:
            self.effects.append(RunCallback(run.dag_id, run.run_id, run.dag.fileloc, kind, reason, run_info(run)))
        self._forget(run)
        self._past_ended(run)
        entry = self.dags.get(run.dag_id)
        if entry is not None:
            if was_running:
                self._count_running(run, entry, -1)
            if reason:
                self._count_failures(entry, run)
            last = entry.last_success
            if run.state is RunState.SUCCESS and (last is None or run.logical_date >= last.logical_date):
                entry.last_success = LastSuccess(
                    run.logical_date, run.data_interval_start, run.data_interval_end, run.start_date
                )
            self._start_runs(entry)
            self._schedule_dag(entry)
        self._backfill_run_ended(run)

    def _count_failures(self, entry: DagEntry, run: Run) -> None:
        """Airflow's max_consecutive_failed_dag_runs: that many failed runs in a row pause the DAG
        (a run a person cancelled is not counted, as Airflow counts only runs that failed)."""
        entry.failed_in_a_row = entry.failed_in_a_row + 1 if run.state is RunState.FAILED else 0
        limit = entry.spec.max_consecutive_failed_dag_runs
        if limit and entry.failed_in_a_row >= limit and not entry.paused:
            log.warning("DAG %s paused: its last %d runs failed (max_consecutive_failed_dag_runs)", run.dag_id, limit)
            entry.paused = True
            self.changes.touch_dag(entry.dag_id, paused=True)
            self.effects.append(WatchDag(entry.dag_id))

    def _reopen(self, run: Run) -> None:
        if run.state in (RunState.SUCCESS, RunState.FAILED):
            run.state = check_run(run.state, RunState.RUNNING)
            run.end_date = None
            if run.dag.dagrun_timeout is not None:
                run.start_date = self.clock.now()
                self._arm_run_timeout(run)
            self.changes.touch_run(run)
            self._watch_run(run)
            entry = self.dags.get(run.dag_id)
            if entry is not None:
                self._count_running(run, entry, 1)

    def adopt_run(self, run: Run) -> None:
        """Bring a finished run back into memory (to clear or mark its task instances)."""
        self._remember(run)
        self._past_track(run)
        for ti in run.every_ti():
            self.tis[ti.id] = ti

    def run_for(self, dag_id: str, run_id: str) -> Run | None:
        return self.runs_by_key.get((dag_id, run_id))


def run_info(run: Run) -> dict[str, Any]:
    """A run as a DAG callback's context shows it (`dag_run`)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "state": run.state.value,
        "run_type": run.run_type,
        "logical_date": iso(run.logical_date),
        "data_interval_start": iso(run.data_interval_start),
        "data_interval_end": iso(run.data_interval_end),
        "start_date": iso(run.start_date),
        "end_date": iso(run.end_date),
        "conf": run.conf,
    }
