"""Deferral and triggerers in the core: a deferred task holds no slot, its trigger runs on one
live triggerer and moves when that one is lost, the first event resumes the same try once, a
timeout resumes it in __fail__, and a restart keeps the waiting trigger."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from coordinator.clock import FakeClock
from coordinator.engine import Engine
from coordinator.events import AttemptRef, DeferralRequest, Finished, TriggererJoined, TriggererLeft, TriggerFired
from coordinator.sessions import TriggererSession
from tests.coordinator.conftest import dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine, sent
from tradewind import xcom_codec
from tradewind.states import TaskState
from tradewind.v1 import triggerer_pb2
from tradewind.wire import Outcome, WaitReason

REQUEST = DeferralRequest(
    "tradewind.triggers.file.FileTrigger", '{"filepath": "/tmp/x"}', "execute_complete", '{"n": 1}', None
)


async def triggerer(engine: Engine, name: str) -> asyncio.Queue[Any]:
    """Join a triggerer the way its stream handler does; returns its outbound queue."""
    session = TriggererSession(name, f"{name}-instance", 100)
    reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    outbound: asyncio.Queue[Any] = asyncio.Queue()
    engine.triggerer_streams[name] = (-1, outbound)
    await engine.turn([TriggererJoined(session, reply)])
    engine.triggerer_streams[name] = (await reply, outbound)
    return outbound


def commands(outbound: asyncio.Queue[Any], kind: str) -> list[Any]:
    found = []
    while not outbound.empty():
        message: triggerer_pb2.TriggererCommand = outbound.get_nowait()
        if message is not None and message.WhichOneof("body") == kind:
            found.append(getattr(message, kind))
    return found


async def deferred(engine: Engine, request: DeferralRequest = REQUEST) -> tuple[Any, asyncio.Queue[Any]]:
    add_dag(engine, dag("d", [task("wait")]))
    await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
    outbound = await join(engine)
    ti = engine.scheduler.run_for("d", "r1").tis["wait"]
    generation = engine.scheduler.workers["w1"].generation
    finished = Finished(
        "w1", AttemptRef(ti.id, 1, ti.token), Outcome.DEFERRED, 0, "", "", None, generation=generation, deferral=request
    )
    await engine.turn([finished])
    assert len(sent(outbound, "assignment")) == 1  # the first execution's
    return ti, outbound


def test_a_deferred_task_holds_no_slot_and_resumes_once_however_often_its_trigger_fires(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, FakeClock())
        ti, outbound = await deferred(engine)
        worker = engine.scheduler.workers["w1"]
        assert ti.state is TaskState.DEFERRED and worker.free == worker.slots
        assert engine.scheduler.pool_used.get("default_pool", 0) == 0
        (condition,) = engine.scheduler.explain(ti)
        assert condition[0] is WaitReason.TRIGGER and "for a triggerer to run it" in condition[1]

        first = await triggerer(engine, "t1")
        (run,) = commands(first, "run")
        assert run.classpath == "tradewind.triggers.file.FileTrigger" and run.waiter == "d.wait of run r1"
        second = await triggerer(engine, "t2")
        assert commands(second, "run") == []  # a trigger runs on one triggerer

        await engine.turn([TriggerFired("t1", 0, run.trigger_id, xcom_codec.dumps(True))])
        await engine.turn([TriggerFired("t2", 0, run.trigger_id, xcom_codec.dumps(False))])
        assert [a.trigger_id for a in commands(first, "fired_ack")] == [run.trigger_id]
        assert [a.trigger_id for a in commands(second, "fired_ack")] == [run.trigger_id]
        (assignment,) = sent(outbound, "assignment")
        assert assignment.attempt.try_number == 1 and assignment.resume.next_method == "execute_complete"
        assert xcom_codec.loads(assignment.resume.next_kwargs_json) == {"n": 1, "event": True}
        assert ti.state is TaskState.QUEUED and ti.try_number == 1

    asyncio.run(scenario())


def test_a_lost_triggerers_triggers_move_to_another(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        engine = make_engine(tmp_path, clock)
        ti, _ = await deferred(engine)
        first = await triggerer(engine, "t1")
        (run,) = commands(first, "run")
        second = await triggerer(engine, "t2")
        generation = engine.scheduler.triggerers["t1"].generation
        await engine.turn([TriggererLeft("t1", generation)])
        assert [r.trigger_id for r in commands(second, "run")] == [run.trigger_id]

        third = await triggerer(engine, "t3")
        engine.scheduler.triggerers["t3"].last_seen = clock.monotonic()
        clock.advance(engine.scheduler.heartbeat_timeout + 1)  # t2 goes silent; t3 keeps talking
        engine.scheduler.triggerers["t3"].last_seen = clock.monotonic()
        await engine.turn([])
        assert [r.trigger_id for r in commands(third, "run")] == [run.trigger_id]
        assert "t2" not in engine.scheduler.triggerers

    asyncio.run(scenario())


def test_a_deferral_timeout_resumes_the_task_in_fail(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        engine = make_engine(tmp_path, clock)
        timed = DeferralRequest(REQUEST.trigger_classpath, "{}", "execute_complete", "{}", timedelta(seconds=30))
        ti, outbound = await deferred(engine, timed)
        runner = await triggerer(engine, "t1")
        commands(runner, "run")
        clock.advance(31)
        engine.scheduler.workers["w1"].last_seen = engine.scheduler.triggerers["t1"].last_seen = clock.monotonic()
        await engine.turn([])
        (assignment,) = sent(outbound, "assignment")
        assert assignment.resume.next_method == "__fail__"
        assert xcom_codec.loads(assignment.resume.next_kwargs_json) == {"error": "Trigger timeout"}
        assert [c.trigger_id for c in commands(runner, "cancel")] == [ti.trigger.id]

    asyncio.run(scenario())


def test_a_waiting_trigger_runs_again_after_a_restart_and_clearing_cancels_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        ti, _ = await deferred(first)
        trigger_id = ti.trigger.id

        engine = make_engine(tmp_path, clock)  # the restart
        assert engine.scheduler.tis[ti.id].state is TaskState.DEFERRED
        runner = await triggerer(engine, "t1")
        assert [r.trigger_id for r in commands(runner, "run")] == [trigger_id]
        await command(engine, "clear", dag_id="d", run_id="r1", task_ids=["wait"], include_downstream=False)
        assert [c.trigger_id for c in commands(runner, "cancel")] == [trigger_id]
        assert engine.scheduler.waiting_triggers == {}

    asyncio.run(scenario())


def test_a_deferral_breaking_a_wire_rule_fails_the_try_naming_the_field() -> None:
    from coordinator.sessions import WorkerSession
    from coordinator.worker_messages import finished_from_pb
    from tradewind.v1 import common_pb2, worker_pb2

    session = WorkerSession("w1", ("default",), frozenset({"python"}), 1)
    attempt = common_pb2.Attempt(task_instance_id=1, try_number=1, attempt_token="t")
    good = worker_pb2.Deferral(trigger_classpath="pkg.Trig", next_method="resume", timeout_seconds=5)
    cases = {
        "trigger_classpath 'not a path'": worker_pb2.Deferral(trigger_classpath="not a path", next_method="go"),
        "next_method 'no-go'": worker_pb2.Deferral(trigger_classpath="pkg.Trig", next_method="no-go"),
        "next_kwargs_json must be a JSON object": worker_pb2.Deferral(
            trigger_classpath="pkg.Trig", next_method="go", next_kwargs_json="[1]"
        ),
        "timeout_seconds must be 0 to": worker_pb2.Deferral(
            trigger_classpath="pkg.Trig", next_method="go", timeout_seconds=-1
        ),
    }
    for message, deferral in cases.items():
        f = worker_pb2.TaskFinished(attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_DEFERRED, deferral=deferral)
        event = finished_from_pb(f, session)
        assert event.outcome is Outcome.FAILED and message in event.error, (message, event.error)
    bare = worker_pb2.TaskFinished(attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_DEFERRED)
    assert "deferral must be set with outcome DEFERRED" in finished_from_pb(bare, session).error
    f = worker_pb2.TaskFinished(attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_DEFERRED, deferral=good)
    event = finished_from_pb(f, session)
    assert event.deferral is not None and event.deferral.timeout == timedelta(seconds=5)


def test_a_pool_that_includes_deferred_keeps_a_deferred_task_instances_slots(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        engine = make_engine(tmp_path, clock)
        await command(engine, "set_pool", name="default_pool", slots=8, description="", include_deferred=True)
        ti, outbound = await deferred(engine)
        assert engine.scheduler.pool_used["default_pool"] == 1
        assert engine.scheduler.workers["w1"].free == engine.scheduler.workers["w1"].slots
        await command(engine, "set_pool", name="default_pool", slots=8, description="", include_deferred=False)
        assert engine.scheduler.pool_used["default_pool"] == 0
        await command(engine, "set_pool", name="default_pool", slots=8, description="", include_deferred=True)
        engine = make_engine(tmp_path, clock)  # a restart keeps the slot
        assert engine.scheduler.pool_used["default_pool"] == 1
        outbound = await join(engine)
        runner = await triggerer(engine, "t1")
        (run,) = commands(runner, "run")
        await engine.turn([TriggerFired("t1", 0, run.trigger_id, "true")])
        (assignment,) = sent(outbound, "assignment")
        assert assignment.resume.next_method == "execute_complete"
        assert engine.scheduler.tis[ti.id].state is TaskState.QUEUED
        assert engine.scheduler.pool_used["default_pool"] == 1  # held once: by the queued attempt

    asyncio.run(scenario())
