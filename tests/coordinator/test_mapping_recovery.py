"""Mapped task instances in the metastore: stored with their map indexes and XComs, and brought
back by a restart, which goes on where the run was."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from coordinator.clock import FakeClock
from coordinator.engine import Engine
from coordinator.events import AttemptRef, Finished, Started
from tests.coordinator.engine_kit import add_dag, command, join, make_engine, sent
from tradewind import DAG, task, xcom_codec
from tradewind.serialization import serialize_dag
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome


@task
def numbers() -> list[int]:
    return [1, 2, 3]


@task
def add(x: int) -> int:
    return x


@task
def total(values: list[int]) -> int:
    return sum(values)


def mapped_dag() -> dict[str, object]:
    with DAG("d", schedule=None) as dag:
        total(add.expand(x=numbers()))
    return json.loads(json.dumps(serialize_dag(dag, "d.py")))


async def finish(engine: Engine, ti_id: int, try_number: int, token: str, value: object) -> None:
    generation = engine.scheduler.workers["w1"].generation
    ref = AttemptRef(ti_id, try_number, token)
    await engine.turn([Started("w1", ref, None, generation=generation)])
    text = xcom_codec.dumps(value)
    await engine.turn([Finished("w1", ref, Outcome.SUCCESS, 0, "", text, None, generation=generation)])


def test_a_restart_brings_back_every_mapped_instance_and_the_reduce_gets_all_their_values(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, mapped_dag())
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        outbound = await join(first)
        (producer,) = sent(outbound, "assignment")
        await finish(first, producer.attempt.task_instance_id, 1, producer.attempt.attempt_token, [10, 20, 30])
        assigned = sent(outbound, "assignment")
        assert [(a.map_index, xcom_codec.loads(a.payload.python.mapped_kwargs_json)) for a in assigned] == [
            (0, {"x": 10}),
            (1, {"x": 20}),
            (2, {"x": 30}),
        ]
        await finish(first, assigned[0].attempt.task_instance_id, 1, assigned[0].attempt.attempt_token, 100)
        row = first.store.get_run("d", "r1")
        assert row is not None
        stored = {(t.task_id, t.map_index): t.state for t in first.store.list_tis(row.id)}
        assert stored[("add", 0)] == "success" and stored[("add", 2)] == "queued"

        engine = make_engine(tmp_path, clock)  # the restart
        run = engine.scheduler.run_for("d", "r1")
        assert run is not None
        assert [(ti.map_index, ti.state) for ti in run.instances("add")] == [
            (0, TaskState.SUCCESS),
            (1, TaskState.QUEUED),
            (2, TaskState.QUEUED),
        ]
        assert run.xcoms[("add", 0, "return_value")] == "100"
        refs = tuple(AttemptRef(a.attempt.task_instance_id, 1, a.attempt.attempt_token) for a in assigned[1:])
        outbound = await join(engine, running=refs)
        for ref, value in zip(refs, (200, 300), strict=True):
            await finish(engine, ref.ti_id, 1, ref.token, value)
        (reduce,) = sent(outbound, "assignment")
        assert json.loads(reduce.payload.python.xcom_inputs_json) == {"add|return_value": [100, 200, 300]}
        await finish(engine, reduce.attempt.task_instance_id, 1, reduce.attempt.attempt_token, 600)
        row = engine.store.get_run("d", "r1")
        assert row is not None and row.state == RunState.SUCCESS.value

    asyncio.run(scenario())
