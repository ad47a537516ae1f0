"""Sensors in reschedule mode in the core: up_for_reschedule holds no slot, the same try runs
again at its reschedule date told when the try began, and a restart keeps the schedule."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from coordinator.clock import FakeClock
from coordinator.events import AttemptRef, Finished, Started
from coordinator.worker_messages import finished_from_pb
from tests.coordinator.conftest import dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine, sent
from tradewind.states import TaskState
from tradewind.v1 import common_pb2, worker_pb2
from tradewind.wire import Outcome, WaitReason, to_timestamp


def test_a_rescheduled_sensor_frees_its_slot_and_runs_the_same_try_again_at_its_date(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        engine = make_engine(tmp_path, clock)
        add_dag(engine, dag("d", [task("wait")]))
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        outbound = await join(engine)
        (first,) = sent(outbound, "assignment")
        assert not first.HasField("reschedule_started_at") and first.reschedule_count == 0
        ti = engine.scheduler.run_for("d", "r1").tis["wait"]
        worker = engine.scheduler.workers["w1"]
        generation = worker.generation
        attempt = AttemptRef(ti.id, 1, ti.token)
        started_at = clock.now()
        await engine.turn([Started("w1", attempt, started_at, generation=generation)])
        clock.advance(1)
        due = clock.now() + timedelta(seconds=30)
        ended = clock.now()
        await engine.turn(
            [
                Finished(
                    "w1",
                    attempt,
                    Outcome.UP_FOR_RESCHEDULE,
                    0,
                    "",
                    "",
                    ended,
                    generation=generation,
                    reschedule_date=due,
                )
            ]
        )

        assert ti.state is TaskState.UP_FOR_RESCHEDULE and ti.try_number == 1
        assert worker.free == worker.slots and engine.scheduler.pool_used.get("default_pool", 0) == 0
        rows = engine.store.reschedules(ti.id)
        assert [(r.try_number, r.reschedule_date) for r in rows] == [(1, due.replace(tzinfo=None))]
        (condition,) = engine.scheduler.explain(ti)
        assert condition[0] is WaitReason.RESCHEDULE_DELAY and "next poke is at" in condition[1]

        clock.advance(29)
        worker.last_seen = clock.monotonic()  # it kept heartbeating
        await engine.turn([])
        assert sent(outbound, "assignment") == []
        clock.advance(1.1)
        worker.last_seen = clock.monotonic()
        await engine.turn([])
        (second,) = sent(outbound, "assignment")
        assert second.attempt.try_number == 1 and second.attempt.attempt_token != first.attempt.attempt_token
        assert second.reschedule_started_at.ToDatetime().replace(microsecond=0) == started_at.replace(
            tzinfo=None, microsecond=0
        )
        assert second.reschedule_count == 1
        assert [a.state for a in engine.store.attempts(ti.id)] == ["up_for_reschedule", "queued"]

    asyncio.run(scenario())


def test_an_up_for_reschedule_sensor_pokes_again_on_time_after_a_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("wait")]))
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        await join(first)
        ti = first.scheduler.run_for("d", "r1").tis["wait"]
        generation = first.scheduler.workers["w1"].generation
        attempt = AttemptRef(ti.id, 1, ti.token)
        due = clock.now() + timedelta(seconds=20)
        await first.turn(
            [
                Finished(
                    "w1",
                    attempt,
                    Outcome.UP_FOR_RESCHEDULE,
                    0,
                    "",
                    "",
                    None,
                    generation=generation,
                    reschedule_date=due,
                )
            ]
        )

        engine = make_engine(tmp_path, clock)  # the restart
        assert engine.scheduler.tis[ti.id].state is TaskState.UP_FOR_RESCHEDULE
        outbound = await join(engine)
        clock.advance(10)
        engine.scheduler.workers["w1"].last_seen = clock.monotonic()
        await engine.turn([])
        assert sent(outbound, "assignment") == []
        clock.advance(10.1)
        engine.scheduler.workers["w1"].last_seen = clock.monotonic()
        await engine.turn([])
        (assignment,) = sent(outbound, "assignment")
        assert assignment.attempt.try_number == 1 and assignment.reschedule_count == 1

    asyncio.run(scenario())


def test_a_reschedule_outcome_without_a_date_fails_the_try_instead_of_being_refused() -> None:
    from coordinator.sessions import WorkerSession

    session = WorkerSession("w1", ("default",), frozenset({"python"}), 1)
    attempt = common_pb2.Attempt(task_instance_id=1, try_number=1, attempt_token="t")
    bare = worker_pb2.TaskFinished(attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_UP_FOR_RESCHEDULE)
    event = finished_from_pb(bare, session)
    assert event.outcome is Outcome.FAILED and "reschedule_date must be set" in event.error
    dated = worker_pb2.TaskFinished(
        attempt=attempt,
        outcome=worker_pb2.TASK_OUTCOME_UP_FOR_RESCHEDULE,
        reschedule_date=to_timestamp(FakeClock().now()),
    )
    assert finished_from_pb(dated, session).outcome is Outcome.UP_FOR_RESCHEDULE
