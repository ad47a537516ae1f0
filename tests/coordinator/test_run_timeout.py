"""dagrun_timeout in the scheduler: the run fails, unfinished task instances are skipped and the
running ones cancelled on their worker; a restart keeps only the rest of the time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from coordinator.clock import FakeClock
from coordinator.events import Acked, AttemptRef, Finished, Started
from coordinator.scheduling.effects import Cancel
from tests.coordinator.conftest import Harness, dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome

T = TaskState


def start(h: Harness, ti) -> None:
    gen = h.gen("w1")
    ref = AttemptRef(ti.id, ti.try_number, ti.token)
    h.scheduler.acked(Acked("w1", ref, True, "", generation=gen))
    h.scheduler.started(Started("w1", ref, None, generation=gen))


def test_a_run_past_its_dagrun_timeout_fails_skipping_what_is_unfinished_and_cancelling_what_runs(
    harness: Harness,
) -> None:
    harness.add_dag(dag("d", [task("done"), task("slow"), task("after", ["slow"])], dagrun_timeout=60.0))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "r1", None, False)
    tis = {ti.task_id: ti for ti in harness.assignments(harness.turn())}
    start(harness, tis["done"])
    start(harness, tis["slow"])
    ref = AttemptRef(tis["done"].id, 1, tis["done"].token)
    harness.scheduler.finished(Finished("w1", ref, Outcome.SUCCESS, 0, "", "", None, generation=harness.gen()))
    harness.advance(59)
    harness.turn()
    assert run.state is RunState.RUNNING
    harness.advance(2)
    effects = harness.turn()
    assert run.state is RunState.FAILED
    assert {k: v.state for k, v in run.tis.items()} == {"done": T.SUCCESS, "slow": T.SKIPPED, "after": T.SKIPPED}
    (cancel,) = [e for e in effects if isinstance(e, Cancel)]
    assert cancel.attempt.ti_id == run.tis["slow"].id and "dagrun_timeout" in cancel.reason


def test_a_run_that_finishes_in_time_is_not_touched_by_its_timer(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")], dagrun_timeout=60.0))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "r1", None, False)
    (ti,) = harness.assignments(harness.turn())
    start(harness, ti)
    ref = AttemptRef(ti.id, 1, ti.token)
    harness.scheduler.finished(Finished("w1", ref, Outcome.SUCCESS, 0, "", "", None, generation=harness.gen()))
    harness.advance(61)
    harness.turn()
    assert run.state is RunState.SUCCESS


def test_after_a_restart_a_run_times_out_at_its_original_deadline(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("a")], dagrun_timeout=60.0))
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        clock.advance(40)
        engine = make_engine(tmp_path, clock)
        await join(engine)
        clock.advance(21)
        engine.scheduler.workers["w1"].last_seen = clock.monotonic()
        await engine.turn([])
        run = engine.store.get_run("d", "r1")
        assert run is not None and run.state == "failed"

    asyncio.run(scenario())
