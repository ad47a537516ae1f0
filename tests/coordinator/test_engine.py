"""The engine on a real metastore: containment of errors, the commit, refused rows."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from coordinator.events import AttemptRef, Command, Finished, Started
from coordinator.logs import LogKey
from coordinator.metastore.store import StoreFailure
from tests.coordinator.conftest import dag, task
from tests.coordinator.engine_kit import add_dag, command, join, make_engine, sent
from tests.pg import fresh_database
from tradewind.exceptions import ApiError, MetastoreError
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_run_commits_through_the_writer_thread_on_both_backends(tmp_path: Path, backend: str) -> None:
    async def scenario(url: str) -> None:
        engine = make_engine(tmp_path, url=url)
        add_dag(engine, dag("d", [task("a"), task("b", ["a"])]))
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        await join(engine)
        run = engine.scheduler.run_for("d", "r1")
        for task_id in ("a", "b"):
            ti = run.tis[task_id]
            attempt = AttemptRef(ti.id, ti.try_number, ti.token)
            await engine.turn([Finished("w1", attempt, Outcome.SUCCESS, 0, "", '"v"', None, generation=1)])
        row = engine.store.get_run("d", "r1")
        assert row is not None and row.state == RunState.SUCCESS.value
        engine.store.db.close()

    if backend == "sqlite":
        asyncio.run(scenario(""))
        return
    with fresh_database() as url:
        asyncio.run(scenario(url))


def test_a_template_error_with_retries_fails_the_try_into_its_log_and_the_engine_goes_on(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        bash = {"bash_command": "echo {{ dag_run.conf['x'] }}", "env": None, "cwd": None}
        add_dag(engine, dag("d", [task("a", retries=1, bash=bash)]))
        await join(engine)
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        (ti,) = engine.scheduler.run_for("d", "r1").tis.values()
        assert ti.state is TaskState.UP_FOR_RETRY
        log = engine.logs.read(LogKey("d", "r1", "a", 1))
        assert b"template did not render" in log and b"'x'" in log
        await command(engine, "trigger", dag_id="d", conf={"x": 1}, run_id="r2", logical_date=None)
        assert engine.scheduler.run_for("d", "r2") is not None

    asyncio.run(scenario())


def test_an_error_applying_one_event_fails_that_task_instance_and_the_loop_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, dag("d", [task("a"), task("b")]))
        await join(engine)
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        run = engine.scheduler.run_for("d", "r1")
        a, b = run.tis["a"], run.tis["b"]

        def broken(event: Started) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(engine.scheduler, "started", broken)
        await engine.turn([Started("w1", AttemptRef(a.id, 1, a.token), None, generation=1)])
        assert a.state is TaskState.FAILED and "internal error: RuntimeError: a bug" in a.attempt.error
        assert b.state is TaskState.QUEUED
        stored = engine.store.get_ti(run.id, "a")
        assert stored is not None and stored.state == "failed"

    asyncio.run(scenario())


def test_an_error_in_a_command_answers_internal_and_the_loop_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, dag("d", [task("a")]))

        def broken(name: str) -> None:
            raise KeyError(name)

        monkeypatch.setattr(engine, "_cmd_drain", broken)
        with pytest.raises(ApiError, match="internal error: KeyError") as caught:
            await command(engine, "drain", name="w1")
        assert caught.value.code == "INTERNAL"
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)

    asyncio.run(scenario())


def test_a_failing_commit_is_retried_with_its_batch_on_the_writer_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, dag("d", [task("a")]))
        real, calls, threads = engine.store.commit, [], []

        def flaky(changes):  # type: ignore[no-untyped-def]
            calls.append(1)
            threads.append(threading.current_thread().name)
            if len(calls) <= 2:
                raise MetastoreError("cannot write to the metastore: server closed the connection")
            return real(changes)

        monkeypatch.setattr(engine.store, "commit", flaky)
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        assert len(calls) == 3 and all(t.startswith("metastore-writer") for t in threads)
        assert engine.store.get_run("d", "r1") is not None

    asyncio.run(scenario())



@pytest.mark.parametrize(
    "error",
    [
        "database or disk is full",
        'cannot write to the metastore: could not extend file "base/1/2": No space left on device',
    ],
)
def test_a_full_metastore_disk_stops_the_engine_loudly_instead_of_retrying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, dag("d", [task("a")]))
        calls: list[int] = []

        def full(changes):  # type: ignore[no-untyped-def]
            calls.append(1)
            raise MetastoreError(error)

        monkeypatch.setattr(engine.store, "commit", full)
        reply: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        with pytest.raises(MetastoreError, match="disk is full; the coordinator stops"):
            trigger = {"dag_id": "d", "conf": {}, "run_id": "r1", "logical_date": None}
            await engine.turn([Command("trigger", trigger, reply)])
        assert calls == [1]

    asyncio.run(scenario())

def test_rows_the_metastore_refuses_fail_their_task_instances_next_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, dag("d", [task("a"), task("b")]))
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        run = engine.scheduler.run_for("d", "r1")
        a = run.tis["a"]
        real = engine.store.commit
        refusals = [[StoreFailure("task_instance", a.id, "value too long")]]

        def refusing(changes):  # type: ignore[no-untyped-def]
            failures = real(changes)
            return refusals.pop() if refusals else failures

        monkeypatch.setattr(engine.store, "commit", refusing)
        outbound = await join(engine)
        assert a.state is TaskState.QUEUED
        await engine.turn([])
        assert a.state is TaskState.FAILED and a.attempt.error == "could not be stored: value too long"
        assert run.tis["b"].state is TaskState.QUEUED
        (cancel,) = sent(outbound, "cancel")
        assert cancel.attempt.task_instance_id == a.id

    asyncio.run(scenario())


def test_assignments_carry_the_token_captured_when_assigned_and_the_map_index(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        add_dag(engine, dag("d", [task("a")]))
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        outbound = await join(engine)
        (assignment,) = sent(outbound, "assignment")
        ti = engine.scheduler.run_for("d", "r1").tis["a"]
        assert assignment.attempt.attempt_token == ti.token and assignment.map_index == -1

    asyncio.run(scenario())


def test_deleting_a_pool_with_waiting_task_instances_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        engine = make_engine(tmp_path)
        await command(engine, "set_pool", name="db", slots=1, description="")
        add_dag(engine, dag("d", [task("a", pool="db")]))
        await command(engine, "trigger", dag_id="d", conf={}, run_id="r1", logical_date=None)
        with pytest.raises(ApiError, match="pool 'db' cannot be deleted: 1 task instances wait") as caught:
            await command(engine, "delete_pool", name="db")
        assert caught.value.code == "FAILED_PRECONDITION"
        assert "db" in engine.store.pools()

    asyncio.run(scenario())


def test_cancelling_the_engine_loop_as_an_event_arrives_stops_it(tmp_path: Path) -> None:
    """The cancel lands in the same turn of the asyncio loop as the event the engine waits for:
    the engine must stop, not take the event and wait on forever."""

    async def scenario() -> bool:
        engine = make_engine(tmp_path)
        engine.scheduler.next_timer_delay = lambda: 60.0  # type: ignore[method-assign]
        running = asyncio.create_task(engine.run())
        for _ in range(5):
            await asyncio.sleep(0)  # it waits for its next event now
        reply: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        engine.submit(Command("set_paused", {"dag_id": "nope", "paused": True}, reply))
        asyncio.get_running_loop().call_soon(running.cancel)
        await asyncio.wait({running}, timeout=10)
        stopped = running.done() and running.cancelled()
        running.cancel()
        engine.store.db.close()
        return stopped

    assert asyncio.run(scenario())
