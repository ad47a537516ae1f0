"""The task runtime channel on the worker's side: framing, the per-attempt socket, the requests
kept across a reconnect, and the task-side `ti.xcom_pull` shapes built on it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.worker.test_agent import WELCOME, Scripted, until, with_agent
from tradewind import wire
from tradewind.exceptions import SerializationError
from tradewind.runtime import HEADER, RuntimeTaskInstance, TaskChannel, TaskRequestFailed, _read_frame, frame
from tradewind.v1 import common_pb2, worker_pb2
from worker.agent import Agent
from worker.channel import Channel, Requests, channel_path
from worker.session import key_of

ATTEMPT = common_pb2.Attempt(task_instance_id=3, try_number=1, attempt_token="ab")
OTHER = common_pb2.Attempt(task_instance_id=4, try_number=1, attempt_token="cd")
XComs = dict[tuple[str, int, str], Any]


def pushed(key: str, value: Any) -> worker_pb2.TaskRequest:
    return worker_pb2.TaskRequest(xcom_push=worker_pb2.XComPush(key=key, value_json=json.dumps(value)))


def test_a_frame_is_a_big_endian_length_then_the_message_and_reads_back_whole() -> None:
    request = pushed("k", {"a": [1, 2]})
    data = frame(request)
    assert HEADER.unpack(data[:4]) == (len(request.SerializeToString()),)
    left, right = socket.socketpair()
    with left, right:
        left.sendall(data[:3])
        left.sendall(data[3:] + frame(pushed("second", 2)))
        assert worker_pb2.TaskRequest.FromString(_read_frame(right)) == request
        assert worker_pb2.TaskRequest.FromString(_read_frame(right)).xcom_push.key == "second"
        left.sendall(HEADER.pack(wire.MAX_MESSAGE_BYTES + 1))
        with pytest.raises(OSError, match="the limit is 16,777,216"):
            _read_frame(right)


def test_a_message_over_the_wire_limit_is_never_framed() -> None:
    with pytest.raises(SerializationError, match="over the limit of 16,777,216"):
        frame(worker_pb2.TaskRequest(xcom_push=worker_pb2.XComPush(value_json="x" * wire.MAX_MESSAGE_BYTES)))


class Coordinator:
    """Answers what a Requests sends, as the coordinator would, from a dict of XComs."""

    def __init__(self, xcoms: XComs) -> None:
        self.xcoms = xcoms
        self.sent: list[worker_pb2.WorkerMessage] = []
        self.requests: Requests | None = None

    def send(self, message: worker_pb2.WorkerMessage) -> None:
        self.sent.append(message)
        assert self.requests is not None
        request = message.task_request
        response = worker_pb2.TaskResponse(request_id=request.request_id)
        if request.WhichOneof("request") == "xcom_push":
            self.xcoms[("mine", -1, request.xcom_push.key)] = json.loads(request.xcom_push.value_json)
            response.xcom_push.SetInParent()
        else:
            pull = request.xcom_pull
            response.xcom_pull.SetInParent()
            for task_id in pull.task_ids:
                for (tid, index, key), value in sorted(self.xcoms.items(), key=lambda item: item[0][1]):
                    if (tid, key) == (task_id, pull.key) and (not pull.map_indexes or index in pull.map_indexes):
                        response.xcom_pull.values.add(task_id=tid, map_index=index, value_json=json.dumps(value))
        asyncio.get_running_loop().call_soon(self.requests.answered, response)


async def in_task(tmp_path: Path, xcoms: XComs, body: Callable[[RuntimeTaskInstance], Any]) -> tuple[Any, Coordinator]:
    """Run `body` as a task process would (blocking, on a thread) against a real Channel."""
    coordinator = Coordinator(xcoms)
    coordinator.requests = Requests(coordinator.send)
    path = channel_path(tmp_path)
    async with Channel(ATTEMPT, path, coordinator.requests):
        channel = TaskChannel(str(path))
        ti = RuntimeTaskInstance("d", "mine", "r", 1, -1, channel)
        try:
            return await asyncio.to_thread(body, ti), coordinator
        finally:
            channel.close()


def test_a_tasks_push_goes_out_with_its_attempt_and_a_worker_wide_request_id(tmp_path: Path) -> None:
    def body(ti: RuntimeTaskInstance) -> Any:
        ti.xcom_push("city", "Lisbon")
        ti.xcom_push("temps", [18, 21.5])
        return ti.xcom_pull(key="temps")

    result, coordinator = asyncio.run(in_task(tmp_path, {}, body))
    assert result == [18, 21.5]
    sent = [m.task_request for m in coordinator.sent]
    assert [(r.request_id, r.attempt) for r in sent] == [(1, ATTEMPT), (2, ATTEMPT), (3, ATTEMPT)]
    assert coordinator.xcoms == {("mine", -1, "city"): "Lisbon", ("mine", -1, "temps"): [18, 21.5]}
    assert not channel_path(tmp_path).exists()


def test_xcom_pull_answers_in_airflows_shapes(tmp_path: Path) -> None:
    xcoms = {
        ("up", -1, "return_value"): {"n": 1},
        ("up", -1, "k"): "v",
        ("mapped", 0, "return_value"): "m0",
        ("mapped", 1, "return_value"): "m1",
        ("single_instance", 0, "return_value"): "s0",
    }

    def body(ti: RuntimeTaskInstance) -> dict[str, Any]:
        return {
            "single": ti.xcom_pull(task_ids="up"),
            "listed": ti.xcom_pull(task_ids=["up"], key="k"),
            "missing": ti.xcom_pull(task_ids="up", key="nothing"),
            "missing_default": ti.xcom_pull(task_ids="up", key="nothing", default=5),
            "listed_with_missing": ti.xcom_pull(task_ids=["up", "gone"], key="k"),
            "all_mapped": ti.xcom_pull(task_ids="mapped"),
            "one_mapped": ti.xcom_pull(task_ids="mapped", map_indexes=1),
            "some_mapped": ti.xcom_pull(task_ids="mapped", map_indexes=[1, 7]),
            "mapped_into_one": ti.xcom_pull(task_ids="single_instance"),
            "none_asked": ti.xcom_pull(task_ids=[]),
        }

    result, _ = asyncio.run(in_task(tmp_path, xcoms, body))
    assert result == {
        "single": {"n": 1},
        "listed": ["v"],
        "missing": None,
        "missing_default": 5,
        "listed_with_missing": ["v", None],
        "all_mapped": ["m0", "m1"],
        "one_mapped": "m1",
        "some_mapped": ["m1", None],
        "mapped_into_one": ["s0"],
        "none_asked": [],
    }


def test_pushed_values_are_pulled_back_as_the_types_pushed(tmp_path: Path) -> None:
    values = {
        "when": datetime(2026, 11, 25, 20, 0, tzinfo=UTC),
        "ids": {1, 2},
        "pair": (1, "a"),
        "cost": Decimal("1.10"),
    }

    def body(ti: RuntimeTaskInstance) -> dict[str, Any]:
        for key, value in values.items():
            ti.xcom_push(key, value)
        return {key: ti.xcom_pull(key=key) for key in values}

    assert asyncio.run(in_task(tmp_path, {}, body))[0] == values


def test_a_value_that_cannot_be_stored_fails_in_the_task_and_is_never_sent(tmp_path: Path) -> None:
    def body(ti: RuntimeTaskInstance) -> list[str]:
        errors = []
        for value in (object(), "x" * wire.MAX_RETURN_VALUE_BYTES):
            with pytest.raises(SerializationError) as caught:
                ti.xcom_push("k", value)
            errors.append(str(caught.value))
        return errors

    errors, coordinator = asyncio.run(in_task(tmp_path, {}, body))
    assert errors[0].startswith("task 'mine': XCom 'k' is a object, which cannot be stored")
    assert errors[1] == "task 'mine': XCom 'k' is 1.0 MB; the limit is 1 MB"
    assert coordinator.sent == []


def test_a_process_forked_by_a_task_asks_on_its_own_connection(tmp_path: Path) -> None:
    def socket_inode(channel: TaskChannel) -> int:
        assert channel._sock is not None
        return os.fstat(channel._sock.fileno()).st_ino

    def body(ti: RuntimeTaskInstance) -> Any:
        channel = ti._channel
        assert channel is not None
        ti.xcom_push("parent", 1)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                ti.xcom_push("child", 2)
                os.write(write, str(socket_inode(channel)).encode())
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        os.close(write)
        with os.fdopen(read) as pipe:
            child_inode = int(pipe.read())
        return child_inode != socket_inode(channel), ti.xcom_pull(key="child")

    result, _ = asyncio.run(in_task(tmp_path, {}, body))
    assert result == (True, 2)


def test_a_task_without_a_channel_is_told_why() -> None:
    ti = RuntimeTaskInstance("d", "t", "r", 1, -1, None)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("TRADEWIND_TASK_CHANNEL", raising=False)
        with pytest.raises(TaskRequestFailed, match="TRADEWIND_TASK_CHANNEL is not set") as caught:
            ti.xcom_push("k", 1)
    assert caught.value.code is wire.RequestError.UNAVAILABLE


def test_unanswered_requests_go_again_oldest_first_and_a_rejected_attempts_fail_as_not_current() -> None:
    async def scenario() -> tuple[list[int], worker_pb2.TaskResponse, worker_pb2.TaskResponse]:
        sent: list[worker_pb2.WorkerMessage] = []
        requests = Requests(sent.append)
        first = asyncio.create_task(requests.call(ATTEMPT, pushed("a", 1)))
        rejected = asyncio.create_task(requests.call(OTHER, pushed("b", 2)))
        third = asyncio.create_task(requests.call(ATTEMPT, pushed("c", 3)))
        await until(lambda: len(sent) == 3)
        requests.answered(worker_pb2.TaskResponse(request_id=3, xcom_push=worker_pb2.XComPushResult()))
        await third
        again = requests.unanswered([OTHER])
        ended = asyncio.create_task(requests.call(ATTEMPT, pushed("d", 4)))
        await until(lambda: len(sent) == 4)
        requests.end(key_of(ATTEMPT))
        return [m.task_request.request_id for m in again], await rejected, (await first, await ended)[1]

    again, rejected, ended = asyncio.run(scenario())
    assert again == [1]
    assert wire.request_error_from_pb(rejected.error.code) is wire.RequestError.NOT_CURRENT
    assert wire.request_error_from_pb(ended.error.code) is wire.RequestError.UNAVAILABLE


def test_a_request_unanswered_when_the_stream_drops_is_sent_again_after_the_next_welcome(tmp_path: Path) -> None:
    sessions: list[list[worker_pb2.WorkerMessage]] = []

    async def script(
        hello: worker_pb2.Hello, requests: AsyncIterator[worker_pb2.WorkerMessage], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[worker_pb2.CoordinatorMessage]:
        seen: list[worker_pb2.WorkerMessage] = []
        sessions.append(seen)
        yield WELCOME
        async for message in requests:
            if message.WhichOneof("body") == "heartbeat":
                yield worker_pb2.CoordinatorMessage(heartbeat_ack=worker_pb2.HeartbeatAck())
            if message.WhichOneof("body") != "task_request":
                continue
            seen.append(message)
            if len(sessions) == 1:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "going away before answering")
            answer = worker_pb2.TaskResponse(request_id=message.task_request.request_id)
            answer.xcom_push.SetInParent()
            yield worker_pb2.CoordinatorMessage(task_response=answer)

    async def body(servicer: Scripted, agent: Agent, running: asyncio.Task[None]) -> worker_pb2.TaskResponse:
        await until(lambda: sessions)
        return await asyncio.wait_for(agent.requests.call(ATTEMPT, pushed("k", 1)), 20)

    answer = asyncio.run(with_agent(tmp_path, script, body))
    assert answer.WhichOneof("result") == "xcom_push"
    assert [[m.task_request.request_id for m in seen] for seen in sessions] == [[1], [1]]
