"""The worker protocol as a worker in another language meets it: raw gRPC streams built from
worker.proto alone, against a real coordinator process."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.conftest import failed
from tests.harness import Cluster, assert_eventually, cluster_in, write_dag
from tests.integration.test_end_to_end import finished_run, trigger
from tests.pg import fresh_database
from tradewind import wire
from tradewind.v1 import common_pb2, worker_pb2, worker_pb2_grpc

FAN_OUT = """
from tradewind import DAG, BashOperator

with DAG(dag_id="fan_out", schedule=None):
    for n in range(6):
        BashOperator(task_id=f"echo_{n}", bash_command=f"echo {n}")
"""


def hello(name: str, instance_id: str, **fields: Any) -> worker_pb2.WorkerMessage:
    values = {
        "slots": 4,
        "kinds": [common_pb2.TASK_KIND_BASH],
        "host": "raw-host",
        "pid": 4242,
        "version": "0.1",
        "queues": ["raw"],
    }
    return worker_pb2.WorkerMessage(hello=worker_pb2.Hello(name=name, instance_id=instance_id, **{**values, **fields}))


def heartbeat() -> worker_pb2.WorkerMessage:
    return worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat(cpu_percent=1.0))


def run(scenario: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(scenario())


async def status(call: Any, timeout: float = 30) -> tuple[grpc.StatusCode, str]:
    """Read until the stream ends; its status code and details."""

    async def drain() -> tuple[grpc.StatusCode, str]:
        try:
            while await call.read() is not grpc.aio.EOF:
                pass
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
        return await call.code(), await call.details()

    return await asyncio.wait_for(drain(), timeout)


async def reply(call: Any, body: str, timeout: float = 30) -> Any:
    """The next message with this body, skipping others."""

    async def find() -> Any:
        while True:
            message = await call.read()
            assert message is not grpc.aio.EOF, f"the stream ended before a {body}"
            if message.WhichOneof("body") == body:
                return getattr(message, body)

    return await asyncio.wait_for(find(), timeout)


def active(cluster: Cluster, prefix: str) -> list[str]:
    with cluster.client() as client:
        workers = client.list_workers().workers
    return [w.name for w in workers if w.name.startswith(prefix) and w.state == "active"]


def test_a_hello_breaking_a_rule_is_refused_naming_the_field_and_a_silent_stream_times_out(cluster: Cluster) -> None:
    cluster.coordinator()

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(cluster.address) as channel:
            stub = worker_pb2_grpc.WorkerServiceStub(channel)
            bad = stub.Connect()
            await bad.write(hello("raw", "r-1", host="raw\x00host"))
            code, details = await status(bad)
            assert code is grpc.StatusCode.INVALID_ARGUMENT and "hello.host" in details
            late = stub.Connect()
            await late.write(heartbeat())
            code, details = await status(late)
            assert code is grpc.StatusCode.INVALID_ARGUMENT and "must be hello, not heartbeat" in details
            silent = stub.Connect()
            started = time.monotonic()
            code, details = await status(silent, timeout=wire.HELLO_TIMEOUT_SECONDS + 20)
            assert code is grpc.StatusCode.DEADLINE_EXCEEDED, details
            assert time.monotonic() - started >= wire.HELLO_TIMEOUT_SECONDS - 1

    run(scenario)


def test_heartbeats_are_answered_and_welcome_states_the_limits(cluster: Cluster) -> None:
    cluster.coordinator()

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(cluster.address) as channel:
            call = worker_pb2_grpc.WorkerServiceStub(channel).Connect()
            await call.write(hello("raw", "r-1"))
            welcome = await reply(call, "welcome")
            assert welcome.limits.max_message_bytes == wire.MAX_MESSAGE_BYTES
            assert welcome.limits.max_return_value_bytes == wire.MAX_RETURN_VALUE_BYTES
            assert welcome.ack_timeout_ms > 0 and welcome.kill_grace_period_ms == wire.KILL_GRACE_SECONDS * 1000
            for _ in range(3):
                await call.write(heartbeat())
                assert (await reply(call, "heartbeat_ack")).server_time.seconds > 0
            call.cancel()

    run(scenario)


def test_a_live_name_is_refused_to_another_instance_and_given_back_on_its_reconnect(cluster: Cluster) -> None:
    cluster.coordinator()

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(cluster.address) as channel:
            stub = worker_pb2_grpc.WorkerServiceStub(channel)
            first = stub.Connect()
            await first.write(hello("twin", "instance-a"))
            await reply(first, "welcome")
            other = stub.Connect()
            await other.write(hello("twin", "instance-b", host="elsewhere"))
            code, details = await status(other)
            assert code is grpc.StatusCode.ALREADY_EXISTS, details
            assert "worker name 'twin' is in use by a live worker on host raw-host (pid 4242)" in details
            again = stub.Connect()
            await again.write(hello("twin", "instance-a"))
            await reply(again, "welcome")
            code, details = await status(first)
            assert code is grpc.StatusCode.UNAVAILABLE, details
            await again.write(heartbeat())
            await reply(again, "heartbeat_ack")
            assert active(cluster, "twin") == ["twin"]
            again.cancel()

    run(scenario)


def test_two_hundred_streams_that_say_hello_and_vanish_leave_no_ghost_and_runs_succeed(cluster: Cluster) -> None:
    write_dag(cluster.dags, "fan_out.py", FAN_OUT)
    # Far longer than the deadlines below: a ghost must go because its stream did, not because it fell silent.
    cluster.coordinator(heartbeat_timeout=60)

    async def vanish(stub: worker_pb2_grpc.WorkerServiceStub, n: int) -> None:
        call = stub.Connect()
        await call.write(hello(f"ghost-{n}", f"g-{n}", queues=[]))
        if n % 2:
            await reply(call, "welcome")
        call.cancel()

    async def scenario() -> None:
        channels = [grpc.aio.insecure_channel(cluster.address) for _ in range(4)]
        stubs = [worker_pb2_grpc.WorkerServiceStub(c) for c in channels]
        await asyncio.gather(*(vanish(stubs[n % 4], n) for n in range(200)))
        for channel in channels:
            await channel.close()

    run(scenario)
    assert_eventually(lambda: not active(cluster, "ghost-"), 5, "no ghost worker to stay active")
    cluster.worker("real")
    run_id = trigger(cluster, "fan_out")
    assert finished_run(cluster, "fan_out", run_id, timeout=30)["state"] == "success"


def test_an_oversized_message_closes_only_its_own_stream(cluster: Cluster) -> None:
    write_dag(cluster.dags, "fan_out.py", FAN_OUT)
    cluster.coordinator()
    cluster.worker("real")

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(cluster.address) as channel:
            stub = worker_pb2_grpc.WorkerServiceStub(channel)
            bystander = stub.Connect()
            await bystander.write(hello("bystander", "b-1"))
            await reply(bystander, "welcome")
            sender = stub.Connect()
            await sender.write(hello("sender", "s-1"))
            await reply(sender, "welcome")
            huge = worker_pb2.TaskFinished(
                attempt=common_pb2.Attempt(task_instance_id=1, try_number=1, attempt_token="t"),
                outcome=worker_pb2.TASK_OUTCOME_SUCCESS,
                return_value_json='"' + "x" * (20 * wire.MiB) + '"',
            )
            await sender.write(worker_pb2.WorkerMessage(finished=huge))
            code, details = await status(sender)
            assert code is grpc.StatusCode.RESOURCE_EXHAUSTED, details
            await bystander.write(heartbeat())
            await reply(bystander, "heartbeat_ack")
            bystander.cancel()

    run(scenario)
    run_id = trigger(cluster, "fan_out")
    assert finished_run(cluster, "fan_out", run_id)["state"] == "success"


def test_a_stream_cannot_log_into_or_settle_another_workers_attempt(cluster: Cluster) -> None:
    marker = cluster.home / "started"
    write_dag(
        cluster.dags,
        "held.py",
        f"""
from tradewind import DAG, BashOperator

with DAG(dag_id="held", schedule=None):
    BashOperator(task_id="slow", bash_command="touch {marker}; sleep 3; echo real output")
""",
    )
    cluster.coordinator()
    cluster.worker("real")
    run_id = trigger(cluster, "held")
    assert_eventually(marker.exists, 30, "the task to start on the real worker")
    with sqlite3.connect(cluster.db_url.removeprefix("sqlite:///")) as db:
        ti_id, try_number, token = db.execute(
            "SELECT task_instance_id, try_number, attempt_token FROM task_attempt"
        ).fetchone()
    theirs = common_pb2.Attempt(task_instance_id=ti_id, try_number=try_number, attempt_token=token)

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(cluster.address) as channel:
            intruder = worker_pb2_grpc.WorkerServiceStub(channel).Connect()
            await intruder.write(hello("intruder", "x-1"))
            await reply(intruder, "welcome")
            await intruder.write(worker_pb2.WorkerMessage(log=worker_pb2.LogChunk(attempt=theirs, data=b"FORGED\n")))
            forged = worker_pb2.TaskFinished(attempt=theirs, outcome=worker_pb2.TASK_OUTCOME_FAILED, error="forged")
            await intruder.write(worker_pb2.WorkerMessage(finished=forged))
            await intruder.write(heartbeat())
            await reply(intruder, "heartbeat_ack")
            intruder.cancel()

    run(scenario)
    assert finished_run(cluster, "held", run_id)["state"] == "success"
    log = cluster.cli("tasks", "logs", "held", run_id, "slow").stdout
    assert "real output" in log and "FORGED" not in log
    detail = json.loads(cluster.cli("tasks", "show", "held", run_id, "slow", "--json").stdout)
    assert [a["error"] for a in detail["attempts"]] == [""]


def test_a_worker_silent_past_the_heartbeat_timeout_has_its_stream_closed_and_may_rejoin(cluster: Cluster) -> None:
    cluster.coordinator(heartbeat_timeout=2)

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(cluster.address) as channel:
            stub = worker_pb2_grpc.WorkerServiceStub(channel)
            frozen = stub.Connect()
            await frozen.write(hello("frozen", "f-1"))
            await reply(frozen, "welcome")
            started = time.monotonic()
            code, details = await status(frozen, timeout=20)
            assert code is grpc.StatusCode.UNAVAILABLE, details
            assert "worker 'frozen' was lost: no heartbeat for" in details
            assert time.monotonic() - started >= 1.5
            back = stub.Connect()
            await back.write(hello("frozen", "f-1"))
            await reply(back, "welcome")
            await back.write(heartbeat())
            await reply(back, "heartbeat_ack")
            assert active(cluster, "frozen") == ["frozen"]
            back.cancel()

    run(scenario)


@pytest.fixture
def pg_cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    with fresh_database() as url:
        yield from cluster_in(tmp_path, lambda: failed(request), db_url=url)


@pytest.mark.postgres
def test_hello_strings_postgresql_cannot_store_are_refused_and_scheduling_goes_on(pg_cluster: Cluster) -> None:
    cluster = pg_cluster
    write_dag(cluster.dags, "fan_out.py", FAN_OUT)
    cluster.coordinator()

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(cluster.address) as channel:
            stub = worker_pb2_grpc.WorkerServiceStub(channel)
            for fields, field in [
                ({"host": "h" * 300}, "hello.host"),
                ({"host": "h\x00"}, "hello.host"),
                ({"version": "1\x00"}, "hello.version"),
                ({"labels": {"team": "a\x00b"}}, "hello.labels"),
            ]:
                call = stub.Connect()
                await call.write(hello("strings", "s-1", **fields))
                code, details = await status(call)
                assert code is grpc.StatusCode.INVALID_ARGUMENT and field in details, details

    run(scenario)
    cluster.worker("real")
    run_id = trigger(cluster, "fan_out")
    assert finished_run(cluster, "fan_out", run_id)["state"] == "success"


def test_a_second_worker_process_with_a_live_name_exits_naming_the_holder(cluster: Cluster) -> None:
    write_dag(cluster.dags, "fan_out.py", FAN_OUT)
    cluster.coordinator()
    first = cluster.worker("w1")
    assert_eventually(lambda: active(cluster, "w1") == ["w1"], 30, "the first w1 to join")
    second = cluster._spawn(
        "worker-w1-again",
        ["-m", "worker", "join", "--host", cluster.address, "--name", "w1", "--home", str(cluster.home / "w1-again")],
    )
    assert second.popen.wait(timeout=60) != 0
    assert "worker name 'w1' is in use by a live worker on host" in second.output()
    assert f"(pid {first.pid})" in second.output()
    run_id = trigger(cluster, "fan_out")
    assert finished_run(cluster, "fan_out", run_id)["state"] == "success"
    assert first.popen.poll() is None
