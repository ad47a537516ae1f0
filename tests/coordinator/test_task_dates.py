"""A task's own start_date/end_date: a run outside them gets no instance of the task, and its
downstream task counts it as removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.coordinator.conftest import Harness, dag, task

DAY = datetime(2024, 1, 1, tzinfo=UTC)


def test_runs_outside_a_tasks_dates_have_no_instance_of_it_and_its_downstream_still_runs(harness: Harness) -> None:
    harness.add_dag(
        dag(
            "d",
            [
                task("early"),
                task("late", ["early"], start_date=(DAY + timedelta(days=1)).isoformat()),
                task("gone", end_date=DAY.isoformat()),
                task("after", ["late"]),
            ],
        )
    )
    harness.worker()
    first = harness.scheduler.trigger("d", {}, "r1", DAY, False)
    second = harness.scheduler.trigger("d", {}, "r2", DAY + timedelta(days=1), False)
    assert sorted(first.tis) == ["after", "early", "gone"]
    assert sorted(second.tis) == ["after", "early", "late"]
    ran = {(ti.run.run_id, ti.task_id) for ti in harness.assignments(harness.turn())}
    assert ("r1", "after") in ran and ("r2", "after") not in ran
