"""depends_on_past and wait_for_downstream in the scheduler: event driven, explained, and kept
across a coordinator restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coordinator.clock import FakeClock
from coordinator.events import Acked, AttemptRef, Finished, Started
from tests.coordinator.conftest import Harness, dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome, WaitReason

T = TaskState
DAY = datetime(2024, 1, 1, tzinfo=UTC)


def finish(h: Harness, ti, outcome: Outcome = Outcome.SUCCESS) -> None:
    gen = h.gen("w1")
    ref = AttemptRef(ti.id, ti.try_number, ti.token)
    h.scheduler.acked(Acked("w1", ref, True, "", generation=gen))
    h.scheduler.started(Started("w1", ref, None, generation=gen))
    code = 0 if outcome is Outcome.SUCCESS else 1
    h.scheduler.finished(Finished("w1", ref, outcome, code, "", "", None, generation=gen))
    h.check()


def two_runs(h: Harness, **past: object):
    h.add_dag(dag("d", [task("a", **past), task("b", ["a"])]))
    h.worker()
    first = h.scheduler.trigger("d", {}, "r1", DAY, False)
    second = h.scheduler.trigger("d", {}, "r2", DAY + timedelta(days=1), False)
    return first, second


def test_a_task_waits_for_itself_in_the_previous_run_and_runs_when_it_succeeds(harness: Harness) -> None:
    first, second = two_runs(harness, depends_on_past=True)
    (ti,) = harness.assignments(harness.turn())
    assert ti is first.tis["a"] and second.tis["a"].state is T.NONE
    assert harness.scheduler.explain(second.tis["a"]) == [
        (WaitReason.PREVIOUS_RUN, "waiting for a in the previous run r1")
    ]
    finish(harness, ti)
    assert {t.task_id + t.run.run_id for t in harness.assignments(harness.turn())} == {"br1", "ar2"}


def test_a_failed_previous_task_instance_keeps_the_next_waiting_until_it_is_cleared_and_succeeds(
    harness: Harness,
) -> None:
    first, second = two_runs(harness, depends_on_past=True)
    (ti,) = harness.assignments(harness.turn())
    finish(harness, ti, Outcome.FAILED)
    assert first.state is RunState.FAILED
    assert harness.assignments(harness.turn()) == [] and second.tis["a"].state is T.NONE
    harness.scheduler.adopt_run(first)
    harness.scheduler.clear(first, ["a"], include_downstream=False)
    (again,) = harness.assignments(harness.turn())
    finish(harness, again)
    assert harness.assignments(harness.turn()) == [second.tis["a"]]


def test_the_first_run_and_a_task_new_since_the_previous_run_do_not_wait(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")]))
    harness.worker()
    harness.scheduler.trigger("d", {}, "r1", DAY, False)
    harness.add_dag(dag("d", [task("a"), task("new", depends_on_past=True)]))
    second = harness.scheduler.trigger("d", {}, "r2", DAY + timedelta(days=1), False)
    ran = harness.assignments(harness.turn())
    assert second.tis["new"] in ran


def test_wait_for_downstream_also_waits_for_the_previous_runs_direct_downstream(harness: Harness) -> None:
    first, second = two_runs(harness, wait_for_downstream=True)
    (a1,) = harness.assignments(harness.turn())
    finish(harness, a1)
    (b1,) = harness.assignments(harness.turn())
    assert b1 is first.tis["b"] and second.tis["a"].state is T.NONE
    assert harness.scheduler.explain(second.tis["a"])[0] == (
        WaitReason.PREVIOUS_RUN,
        "waiting for b in the previous run r1",
    )
    finish(harness, b1)
    assert harness.assignments(harness.turn()) == [second.tis["a"]]


def test_a_waiting_task_instance_runs_after_a_restart_when_the_previous_one_finishes(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("a", depends_on_past=True)]))
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=DAY)
        await command(first, "trigger", dag_id="d", conf={}, run_id="r2", logical_date=DAY + timedelta(days=1))
        await join(first)
        ti = first.scheduler.run_for("d", "r1").tis["a"]
        generation = first.scheduler.workers["w1"].generation
        await first.turn([Started("w1", AttemptRef(ti.id, 1, ti.token), None, generation=generation)])

        engine = make_engine(tmp_path, clock)
        await join(engine)
        waiting = engine.scheduler.run_for("d", "r2").tis["a"]
        assert waiting.state is T.NONE
        generation = engine.scheduler.workers["w1"].generation
        ref = AttemptRef(ti.id, 1, ti.token)
        await engine.turn([Finished("w1", ref, Outcome.SUCCESS, 0, "", "", None, generation=generation)])
        assert waiting.state is T.QUEUED

    asyncio.run(scenario())


def test_a_restart_after_the_previous_run_ended_still_holds_a_run_whose_previous_failed(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("a", depends_on_past=True)]))
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=DAY)
        await join(first)
        ti = first.scheduler.run_for("d", "r1").tis["a"]
        generation = first.scheduler.workers["w1"].generation
        ref = AttemptRef(ti.id, 1, ti.token)
        await first.turn([Finished("w1", ref, Outcome.FAILED, 1, "boom", "", None, generation=generation)])
        await command(first, "trigger", dag_id="d", conf={}, run_id="r2", logical_date=DAY + timedelta(days=1))

        engine = make_engine(tmp_path, clock)
        await join(engine)
        await engine.turn([])
        waiting = engine.scheduler.run_for("d", "r2").tis["a"]
        assert waiting.state is T.NONE
        assert engine.scheduler.explain(waiting)[0][1] == "waiting for a in the previous run r1"

    asyncio.run(scenario())


def test_the_index_keeps_what_later_runs_need_and_drops_the_rest() -> None:
    from coordinator.records import PastIndex, PastRun

    index = PastIndex()
    for day, manual in ((1, False), (2, False), (3, True)):
        index.add(PastRun(day, f"r{day}", DAY + timedelta(days=day), manual, {"a": T.SUCCESS}))
    index.prune(skip_manual=True)
    assert [p.run_id for p in index.runs.values()] == ["r2", "r3"]
    later = DAY + timedelta(days=9)
    assert index.previous(later, 99, skip_manual=True).run_id == "r2"
    assert index.previous(later, 99, skip_manual=False).run_id == "r3"
