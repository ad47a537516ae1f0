"""Backfills in the scheduling core, on a real metastore: planning, their own max_active_runs,
reprocessing, cancelling and a restart."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from coordinator.control_service import ControlService
from coordinator.engine import Engine
from coordinator.events import AttemptRef, Finished
from coordinator.metastore import models as m
from coordinator.metastore.db import connect
from coordinator.metastore.store import Store
from coordinator.records import Run
from coordinator.validation import check_request
from tests.coordinator.conftest import dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine
from tests.pg import fresh_database
from tradewind.exceptions import FailedPrecondition, InvalidArgument, NotFound
from tradewind.states import RunState
from tradewind.v1 import control_pb2
from tradewind.wire import BackfillState, Outcome, Reprocess, to_timestamp

DAILY = {"kind": "cron", "expr": "@daily"}


def day(n: int) -> datetime:
    return datetime(2024, 1, n, tzinfo=UTC)


def daily(dag_id: str = "d", **extra: Any) -> dict[str, Any]:
    return dag(dag_id, [task("a")], schedule=DAILY, start_date="2030-01-01T00:00:00+00:00", **extra)


async def backfill(engine: Engine, first: int = 1, last: int = 5, **args: Any) -> Any:
    values: dict[str, Any] = {
        "dag_id": "d",
        "from_date": day(first),
        "to_date": day(last),
        "reprocess": Reprocess.NONE,
        "max_active_runs": 10,
        "run_backwards": False,
        "dry_run": False,
        "conf": {},
    }
    return await command(engine, "create_backfill", **(values | args))


async def finish(engine: Engine, run: Run, outcome: Outcome = Outcome.SUCCESS) -> None:
    ti = run.tis["a"]
    attempt = AttemptRef(ti.id, ti.try_number, ti.token)
    generation = engine.scheduler.workers["w1"].generation
    await engine.turn([Finished("w1", attempt, outcome, 0, "", "null", None, generation=generation)])


def running(engine: Engine) -> list[Run]:
    return sorted((r for r in engine.scheduler.runs.values() if r.state is RunState.RUNNING), key=lambda r: r.id)


def scenario(body: Callable[[Engine], Awaitable[None]], tmp_path: Path, url: str = "") -> None:
    async def main() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, daily(max_active_runs=1))
        await join(engine)
        await body(engine)
        engine.store.db.close()

    asyncio.run(main())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_backfill_runs_every_interval_under_its_own_max_active_runs(tmp_path: Path, backend: str) -> None:
    async def body(engine: Engine) -> None:
        backfill_id = await backfill(engine, max_active_runs=2)
        rows = engine.store.list_runs("d")
        assert sorted(r.run_id for r in rows) == [f"backfill__{day(n).isoformat()}" for n in range(1, 6)]
        assert {r.run_type for r in rows} == {"backfill"} and {r.backfill_id for r in rows} == {backfill_id}
        assert [r.logical_date.day for r in running(engine)] == [1, 2]
        # the DAG's own max_active_runs (1) does not hold back a manual run beside the backfill
        await command(engine, "trigger", dag_id="d", conf={}, run_id="m", logical_date=None)
        assert engine.scheduler.run_for("d", "m").state is RunState.RUNNING
        while running(engine):
            await finish(engine, [r for r in running(engine) if r.backfill_id][0])
            if not any(r.backfill_id for r in running(engine)):
                break
        progress = engine.store.backfill_progress([backfill_id])[backfill_id]
        assert progress[RunState.SUCCESS.value] == 5
        row = engine.store.get_backfill(backfill_id)
        assert row.state == BackfillState.COMPLETED.value and row.completed_at is not None
        assert backfill_id not in engine.scheduler.backfills

    if backend == "sqlite":
        scenario(body, tmp_path)
        return
    with fresh_database() as url:
        scenario(body, tmp_path, url)


def test_a_dry_run_lists_the_dates_newest_first_with_run_backwards_and_changes_nothing(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        plan = await backfill(engine, 1, 3, dry_run=True, run_backwards=True)
        assert [p.info.logical_date for p in plan] == [day(3), day(2), day(1)]
        assert engine.store.list_runs("d") == [] and engine.store.list_backfills() == []

    scenario(body, tmp_path)


def test_run_backwards_starts_the_newest_date_first(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        await backfill(engine, 1, 3, max_active_runs=1, run_backwards=True)
        assert [r.logical_date for r in running(engine)] == [day(3)]

    scenario(body, tmp_path)


@pytest.mark.parametrize(
    ("reprocess", "rerun"),
    [(Reprocess.NONE, set()), (Reprocess.FAILED, {2}), (Reprocess.COMPLETED, {1, 2})],
)
def test_existing_runs_are_handled_by_the_reprocess_behaviour(
    tmp_path: Path, reprocess: Reprocess, rerun: set[int]
) -> None:
    async def body(engine: Engine) -> None:
        await backfill(engine, 1, 3)
        runs = running(engine)
        await finish(engine, runs[0])
        await finish(engine, runs[1], Outcome.FAILED_NO_RETRY)
        # day 3 is still running: in flight, left alone whatever the behaviour
        plan = await backfill(engine, 1, 4, reprocess=reprocess, dry_run=True)
        assert {p.info.logical_date.day for p in plan if p.rerun} == rerun
        assert {p.info.logical_date.day: p.skipped for p in plan}[3] == "in flight"
        await finish(engine, runs[2])
        second = await backfill(engine, 1, 4, reprocess=reprocess)
        again = {r.logical_date.day for r in running(engine)}
        assert again == rerun | {4} | ({3} if reprocess is Reprocess.COMPLETED else set())
        for run in running(engine):
            assert run.backfill_id == second and run.tis["a"].try_number == (2 if run.logical_date.day < 4 else 1)

    scenario(body, tmp_path)


def test_a_second_active_backfill_of_a_dag_is_refused(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        first = await backfill(engine, 1, 2)
        with pytest.raises(FailedPrecondition, match=rf"DAG 'd' already has an active backfill \({first}\)"):
            await backfill(engine, 3, 4)

    scenario(body, tmp_path)


def test_bad_ranges_and_dags_without_a_schedule_are_clear_errors(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        with pytest.raises(InvalidArgument, match="from_date 2024-01-05T00:00:00\\+00:00 is after to_date"):
            await backfill(engine, 5, 1)
        add_dag(engine, dag("none", [task("a")]))
        with pytest.raises(FailedPrecondition, match="DAG 'none' has no schedule"):
            await backfill(engine, dag_id="none")
        with pytest.raises(InvalidArgument, match="more than 10,000 logical dates"):
            await backfill(engine, from_date=datetime(1990, 1, 1, tzinfo=UTC))

    scenario(body, tmp_path)


def test_a_paused_dag_can_be_backfilled(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        await command(engine, "set_paused", dag_id="d", paused=True)
        await backfill(engine, 1, 1)
        (run,) = running(engine)
        assert run.tis["a"].worker == "w1"

    scenario(body, tmp_path)


def test_cancel_fails_the_queued_runs_and_lets_the_running_ones_finish(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        backfill_id = await backfill(engine, 1, 4, max_active_runs=1)
        (first,) = running(engine)
        await command(engine, "cancel_backfill", backfill_id=backfill_id)
        states = {r.run_id: r.state for r in engine.store.list_runs("d")}
        assert sorted(states.values()) == ["failed", "failed", "failed", "running"]
        assert engine.store.get_backfill(backfill_id).state == BackfillState.CANCELLED.value
        with pytest.raises(FailedPrecondition, match=f"backfill {backfill_id} is already cancelled"):
            await command(engine, "cancel_backfill", backfill_id=backfill_id)
        await backfill(engine, 10, 10)  # a cancelled backfill is no longer the DAG's active one
        await finish(engine, first)
        assert engine.store.get_run("d", first.run_id).state == RunState.SUCCESS.value
        assert backfill_id not in engine.scheduler.backfills

    scenario(body, tmp_path)


def test_a_backfill_carries_on_after_a_restart(tmp_path: Path) -> None:
    async def main() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, daily())
        await join(engine)
        backfill_id = await backfill(engine, 1, 4, max_active_runs=2, run_backwards=True)
        engine.store.db.close()
        engine = make_engine(tmp_path)
        restored = engine.scheduler.backfills[backfill_id]
        assert restored.running == 2 and [r.logical_date for r in restored.queued] == [day(2), day(1)]
        await join(engine, running=tuple(AttemptRef(r.tis["a"].id, 1, r.tis["a"].token) for r in running(engine)))
        await finish(engine, running(engine)[0])
        assert restored.running == 2 and [r.logical_date for r in restored.queued] == [day(1)]
        with pytest.raises(FailedPrecondition, match="already has an active backfill"):
            await backfill(engine, 7, 7)

    asyncio.run(main())


def test_a_reprocessed_run_waiting_for_its_backfill_is_explained_by_the_backfills_limit(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        await backfill(engine, 1, 2)
        for run in running(engine):
            await finish(engine, run, Outcome.FAILED_NO_RETRY)
        second = await backfill(engine, 1, 2, reprocess=Reprocess.FAILED, max_active_runs=1)
        waiting = next(r for r in engine.scheduler.runs.values() if r.state is RunState.QUEUED)
        ((reason, message),) = engine.scheduler.explain(waiting.tis["a"])
        assert message == f"its run is queued: backfill {second} has 1 of max_active_runs 1 runs running"

    scenario(body, tmp_path)


def test_a_dag_with_depends_on_past_cannot_be_backfilled_backwards(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        add_dag(engine, daily("past") | {"tasks": [task("a", depends_on_past=True)]})
        with pytest.raises(InvalidArgument, match="DAG 'past' has tasks with depends_on_past"):
            await backfill(engine, dag_id="past", run_backwards=True)

    scenario(body, tmp_path)


def test_backfill_requests_break_no_input_rule_unnoticed(tmp_path: Path) -> None:
    async def main() -> None:
        engine = make_engine(tmp_path)
        loop = asyncio.create_task(engine.run())
        service = ControlService(engine)
        day_one = to_timestamp(day(1))
        cases: list[tuple[Any, Any, str]] = [
            (
                service.CreateBackfill,
                control_pb2.CreateBackfillRequest(dag_id="d", to_date=day_one),
                "from_date is required",
            ),
            (
                service.CreateBackfill,
                control_pb2.CreateBackfillRequest(dag_id="d", from_date=day_one, to_date=day_one, max_active_runs=1001),
                "max_active_runs must be between 1 and 1000, not 1001",
            ),
            (
                service.CreateBackfill,
                control_pb2.CreateBackfillRequest(
                    dag_id="d", from_date=to_timestamp(datetime(1960, 1, 1)), to_date=day_one
                ),
                "from_date must lie between 1970-01-01 and 9999-12-31, not 1960-01-01 00:00:00\\+00:00",
            ),
            (service.GetBackfill, control_pb2.GetBackfillRequest(), "backfill_id is required"),
            (service.CancelBackfill, control_pb2.CancelBackfillRequest(backfill_id=4), "backfill 4 not found"),
        ]
        for method, request, message in cases:
            with pytest.raises((InvalidArgument, NotFound), match=message):
                await method(request, None)
        for request, message in (
            (control_pb2.CancelBackfillRequest(backfill_id=-1), "backfill_id must be 1 or more, not -1"),
            (control_pb2.CreateBackfillRequest(max_active_runs=-2), "max_active_runs must be 0 or more, not -2"),
            (control_pb2.CreateBackfillRequest(reprocess_behavior=9), "reprocess_behavior 9 is not a known"),
        ):
            with pytest.raises(InvalidArgument, match=message):
                check_request(request)
        loop.cancel()

    asyncio.run(main())


VERSION_2_DDL = [
    "CREATE TABLE meta (key VARCHAR(255) NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO meta (key, value) VALUES ('schema_version', '2')",
    """CREATE TABLE dag_run (id BIGINT NOT NULL PRIMARY KEY, dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL, state VARCHAR(20) NOT NULL, run_type VARCHAR(20) NOT NULL,
    logical_date TIMESTAMP NOT NULL, data_interval_start TIMESTAMP, data_interval_end TIMESTAMP,
    conf TEXT NOT NULL, queued_at TIMESTAMP NOT NULL, start_date TIMESTAMP, end_date TIMESTAMP,
    dag_version_id INTEGER NOT NULL)""",
    """INSERT INTO dag_run VALUES (1, 'd', 'r', 'success', 'manual', '2024-01-01 00:00:00', NULL, NULL, '{}',
    '2024-01-01 00:00:00', NULL, NULL, 1)""",
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_version_2_metastore_gains_the_backfill_tables_and_dag_run_backfill_id(tmp_path: Path, backend: str) -> None:
    def check(url: str) -> None:
        database = connect(url)
        try:
            assert m.Meta.get(m.Meta.key == "schema_version").value == "3"
            assert m.DagRun.get_by_id(1).backfill_id is None
            m.DagRun.update(backfill_id=7).where(m.DagRun.id == 1).execute()
            assert Store(database).runs_at("d", day(1), day(1)) == {day(1): ("r", RunState.SUCCESS)}
            assert m.Backfill.select().count() == 0 and m.BackfillDagRun.select().count() == 0
        finally:
            database.close()

    if backend == "sqlite":
        with sqlite3.connect(tmp_path / "v2.db") as conn:
            for statement in VERSION_2_DDL:
                conn.execute(statement)
        conn.close()
        check(f"sqlite:///{tmp_path / 'v2.db'}")
        return
    with fresh_database() as url:
        conn = psycopg2.connect(url)
        with conn, conn.cursor() as cursor:
            for statement in VERSION_2_DDL:
                cursor.execute(statement)
        conn.close()
        check(url)


def test_the_dates_are_the_timetables_in_the_dags_time_zone_across_a_dst_change(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        add_dag(engine, daily("ny", timezone="America/New_York"))
        first, last = datetime(2024, 3, 9, 5, tzinfo=UTC), datetime(2024, 3, 11, 4, tzinfo=UTC)
        plan = await backfill(engine, dag_id="ny", from_date=first, to_date=last, dry_run=True)
        assert [p.info.logical_date.isoformat() for p in plan] == [
            "2024-03-09T05:00:00+00:00",  # New York midnight, EST
            "2024-03-10T05:00:00+00:00",
            "2024-03-11T04:00:00+00:00",  # New York midnight, EDT
        ]
        assert plan[1].info.data_interval_end == plan[2].info.logical_date

    scenario(body, tmp_path)


def test_a_backfill_created_over_control_service_runs_10_at_once_by_default(tmp_path: Path) -> None:
    async def main() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, daily())
        loop = asyncio.create_task(engine.run())
        request = control_pb2.CreateBackfillRequest(
            dag_id="d", from_date=to_timestamp(day(1)), to_date=to_timestamp(day(12))
        )
        response = await ControlService(engine).CreateBackfill(request, None)
        loop.cancel()
        b = response.backfill
        assert (b.max_active_runs, b.total_runs, b.running_runs, b.queued_runs) == (10, 12, 10, 2)
        assert b.reprocess_behavior == control_pb2.REPROCESS_BEHAVIOR_NONE
        assert [d.run_id for d in response.dates][:2] == [
            f"backfill__{day(1).isoformat()}",
            f"backfill__{day(2).isoformat()}",
        ]

    asyncio.run(main())


def test_the_runs_a_backfill_creates_get_its_conf_checked_against_the_params(tmp_path: Path) -> None:
    async def body(engine: Engine) -> None:
        add_dag(engine, daily("p", params={"n": 1}, param_schemas={"n": {"type": "integer"}}))
        with pytest.raises(InvalidArgument, match="DAG 'p': conf_json: param 'n'"):
            await backfill(engine, 1, 1, dag_id="p", conf={"n": "many"}, dry_run=True)
        await backfill(engine, 1, 2, dag_id="p", conf={"n": 5})
        assert [r.conf for r in engine.store.list_runs("p")] == ['{"n": 5}', '{"n": 5}']

    scenario(body, tmp_path)


def test_a_rerun_still_queued_at_a_restart_starts_later_with_its_cleared_task_instances(tmp_path: Path) -> None:
    async def main() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, daily())
        await join(engine)
        await backfill(engine, 1, 2)
        for run in running(engine):
            await finish(engine, run, Outcome.FAILED_NO_RETRY)
        second = await backfill(engine, 1, 2, reprocess=Reprocess.FAILED, max_active_runs=1)
        engine.store.db.close()
        engine = make_engine(tmp_path)
        restored = engine.scheduler.backfills[second]
        (waiting,) = restored.queued
        assert waiting.tis["a"].state.value == "none" and waiting.tis["a"].try_number == 1
        (first,) = running(engine)
        await join(engine, running=(AttemptRef(first.tis["a"].id, 2, first.tis["a"].token),))
        await finish(engine, first)
        (now,) = running(engine)
        assert now is waiting and now.tis["a"].try_number == 2 and now.backfill_id == second

    asyncio.run(main())
