"""Task requests (worker.proto TaskRequest) through the stream handler and a real engine loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from coordinator.dagspec import DagSpec
from coordinator.events import Command
from coordinator.metastore import models as m
from tests.coordinator.conftest import dag, task
from tests.coordinator.test_worker_service import (
    RecordingEngine,
    Stream,
    coordinator,
    eventually,
    hello,
    joined,
    run,
)
from tradewind import wire
from tradewind.v1 import common_pb2, worker_pb2

RequestError = wire.RequestError


async def started(engine: RecordingEngine, stream: Stream, retries: int = 0) -> common_pb2.Attempt:
    """Trigger a run of DAG d (a >> b) and start `a` on the stream's worker; its attempt."""
    tasks = [task("a", retries=retries), task("b", ["a"])]
    engine.scheduler.register_dag(DagSpec.build(1, dag("d", tasks), "0" * 64), False, None)
    triggered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    engine.submit(Command("trigger", {"dag_id": "d", "conf": {}, "run_id": "r", "logical_date": None}, triggered))
    await triggered
    return await start(stream)


async def start(stream: Stream) -> common_pb2.Attempt:
    """Acknowledge and start the next assignment on the stream; its attempt."""
    assignment = await stream.receive("assignment")
    attempt = assignment.attempt
    stream.send(worker_pb2.WorkerMessage(ack=worker_pb2.AssignmentAck(attempt=attempt, accepted=True)))
    stream.send(worker_pb2.WorkerMessage(started=worker_pb2.TaskStarted(attempt=attempt, pid=1)))
    return attempt


async def ask(stream: Stream, request_id: int, attempt: common_pb2.Attempt | None, **body: Any) -> Any:
    request = worker_pb2.TaskRequest(request_id=request_id, **body)
    if attempt is not None:
        request.attempt.CopyFrom(attempt)
    stream.send(worker_pb2.WorkerMessage(task_request=request))
    response = await stream.receive("task_response")
    assert response.request_id == request_id
    return response


def push(key: str, value_json: str) -> dict[str, Any]:
    return {"xcom_push": worker_pb2.XComPush(key=key, value_json=value_json)}


def pull(*task_ids: str, key: str = "return_value", **fields: Any) -> dict[str, Any]:
    return {"xcom_pull": worker_pb2.XComPull(task_ids=task_ids, key=key, **fields)}


def code(response: Any) -> RequestError:
    assert response.WhichOneof("result") == "error", response
    return wire.request_error_from_pb(response.error.code)


def test_a_push_is_committed_before_its_answer_and_pulls_see_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            attempt = await started(engine, stream)
            answer = await ask(stream, 1, attempt, **push("city", '"Lisbon"'))
            assert answer.WhichOneof("result") == "xcom_push"
            rows = list(m.XCom.select().where(m.XCom.key == "city"))
            assert [(row.task_id, row.value) for row in rows] == [("a", '"Lisbon"')]
            await ask(stream, 2, attempt, **push("city", '"Porto"'))
            pulled = await ask(stream, 3, attempt, **pull("a", "b", "nope", key="city"))
            assert [(v.task_id, v.map_index, v.value_json) for v in pulled.xcom_pull.values] == [("a", -1, '"Porto"')]
            missing = await ask(stream, 4, attempt, **pull("a", key="other"))
            assert missing.WhichOneof("result") == "xcom_pull" and not missing.xcom_pull.values
            mapped = await ask(stream, 5, attempt, **pull("a", key="city", map_indexes=[0, 1]))
            assert not mapped.xcom_pull.values

    run(scenario)


def test_requests_breaking_a_rule_are_answered_with_an_error_and_the_stream_lives_on(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            attempt = await started(engine, stream)
            cases: list[tuple[int, common_pb2.Attempt | None, dict[str, Any], RequestError, str]] = [
                (0, attempt, push("k", "1"), RequestError.INVALID_ARGUMENT, "request_id must be > 0"),
                (1, None, push("k", "1"), RequestError.INVALID_ARGUMENT, "attempt needs task_instance_id > 0"),
                (2, attempt, push("", "1"), RequestError.INVALID_ARGUMENT, "xcom_push.key must be 1 to 250"),
                (3, attempt, push("k\x00", "1"), RequestError.INVALID_ARGUMENT, "without NUL"),
                (4, attempt, push("k", "NaN"), RequestError.INVALID_ARGUMENT, "is not a JSON value"),
                (5, attempt, push("k", "[" * 101 + "]" * 101), RequestError.INVALID_ARGUMENT, "nested 101 levels"),
                (
                    6,
                    attempt,
                    push("k", '"' + "x" * wire.MAX_RETURN_VALUE_BYTES + '"'),
                    RequestError.INVALID_ARGUMENT,
                    "the limit is 1 MB",
                ),
                (7, attempt, pull(), RequestError.INVALID_ARGUMENT, "must name 1 to 1000 tasks, not 0"),
                (8, attempt, pull("a b"), RequestError.INVALID_ARGUMENT, "'a b' is not a task id"),
                (9, attempt, pull("a", map_indexes=[-2]), RequestError.INVALID_ARGUMENT, "-1 or more, not -2"),
                (10, attempt, pull("a", dag_id="other"), RequestError.INVALID_ARGUMENT, "run_id is required"),
                (11, attempt, pull("a", run_id="gone"), RequestError.NOT_FOUND, "DAG 'd' has no run 'gone'"),
                (12, attempt, {}, RequestError.UNIMPLEMENTED, "a request this coordinator does not know"),
            ]
            for request_id, who, body, expected, text in cases:
                answer = await ask(stream, request_id, who, **body)
                assert (code(answer), text in answer.error.message) == (expected, True), answer.error.message
            stream.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
            await stream.receive("heartbeat_ack")
            assert not stream.task.done()
            assert not list(m.XCom.select())

    run(scenario)


def test_a_request_from_a_stale_attempt_or_another_session_is_not_current(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            attempt = await started(engine, stream)
            other, _ = await joined(service, hello(name="w2", instance_id="i-2"))
            assert code(await ask(other, 1, attempt, **push("k", "1"))) is RequestError.NOT_CURRENT
            stale = common_pb2.Attempt()
            stale.CopyFrom(attempt)
            stale.attempt_token = "0" * 32
            assert code(await ask(stream, 2, stale, **push("k", "1"))) is RequestError.NOT_CURRENT
            finished = worker_pb2.TaskFinished(attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_SUCCESS)
            stream.send(worker_pb2.WorkerMessage(finished=finished))
            await stream.receive("result_ack")
            answer = await ask(stream, 3, attempt, **push("k", "1"))
            assert code(answer) is RequestError.NOT_CURRENT and "is not current on worker 'w1'" in answer.error.message
            assert not list(m.XCom.select().where(m.XCom.key == "k"))

    run(scenario)


def test_clearing_a_task_forgets_every_xcom_it_pushed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            attempt = await started(engine, stream)
            await ask(stream, 1, attempt, **push("city", '"Lisbon"'))
            finished = worker_pb2.TaskFinished(
                attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_SUCCESS, return_value_json="7"
            )
            stream.send(worker_pb2.WorkerMessage(finished=finished))
            await stream.receive("result_ack")
            run_ = engine.scheduler.run_for("d", "r")
            assert run_ is not None and set(run_.xcoms) == {("a", -1, "city"), ("a", -1, "return_value")}
            cleared: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            args = {"dag_id": "d", "run_id": "r", "task_ids": ["a"], "include_downstream": False}
            engine.submit(Command("clear", args, cleared))
            await cleared
            assert run_.xcoms == {}
            assert not list(m.XCom.select())

    run(scenario)


def test_a_retry_starts_with_none_of_the_xcoms_its_try_before_pushed(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            first = await started(engine, stream, retries=1)
            await ask(stream, 1, first, **push("city", '"Lisbon"'))
            assert [row.key for row in m.XCom.select()] == ["city"]
            failed = worker_pb2.TaskFinished(attempt=first, outcome=worker_pb2.TASK_OUTCOME_FAILED, error="boom")
            stream.send(worker_pb2.WorkerMessage(finished=failed))
            second = await start(stream)
            assert (second.try_number, second.attempt_token != first.attempt_token) == (2, True)
            run_ = engine.scheduler.run_for("d", "r")
            assert run_ is not None and run_.xcoms == {}
            assert not list(m.XCom.select())
            missing = await ask(stream, 2, second, **pull("a", key="city"))
            assert not missing.xcom_pull.values

    run(scenario)


def test_a_pull_from_a_finished_run_is_answered_from_the_metastore(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            first = await started(engine, stream)
            await ask(stream, 1, first, **push("city", '"Lisbon"'))
            await finish(stream, first)
            await finish(stream, await start(stream))
            await eventually(lambda: engine.scheduler.run_for("d", "r") is None, message="run r to finish")
            triggered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            args = {"dag_id": "d", "conf": {}, "run_id": "r2", "logical_date": None}
            engine.submit(Command("trigger", args, triggered))
            await triggered
            later = await start(stream)
            answer = await ask(stream, 2, later, **pull("a", "b", key="city", run_id="r"))
            assert [(v.task_id, v.value_json) for v in answer.xcom_pull.values] == [("a", '"Lisbon"')]
            own = await ask(stream, 3, later, **pull("a", key="city"))
            assert not own.xcom_pull.values

    run(scenario)


async def finish(stream: Stream, attempt: common_pb2.Attempt) -> None:
    finished = worker_pb2.TaskFinished(attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_SUCCESS)
    stream.send(worker_pb2.WorkerMessage(finished=finished))
    await stream.receive("result_ack")
