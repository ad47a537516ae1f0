"""Asset events and asset-triggered runs through a real engine and metastore, on SQLite and on
PostgreSQL (as tests/pg.py allows)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from coordinator.clock import FakeClock
from coordinator.engine import Engine
from coordinator.events import AliasAdded, AttemptRef, Finished
from coordinator.payloads import build
from coordinator.records import Run
from tests.coordinator.engine_kit import add_dag, command, join, make_engine, sent
from tests.coordinator.test_store_contract import Counter
from tests.pg import fresh_database
from tradewind import DAG, Asset, AssetAlias, AssetOrTimeSchedule, BashOperator, EmptyOperator
from tradewind.exceptions import NotFound
from tradewind.serialization import serialize_dag
from tradewind.states import TaskState
from tradewind.templates import context_from_json
from tradewind.wire import Outcome

A, B, C = Asset("s3://lake/a"), Asset("s3://lake/b"), Asset("s3://lake/c")
START = datetime(2024, 1, 1, tzinfo=UTC)


def consumer(dag_id: str, schedule: Any) -> dict[str, Any]:
    with DAG(dag_id, schedule=schedule, start_date=START) as dag:
        BashOperator(task_id="use", bash_command="echo {{ triggering_asset_events }}")
    return serialize_dag(dag, f"{dag_id}.py")


def producer(dag_id: str, outlets: list[Asset], kind: str = "bash") -> dict[str, Any]:
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        if kind == "empty":
            EmptyOperator(task_id="make", outlets=outlets)
        else:
            BashOperator(task_id="make", bash_command="true", outlets=outlets)
    return serialize_dag(dag, f"{dag_id}.py")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The metastore URL: empty for a temp SQLite file, else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield ""
        return
    with fresh_database() as database:
        yield database


def runs_of(engine: Engine, dag_id: str) -> list[Run]:
    return [r for r in engine.scheduler.runs.values() if r.dag_id == dag_id]


async def emit(engine: Engine, uri: str, extra: dict[str, Any] | None = None) -> tuple[Any, list[Run]]:
    return await command(engine, "emit_asset_event", uri=uri, extra=extra or {})


def test_an_emitted_event_starts_the_dag_scheduled_on_its_asset(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_a", [A]))
        event, runs = await emit(engine, A.uri, {"rows": 3})
        assert event.uri == A.uri and json.loads(event.extra_json) == {"rows": 3}
        assert [r.run_type for r in runs] == ["asset_triggered"]
        assert runs[0].run_id.startswith("asset_triggered__")
        assert [e.extra for e in runs[0].asset_events] == [{"rows": 3}]
        stored = engine.store.list_asset_events(A.uri)
        assert [(e.extra, created) for e, created in stored] == [({"rows": 3}, [("on_a", runs[0].run_id)])]

    asyncio.run(scenario())


def test_a_dag_on_a_and_b_starts_only_after_both_and_consumes_both(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_both", A & B))
        _, runs = await emit(engine, A.uri)
        _, again = await emit(engine, A.uri)
        assert runs == [] and again == []
        _, runs = await emit(engine, B.uri)
        assert len(runs) == 1
        assert [e.uri for e in runs[0].asset_events] == [A.uri, A.uri, B.uri]
        _, after = await emit(engine, B.uri)
        assert after == [], "the events were consumed; b alone does not meet a & b again"

    asyncio.run(scenario())


def test_a_dag_on_a_or_b_starts_on_either(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_either", A | (B & C)))
        assert len((await emit(engine, A.uri))[1]) == 1
        assert (await emit(engine, B.uri))[1] == []
        assert len((await emit(engine, C.uri))[1]) == 1
        assert len(runs_of(engine, "on_either")) == 2

    asyncio.run(scenario())


def test_a_task_with_outlets_starts_the_consumer_in_the_commit_of_its_success(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, producer("make_a", [A]))
        add_dag(engine, consumer("on_a", [A]))
        stream = await join(engine)
        run = await command(engine, "trigger", dag_id="make_a", conf={}, run_id="", logical_date=None)
        await engine.turn([])
        (assignment,) = sent(stream, "assignment")
        ref = AttemptRef(
            assignment.attempt.task_instance_id, assignment.attempt.try_number, assignment.attempt.attempt_token
        )
        generation = engine.streams["w1"][0]
        finished = Finished("w1", ref, Outcome.SUCCESS, 0, "", "", None, generation=generation)
        await engine.turn([finished])
        (triggered,) = runs_of(engine, "on_a")
        (event,) = triggered.asset_events
        assert (event.source_dag_id, event.source_run_id, event.source_task_id) == ("make_a", run.run_id, "make")
        assert engine.store.run_asset_events([triggered.id])[triggered.id] == [event]

    asyncio.run(scenario())


def test_an_empty_operator_with_outlets_emits_when_the_scheduler_succeeds_it(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, producer("make_a", [A], kind="empty"))
        add_dag(engine, consumer("on_a", [A]))
        await command(engine, "trigger", dag_id="make_a", conf={}, run_id="", logical_date=None)
        assert len(runs_of(engine, "on_a")) == 1

    asyncio.run(scenario())


def test_the_consumer_task_sees_its_triggering_asset_events(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_a", [A]))
        _, (run,) = await emit(engine, A.uri, {"path": "x.csv"})
        context = context_from_json(json.dumps(json.loads(_python_context(run))))
        events = context["triggering_asset_events"]
        assert [e.extra for e in events[A]] == [{"path": "x.csv"}]
        assert [e.extra for e in events[A.uri]] == [{"path": "x.csv"}]
        assert list(events) == [A]
        assert "x.csv" in build(run.tis["use"]).fields["bash_command"]

    asyncio.run(scenario())


def _python_context(run: Run) -> str:
    from coordinator.payloads import context_for
    from tradewind.templates import context_to_json

    return context_to_json(context_for(run.tis["use"]))


def test_queued_events_and_triggering_events_survive_a_restart(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_both", [A, B]))
        add_dag(engine, consumer("on_a", [A]))
        _, (run,) = await emit(engine, A.uri, {"n": 1})
        engine.store.db.close()

        restarted = make_engine(tmp_path, url=url)
        assert [e.extra for e in restarted.scheduler.runs[run.id].asset_events] == [{"n": 1}]
        assert [e.uri for e in restarted.scheduler.asset_queue["on_both"]] == [A.uri]
        event, runs = await emit(restarted, B.uri)
        assert event.id == 2
        assert [(r.dag_id, [e.uri for e in r.asset_events]) for r in runs] == [("on_both", [A.uri, B.uri])]
        assert restarted.store.asset_queue() == {}

    asyncio.run(scenario())


def test_an_event_for_an_asset_no_dag_names_is_not_found(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        with pytest.raises(NotFound, match="asset 's3://nowhere' not found"):
            await emit(engine, "s3://nowhere")

    asyncio.run(scenario())


def test_a_paused_dag_queues_no_events(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_a", [A]))
        await command(engine, "set_paused", dag_id="on_a", paused=True)
        assert (await emit(engine, A.uri))[1] == []
        await command(engine, "set_paused", dag_id="on_a", paused=False)
        assert runs_of(engine, "on_a") == []

    asyncio.run(scenario())


def test_a_fired_watcher_trigger_is_an_event_with_airflows_extra(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_a", [A]))
        event, started = engine.scheduler.watcher_fired(A.uri, {"key": "orders/1.csv"})
        await engine.turn([])
        (run,) = started
        assert event.extra == {"from_trigger": True, "payload": {"key": "orders/1.csv"}}
        assert run.asset_events == (event,)

    asyncio.run(scenario())


def test_a_cleared_task_of_a_finished_asset_triggered_run_still_sees_its_events(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_a", [A]))
        _, (run,) = await emit(engine, A.uri, {"n": 1})
        await command(engine, "mark", dag_id="on_a", run_id=run.run_id, task_id="use", state=TaskState.SUCCESS)
        assert engine.scheduler.run_for("on_a", run.run_id) is None
        await command(engine, "clear", dag_id="on_a", run_id=run.run_id, task_ids=["use"], include_downstream=False)
        reopened = engine.scheduler.run_for("on_a", run.run_id)
        assert reopened is not None and [e.extra for e in reopened.asset_events] == [{"n": 1}]

    asyncio.run(scenario())


def test_listing_assets_and_events_costs_two_queries_however_many_there_are(
    tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_all", [A, B, C]))
        add_dag(engine, consumer("on_a", [A]))
        for _ in range(10):
            for asset in (A, B, C):
                await emit(engine, asset.uri, {"n": 1})
        counter = Counter(engine.store.db, monkeypatch)
        assert [row.uri for row, _ in engine.store.list_assets()] == sorted([A.uri, B.uri, C.uri])
        assert counter.queries == 2
        counter.queries = 0
        events = engine.store.list_asset_events("", 25)
        assert len(events) == 25 and counter.queries == 2
        assert sum(len(created) for _, created in events) >= 8

    asyncio.run(scenario())


def test_asset_or_time_schedule_runs_on_its_schedule_and_on_its_assets(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, FakeClock(datetime(2024, 3, 1, tzinfo=UTC)), url=url)
        add_dag(engine, consumer("both", AssetOrTimeSchedule(timetable="@daily", assets=A | B)))
        assert [r.run_type for r in runs_of(engine, "both")] == ["scheduled"]
        _, started = await emit(engine, B.uri)
        assert [r.run_type for r in started] == ["asset_triggered"]

    asyncio.run(scenario())


def test_a_dag_that_updates_its_own_asset_starts_one_run_per_turn_and_never_loops_within_one(
    tmp_path: Path, url: str
) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        with DAG("again", schedule=[A], start_date=START, max_active_runs=100) as dag:
            EmptyOperator(task_id="touch", outlets=[A])
        add_dag(engine, serialize_dag(dag, "again.py"))
        _, started = await emit(engine, A.uri)
        assert len(started) == 1 and len(engine.store.list_runs("again")) == 1
        assert engine.scheduler.next_timer_delay() == 0.0, "the next run is due in the next turn"
        await engine.turn([])
        await engine.turn([])
        assert len(engine.store.list_runs("again")) == 3

    asyncio.run(scenario())


def test_a_task_reads_its_inlets_events_oldest_first_and_they_survive_a_restart(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        with DAG("reader", schedule=None, start_date=START) as dag:
            BashOperator(task_id="read", bash_command="echo {{ inlet_events[params.uri][-1].extra }}", inlets=[A])
        add_dag(engine, serialize_dag(dag, "reader.py"))
        for n in range(3):
            await emit(engine, A.uri, {"n": n})
        engine.store.db.close()

        restarted = make_engine(tmp_path, url=url)
        run = await command(restarted, "trigger", dag_id="reader", conf={"uri": A.uri}, run_id="", logical_date=None)
        ti = restarted.scheduler.run_for("reader", run.run_id).tis["read"]
        inlets = restarted.scheduler._inlet_events(ti)
        assert build(ti, None, inlets=inlets).fields["bash_command"] == "echo {'n': 2}"
        from coordinator.payloads import context_for

        events = context_for(ti, None, inlets=inlets)["inlet_events"]
        assert [e.extra for e in events[A]] == [{"n": 0}, {"n": 1}, {"n": 2}]
        with pytest.raises(KeyError, match="not one of the task's inlets"):
            events[B]

    asyncio.run(scenario())


def test_the_events_kept_for_inlet_events_are_bounded_in_number_and_in_bytes(tmp_path: Path, url: str) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, consumer("on_a", [A]))
        scheduler = engine.scheduler
        for n in range(4):
            scheduler.emit_external(A.uri, {"n": n, "blob": "x" * 400_000})
        assert [e.extra["n"] for e, _ in scheduler.recent_events[A.uri]] == [2, 3]
        for n in range(150):
            scheduler.emit_external(A.uri, {"n": n})
        assert len(scheduler.recent_events[A.uri]) == 100 and scheduler.event_counts[A.uri] == 154

    asyncio.run(scenario())


def test_events_added_through_an_alias_start_the_dag_on_the_alias_and_the_alias_keeps_its_asset(
    tmp_path: Path, url: str
) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path, url=url)
        alias = AssetAlias("daily-files")
        with DAG("writer", schedule=None, start_date=START) as dag:
            BashOperator(task_id="write", bash_command="true", outlets=[alias])
        add_dag(engine, serialize_dag(dag, "writer.py"))
        add_dag(engine, consumer("on_alias", [alias]))
        stream = await join(engine)
        await command(engine, "trigger", dag_id="writer", conf={}, run_id="", logical_date=None)
        await engine.turn([])
        (assignment,) = sent(stream, "assignment")
        ref = AttemptRef(
            assignment.attempt.task_instance_id, assignment.attempt.try_number, assignment.attempt.attempt_token
        )
        added = (AliasAdded("daily-files", "s3://files/1", "files-1", "asset", {"n": 1}),)
        finished = Finished(
            "w1", ref, Outcome.SUCCESS, 0, "", "", None, generation=engine.streams["w1"][0], alias_events=added
        )
        await engine.turn([finished])
        (run,) = runs_of(engine, "on_alias")
        assert [(e.uri, e.extra, e.source_task_id) for e in run.asset_events] == [("s3://files/1", {"n": 1}, "write")]
        engine.store.db.close()

        restarted = make_engine(tmp_path, url=url)
        assert restarted.scheduler.alias_assets == {"daily-files": {"s3://files/1"}}
        _, started = await emit(restarted, "s3://files/1")
        assert [r.dag_id for r in started] == ["on_alias"], "the alias resolves to the asset from now on"

    asyncio.run(scenario())
