"""After a restart every live task instance continues: queued, running and up for retry ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

from coordinator.clock import FakeClock
from coordinator.events import AttemptRef, Finished, Started
from tests.coordinator.conftest import dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine, sent
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome


def test_a_queued_task_whose_worker_rejoins_without_it_runs_the_same_try_as_a_new_attempt(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("a")]))
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        await join(first)  # assigned and committed, never acknowledged
        ti_id = first.scheduler.run_for("d", "r1").tis["a"].id

        engine = make_engine(tmp_path, clock)  # the restart
        ti = engine.scheduler.tis[ti_id]
        assert ti.state is TaskState.QUEUED
        outbound = await join(engine, running=())
        clock.advance(5.1)
        await engine.turn([])
        (assignment,) = sent(outbound, "assignment")
        assert ti.state is TaskState.QUEUED and ti.try_number == 1 and assignment.attempt.try_number == 1
        rows = engine.store.attempts(ti_id)
        assert [(r.try_number, r.lost) for r in rows] == [(1, True), (1, False)]
        assert "reconnected without it" in rows[0].error or "did not acknowledge" in rows[0].error
        assert make_engine(tmp_path, clock).scheduler.tis[ti_id].losses == 1  # counted across restarts

    asyncio.run(scenario())


def test_a_running_task_is_reclaimed_by_its_worker_and_finishes(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("a")]))
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        await join(first)
        ti = first.scheduler.run_for("d", "r1").tis["a"]
        attempt = AttemptRef(ti.id, 1, ti.token)
        await first.turn([Started("w1", attempt, None, generation=first.scheduler.workers["w1"].generation)])

        engine = make_engine(tmp_path, clock)
        await join(engine, running=(attempt,))
        generation = engine.scheduler.workers["w1"].generation
        clock.advance(6)  # past the ack timeout: a reclaimed attempt is not expired
        await engine.turn([Finished("w1", attempt, Outcome.SUCCESS, 0, "", "", None, generation=generation)])
        row = engine.store.get_run("d", "r1")
        assert row is not None and row.state == RunState.SUCCESS.value
        assert [r.lost for r in engine.store.attempts(ti.id)] == [False]

    asyncio.run(scenario())


def test_a_running_task_of_a_worker_that_never_returns_moves_within_the_heartbeat_timeout(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("a")]))
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        await join(first)
        ti = first.scheduler.run_for("d", "r1").tis["a"]
        attempt = AttemptRef(ti.id, 1, ti.token)
        await first.turn([Started("w1", attempt, None, generation=first.scheduler.workers["w1"].generation)])

        engine = make_engine(tmp_path, clock)
        outbound = await join(engine, "w2", instance_id="i2")
        clock.advance(engine.scheduler.rejoin_window + 0.1)
        await engine.turn([])
        (assignment,) = sent(outbound, "assignment")
        assert assignment.attempt.task_instance_id == ti.id and assignment.attempt.try_number == 1
        assert engine.scheduler.rejoin_window + 0.1 <= engine.scheduler.heartbeat_timeout + 1

    asyncio.run(scenario())


def test_an_up_for_retry_task_gets_its_retry_after_a_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("a", retries=1, retry_delay=30.0)]))
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        await join(first)
        ti = first.scheduler.run_for("d", "r1").tis["a"]
        attempt = AttemptRef(ti.id, 1, ti.token)
        generation = first.scheduler.workers["w1"].generation
        await first.turn([Finished("w1", attempt, Outcome.FAILED, 1, "boom", "", None, generation=generation)])
        assert ti.state is TaskState.UP_FOR_RETRY

        engine = make_engine(tmp_path, clock)
        outbound = await join(engine)
        clock.advance(31)
        engine.scheduler.workers["w1"].last_seen = clock.monotonic()  # it kept heartbeating
        await engine.turn([])
        (assignment,) = sent(outbound, "assignment")
        assert assignment.attempt.try_number == 2

    asyncio.run(scenario())
