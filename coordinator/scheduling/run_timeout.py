"""dagrun_timeout: a run still running that long after it started fails, as in Airflow; its
unfinished task instances are skipped and those on workers are cancelled there (killed)."""

from __future__ import annotations

from datetime import timedelta

from coordinator.records import Run
from coordinator.scheduling.effects import RunTimeout
from coordinator.scheduling.watchers import Watchers
from tradewind.states import FINISHED, RunState, TaskState

T = TaskState


class RunTimeouts(Watchers):
    def _arm_run_timeout(self, run: Run) -> None:
        """Arm the run's timer from its start_date (also after a restart: only the rest is left)."""
        limit = run.dag.dagrun_timeout
        if limit is None or run.start_date is None:
            return
        left = (run.start_date + timedelta(seconds=limit) - self.clock.now()).total_seconds()
        self._timer(max(left, 0.0), RunTimeout(run.id, run.start_date))

    def _run_timeout(self, timer: RunTimeout) -> None:
        run = self.runs.get(timer.run_id)
        if run is None or run.state is not RunState.RUNNING or run.start_date != timer.started:
            return
        reason = f"DAG run timed out after {run.dag.dagrun_timeout:g}s (dagrun_timeout)"
        now = self.clock.now()
        for ti in run.tis.values():
            if ti.state in FINISHED:
                continue
            self._end_attempt(ti, reason)
            self._set_state(ti, T.SKIPPED)
            ti.end_date = now
        run.unfinished = 0
        self._end_run(run, RunState.FAILED, "timed_out")
