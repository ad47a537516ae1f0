"""max_consecutive_failed_dag_runs: that many failed runs in a row pause the DAG; a success
between them starts the count again; the count survives a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from coordinator.clock import FakeClock
from coordinator.events import Acked, AttemptRef, Finished
from tests.coordinator.conftest import Harness, dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine
from tradewind.wire import Outcome


def run_once(h: Harness, run_id: str, outcome: Outcome) -> None:
    h.scheduler.trigger("d", {}, run_id, None, False)
    (ti,) = h.assignments(h.turn())
    ref = AttemptRef(ti.id, 1, ti.token)
    h.scheduler.acked(Acked("w1", ref, True, "", generation=h.gen()))
    h.scheduler.finished(Finished("w1", ref, outcome, 0, "", "", None, generation=h.gen()))


def test_the_dag_is_paused_after_its_limit_of_failed_runs_in_a_row(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")], max_consecutive_failed_dag_runs=2))
    harness.worker()
    run_once(harness, "r1", Outcome.FAILED)
    run_once(harness, "r2", Outcome.SUCCESS)
    run_once(harness, "r3", Outcome.FAILED)
    assert not harness.scheduler.dags["d"].paused
    run_once(harness, "r4", Outcome.FAILED)
    assert harness.scheduler.dags["d"].paused
    assert harness.scheduler.take()[0].dags["d"]["paused"] is True


def test_failed_runs_before_a_restart_count_toward_the_limit(tmp_path: Path) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        first = make_engine(tmp_path, clock)
        add_dag(first, dag("d", [task("a")], max_consecutive_failed_dag_runs=2))
        await join(first)
        await command(first, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        ti = first.scheduler.run_for("d", "r1").tis["a"]
        generation = first.scheduler.workers["w1"].generation
        ref = AttemptRef(ti.id, 1, ti.token)
        await first.turn([Finished("w1", ref, Outcome.FAILED, 1, "", "", None, generation=generation)])

        engine = make_engine(tmp_path, clock)
        assert engine.scheduler.dags["d"].failed_in_a_row == 1
        await join(engine)
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r2", logical_date=None)
        ti = engine.scheduler.run_for("d", "r2").tis["a"]
        generation = engine.scheduler.workers["w1"].generation
        ref = AttemptRef(ti.id, 1, ti.token)
        await engine.turn([Finished("w1", ref, Outcome.FAILED, 1, "", "", None, generation=generation)])
        row = engine.store.get_dag("d")
        assert row is not None and row.paused

    asyncio.run(scenario())
