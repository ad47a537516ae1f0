"""The agent against a scripted coordinator on loopback: what it sends, when it reconnects, when it gives up."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from tradewind.config import Settings
from tradewind.v1 import common_pb2, payload_pb2, worker_pb2, worker_pb2_grpc
from worker.agent import Agent, WorkerRefused

Script = Callable[
    [worker_pb2.Hello, AsyncIterator[worker_pb2.WorkerMessage], grpc.aio.ServicerContext],
    AsyncIterator[worker_pb2.CoordinatorMessage],
]
WELCOME = worker_pb2.CoordinatorMessage(
    welcome=worker_pb2.Welcome(heartbeat_interval_ms=100, heartbeat_timeout_ms=600, limits=worker_pb2.Limits())
)


class Scripted(worker_pb2_grpc.WorkerServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script
        self.hellos: list[worker_pb2.Hello] = []
        self.received: list[worker_pb2.WorkerMessage] = []

    async def Connect(
        self, request_iterator: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
        first = await anext(aiter(request_iterator))
        self.hellos.append(first.hello)

        async def rest() -> AsyncIterator[worker_pb2.WorkerMessage]:
            async for message in request_iterator:
                self.received.append(message)
                yield message

        async for reply in self.script(first.hello, rest(), context):
            yield reply


async def with_agent(
    tmp_path: Path,
    script: Script,
    body: Callable[[Scripted, Agent, asyncio.Task[None]], Awaitable[Any]],
    grace: float = 5.0,
) -> Any:
    servicer = Scripted(script)
    server = grpc.aio.server()
    worker_pb2_grpc.add_WorkerServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    agent = Agent(Settings(host=f"127.0.0.1:{port}", worker_name="w1", home=tmp_path), grace=grace)
    running = asyncio.create_task(agent.run())
    try:
        return await body(servicer, agent, running)
    finally:
        agent._stop_now()
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 20)
        await server.stop(0)


async def until(condition: Callable[[], Any], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def silent(
    hello: worker_pb2.Hello, requests: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
    yield WELCOME
    async for _ in requests:
        pass


async def answering(
    hello: worker_pb2.Hello, requests: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
    yield WELCOME
    async for message in requests:
        if message.WhichOneof("body") == "heartbeat":
            yield worker_pb2.CoordinatorMessage(heartbeat_ack=worker_pb2.HeartbeatAck())


def test_a_worker_that_hears_nothing_for_the_heartbeat_timeout_reconnects_as_the_same_instance(
    tmp_path: Path,
) -> None:
    async def body(servicer: Scripted, agent: Agent, running: asyncio.Task[None]) -> list[worker_pb2.Hello]:
        await until(lambda: len(servicer.hellos) >= 2)
        return servicer.hellos

    hellos = asyncio.run(with_agent(tmp_path, silent, body))
    assert hellos[0].instance_id == hellos[1].instance_id
    assert re.fullmatch(r"[A-Za-z0-9-]{1,64}", hellos[0].instance_id)


def test_a_worker_whose_heartbeats_are_answered_stays_on_its_stream(tmp_path: Path) -> None:
    async def body(servicer: Scripted, agent: Agent, running: asyncio.Task[None]) -> int:
        await until(lambda: sum(m.WhichOneof("body") == "heartbeat" for m in servicer.received) >= 15)
        return len(servicer.hellos)

    assert asyncio.run(with_agent(tmp_path, answering, body)) == 1


@pytest.mark.parametrize("code", [grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.INVALID_ARGUMENT])
def test_a_permanent_status_ends_the_worker_with_its_message(tmp_path: Path, code: grpc.StatusCode) -> None:
    async def refuse(
        hello: worker_pb2.Hello, requests: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
        await context.abort(code, "worker 'w1' is connected from another process\nsecond line")
        yield WELCOME

    async def body(servicer: Scripted, agent: Agent, running: asyncio.Task[None]) -> BaseException | None:
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 10)
        return running.exception()

    error = asyncio.run(with_agent(tmp_path, refuse, body))
    assert isinstance(error, WorkerRefused)
    assert str(error).endswith("refused worker 'w1': worker 'w1' is connected from another process second line")


def test_a_transient_status_is_retried(tmp_path: Path) -> None:
    async def flaky(
        hello: worker_pb2.Hello, requests: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
        await context.abort(grpc.StatusCode.UNAVAILABLE, "starting")
        yield WELCOME

    async def body(servicer: Scripted, agent: Agent, running: asyncio.Task[None]) -> bool:
        await until(lambda: len(servicer.hellos) >= 4)
        return running.done()

    assert asyncio.run(with_agent(tmp_path, flaky, body)) is False


def assignment(n: int, command: str = "sleep 30") -> worker_pb2.CoordinatorMessage:
    return worker_pb2.CoordinatorMessage(
        assignment=worker_pb2.Assignment(
            attempt=common_pb2.Attempt(task_instance_id=n, try_number=1, attempt_token=f"t{n}"),
            payload=payload_pb2.TaskPayload(bash=payload_pb2.BashPayload(bash_command=command)),
        )
    )


def test_on_shutdown_a_task_outliving_the_grace_is_stopped_and_reported_lost(tmp_path: Path) -> None:
    async def assign_and_ack(
        hello: worker_pb2.Hello, requests: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
        yield WELCOME
        yield assignment(1, "echo started; exec sleep 30")
        async for message in requests:
            if message.WhichOneof("body") == "heartbeat":
                yield worker_pb2.CoordinatorMessage(heartbeat_ack=worker_pb2.HeartbeatAck())
            elif message.WhichOneof("body") == "finished":
                yield worker_pb2.CoordinatorMessage(result_ack=worker_pb2.ResultAck(attempt=message.finished.attempt))

    async def body(servicer: Scripted, agent: Agent, running: asyncio.Task[None]) -> list[worker_pb2.WorkerMessage]:
        await until(lambda: any(m.log.data.startswith(b"started") for m in servicer.received))
        agent.drain("signal")
        await asyncio.wait_for(running, 20)  # the agent ends by itself once its result is acknowledged
        return [m for m in servicer.received if m.WhichOneof("body") in ("draining", "finished")]

    draining, finished = asyncio.run(with_agent(tmp_path, assign_and_ack, body, grace=0.3))
    assert draining.draining.reason == "signal"
    assert (finished.finished.outcome, finished.finished.exit_code, finished.finished.error) == (
        worker_pb2.TASK_OUTCOME_LOST,
        -signal.SIGTERM,
        "worker shut down before the task finished",
    )


def test_a_draining_worker_says_so_and_refuses_work_with_the_draining_reason(tmp_path: Path) -> None:
    async def drain_then_assign(
        hello: worker_pb2.Hello, requests: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
        yield WELCOME
        yield assignment(1)
        yield worker_pb2.CoordinatorMessage(drain=worker_pb2.Drain(reason="maintenance"))
        yield assignment(2)
        async for message in requests:
            if message.WhichOneof("body") == "heartbeat":
                yield worker_pb2.CoordinatorMessage(heartbeat_ack=worker_pb2.HeartbeatAck())

    async def body(servicer: Scripted, agent: Agent, running: asyncio.Task[None]) -> list[worker_pb2.WorkerMessage]:
        await until(lambda: sum(m.WhichOneof("body") == "ack" for m in servicer.received) == 2)
        return [m for m in servicer.received if m.WhichOneof("body") in ("ack", "draining")]

    taken, draining, refused = asyncio.run(with_agent(tmp_path, drain_then_assign, body))
    assert taken.ack.accepted
    assert draining.draining.reason == "maintenance"
    assert (refused.ack.accepted, refused.ack.refusal, refused.ack.reason) == (
        False,
        worker_pb2.REFUSAL_REASON_DRAINING,
        "draining",
    )
