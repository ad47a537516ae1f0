"""Backfills: a DAG's runs over a range of past logical dates, as Airflow 3's scheduler makes them.

A backfill plans every schedule interval of its range up front: a date without a run gets a
new run ("backfill__<logical date>"); a date whose run is queued or running is left alone; a
finished run is queued again (its task instances cleared) when the reprocess behaviour says
so. Its runs wait in its own queue and start as its own max_active_runs allows, apart from the
DAG's scheduled runs and also while the DAG is paused. Cancelling fails the runs not started
yet; running ones finish. A backfill stays in memory while it has runs to start or running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coordinator.records import Backfill, BackfillDate, Run
from coordinator.scheduling.explain import Explain
from coordinator.timetable import RunInfo
from tradewind.exceptions import FailedPrecondition, InvalidArgument
from tradewind.params import conf_error
from tradewind.states import RunState, TaskState, check_run
from tradewind.wire import MAX_BACKFILL_DATES, BackfillState, Reprocess

IN_FLIGHT = "in flight"
ALREADY_EXISTS = "already exists"


@dataclass(frozen=True)
class PlannedDate:
    """What a backfill does with one logical date."""

    info: RunInfo
    run_id: str
    #: Why the date is left alone; empty when it is run.
    skipped: str = ""
    #: The run exists and is run again.
    rerun: bool = False


class Backfills(Explain):
    def plan_backfill(
        self,
        dag_id: str,
        from_date: datetime,
        to_date: datetime,
        reprocess: Reprocess,
        run_backwards: bool,
        existing: dict[datetime, tuple[str, RunState]],
        dry_run: bool = False,
        conf: dict[str, Any] | None = None,
    ) -> list[PlannedDate]:
        """Every logical date of the range in the order the backfill takes them, and what it does
        with each; `existing` is the newest run of each date that has one. A dry run may look
        while another backfill of the DAG is active."""
        entry = self._dag(dag_id)
        if not entry.active:
            raise FailedPrecondition(f"DAG {dag_id!r} is no longer in the DAG folder; it cannot be backfilled")
        if entry.timetable.kind == "none":
            raise FailedPrecondition(f"DAG {dag_id!r} has no schedule; a backfill needs one to compute its runs")
        if from_date > to_date:
            raise InvalidArgument(f"from_date {from_date.isoformat()} is after to_date {to_date.isoformat()}")
        active = self.active_backfill(dag_id)
        if active is not None and not dry_run:
            raise FailedPrecondition(f"DAG {dag_id!r} already has an active backfill ({active.id})")
        refused = conf_error(entry.spec.params, entry.spec.param_schemas, conf or {})
        if refused:
            raise InvalidArgument(f"DAG {dag_id!r}: conf_json: {refused}")
        if run_backwards and any(t.get("depends_on_past") for t in entry.spec.data["tasks"]):
            raise InvalidArgument(
                f"DAG {dag_id!r} has tasks with depends_on_past; a backfill of it cannot run backwards"
            )
        infos = entry.timetable.between(from_date, to_date, MAX_BACKFILL_DATES)
        if not infos:
            raise InvalidArgument(
                f"DAG {dag_id!r}: no logical date of its schedule lies between "
                f"{from_date.isoformat()} and {to_date.isoformat()}"
            )
        if run_backwards:
            infos.reverse()
        plan = []
        for info in infos:
            found = existing.get(info.logical_date)
            if found is None:
                run_id = f"backfill__{info.logical_date.isoformat()}"
                skipped = ALREADY_EXISTS if (dag_id, run_id) in self.runs_by_key else ""
                plan.append(PlannedDate(info, run_id, skipped))
            elif found[1] in (RunState.QUEUED, RunState.RUNNING):
                plan.append(PlannedDate(info, found[0], IN_FLIGHT))
            elif reprocess is Reprocess.COMPLETED or (reprocess is Reprocess.FAILED and found[1] is RunState.FAILED):
                plan.append(PlannedDate(info, found[0], rerun=True))
            else:
                plan.append(PlannedDate(info, found[0], ALREADY_EXISTS))
        return plan

    def create_backfill(
        self,
        dag_id: str,
        from_date: datetime,
        to_date: datetime,
        reprocess: Reprocess,
        max_active_runs: int,
        run_backwards: bool,
        plan: list[PlannedDate],
        reruns: dict[str, Run],
        conf: dict[str, Any] | None = None,
    ) -> Backfill:
        """Carry out a plan; `reruns` holds the finished runs it runs again, in memory; the runs
        it creates get `conf`."""
        entry = self._dag(dag_id)
        self.last_backfill_id += 1
        backfill = Backfill(
            self.last_backfill_id,
            dag_id,
            from_date,
            to_date,
            reprocess,
            max_active_runs,
            run_backwards,
            self.clock.now(),
        )
        self.backfills[backfill.id] = backfill
        self.changes.backfills[backfill.id] = backfill
        for ordinal, date in enumerate(plan):
            run: Run | None = None
            if date.rerun:
                run = reruns[date.run_id]
                self._requeue(run, backfill.id)
            elif not date.skipped:
                run = self._new_run(entry, date.run_id, "backfill", date.info, dict(conf or {}), backfill.id)
            if run is not None:
                backfill.queued.append(run)
            self.changes.backfill_dates.append(
                BackfillDate(backfill.id, ordinal, date.info.logical_date, run.id if run else None, date.skipped)
            )
        self._start_backfill_runs(backfill)
        self._complete_if_done(backfill)
        return backfill

    def active_backfill(self, dag_id: str) -> Backfill | None:
        return next(
            (b for b in self.backfills.values() if b.dag_id == dag_id and b.state is BackfillState.RUNNING), None
        )

    def cancel_backfill(self, backfill_id: int) -> Backfill:
        """No run of it starts any more: its queued runs fail; its running runs finish."""
        backfill = self.backfills.get(backfill_id)
        if backfill is None or backfill.state is not BackfillState.RUNNING:
            state = backfill.state.value if backfill is not None else "finished"
            raise FailedPrecondition(f"backfill {backfill_id} is already {state}")
        now = self.clock.now()
        backfill.state, backfill.completed_at = BackfillState.CANCELLED, now
        self.changes.backfills[backfill.id] = backfill
        queued, backfill.queued = backfill.queued, type(backfill.queued)()
        for run in queued:
            if run.state is RunState.QUEUED:
                run.state = check_run(run.state, RunState.FAILED)
                run.end_date = now
                self.changes.touch_run(run)
                self._watch_run(run)
                self._forget(run)
        self._complete_if_done(backfill)
        return backfill

    def _requeue(self, run: Run, backfill_id: int) -> None:
        """Queue a finished run again for a backfill, every task instance cleared (a new try each)."""
        for ti in run.every_ti():
            ti.max_tries = ti.try_number + ti.spec.retries + 1
            ti.end_date = ti.next_retry_at = None
            ti.losses = 0
            if ti.state is not TaskState.NONE:
                self._set_state(ti, TaskState.NONE)
        self._forget_xcoms(run, set(run.every_ti()))
        run.state = check_run(run.state, RunState.QUEUED)
        run.end_date = None
        run.backfill_id = backfill_id
        run.queued_at = self.clock.now()
        self.changes.touch_run(run)
        self._watch_run(run)

    def _start_backfill_runs(self, backfill: Backfill) -> None:
        while (
            backfill.queued and backfill.state is BackfillState.RUNNING and backfill.running < backfill.max_active_runs
        ):
            run = backfill.queued.popleft()
            entry = self.dags.get(run.dag_id)
            if run.state is RunState.QUEUED and entry is not None:
                self._start_run(run, entry)

    def _backfill_run_ended(self, run: Run) -> None:
        backfill = self.backfills.get(run.backfill_id) if run.backfill_id is not None else None
        if backfill is not None:
            self._start_backfill_runs(backfill)
            self._complete_if_done(backfill)

    def _complete_if_done(self, backfill: Backfill) -> None:
        """Once nothing of it waits or runs, it is completed (or stays cancelled) and leaves memory."""
        if backfill.running or any(r.state is RunState.QUEUED for r in backfill.queued):
            return
        if backfill.state is BackfillState.RUNNING:
            backfill.state, backfill.completed_at = BackfillState.COMPLETED, self.clock.now()
            self.changes.backfills[backfill.id] = backfill
        self.backfills.pop(backfill.id, None)
