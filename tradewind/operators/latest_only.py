"""LatestOnlyOperator: downstream tasks run only in the latest scheduled interval, as in Airflow 3.

A manual run always proceeds, and so does a run with no next interval (@once, past end_date).
A scheduled run proceeds when now lies in the next interval's window (its start exclusive, its
end inclusive), i.e. the run is the most recent one due; otherwise its direct downstream task
instances are skipped and trigger rules carry the skip on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter

from tradewind.operators.branch import BaseBranchOperator


class LatestOnlyOperator(BaseBranchOperator):
    def choose_branch(self, context: dict[str, Any]) -> str | Iterable[str] | None:
        everything = sorted(self.downstream_task_ids)
        dag_run = context["dag_run"]
        if dag_run.run_type == "manual":
            print("Manually triggered DAG run: allowing execution to proceed.", flush=True)
            return everything
        window = self.next_window(dag_run.data_interval_end)
        if window is None:
            print("Last scheduled execution: allowing execution to proceed.", flush=True)
            return everything
        left, right = window
        now = datetime.now(UTC)
        print(f"Checking latest only with left_window: {left} right_window: {right} now: {now}", flush=True)
        if not left < now <= right:
            print("Not latest execution, skipping downstream.", flush=True)
            return []
        print("Latest, allowing execution to proceed.", flush=True)
        return everything

    def next_window(self, interval_end: datetime) -> tuple[datetime, datetime] | None:
        """The data interval after the one ending at `interval_end`, or None when there is none."""
        schedule = self.dag.schedule if self.dag is not None else None
        left = interval_end if interval_end.tzinfo is not None else interval_end.replace(tzinfo=UTC)
        if isinstance(schedule, timedelta):
            right = left + schedule
        elif isinstance(schedule, str) and schedule != "@once":
            zone = self.dag.timezone if self.dag is not None else UTC  # cron reads the DAG's wall clock
            right = croniter(schedule, left.astimezone(zone)).get_next(datetime).astimezone(UTC)
        else:
            return None
        end_date = self.dag.end_date if self.dag is not None else None
        if end_date is not None and left > end_date:
            return None
        return left, right
