"""The worker stream handler against a real engine loop on a temporary SQLite metastore."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from coordinator import server
from coordinator.clock import FakeClock
from coordinator.dagspec import DagSpec
from coordinator.engine import Engine
from coordinator.events import Acked, Command, Finished, WorkerDraining, WorkerJoined, WorkerLeft
from coordinator.metastore.db import connect
from coordinator.metastore.store import Store
from coordinator.worker_messages import session_from_hello
from coordinator.worker_service import MAX_BACKLOG, WorkerService
from tests.coordinator.conftest import dag, task
from tests.coordinator.engine_kit import make_engine
from tests.harness import Deadline
from tradewind import wire
from tradewind.exceptions import ApiError, InvalidArgument
from tradewind.states import TaskState
from tradewind.v1 import common_pb2, worker_pb2

BASH = common_pb2.TASK_KIND_BASH


class CountingStore(Store):
    commits = 0

    def commit(self, changes):  # type: ignore[no-untyped-def]
        self.commits += 1
        return super().commit(changes)


class RecordingEngine(Engine):
    """The real engine, keeping a copy of every event a stream submits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[Any] = []

    def submit(self, event: Any) -> None:
        self.seen.append(event)
        super().submit(event)


def hello(**fields: Any) -> worker_pb2.WorkerMessage:
    values = {"name": "w1", "instance_id": "i-1", "slots": 2, "kinds": [BASH], "host": "h", "pid": 7, "version": "1"}
    return worker_pb2.WorkerMessage(hello=worker_pb2.Hello(**{**values, **fields}))


def attempt(ti_id: int = 1, token: str = "t") -> common_pb2.Attempt:
    return common_pb2.Attempt(task_instance_id=ti_id, try_number=1, attempt_token=token)


async def eventually(condition: Callable[[], Any], timeout: float = 10.0, message: str = "") -> Any:
    deadline = Deadline(condition, timeout, message)
    while (value := deadline.poll()) is None:
        await asyncio.sleep(0.01)
    return value


class Stream:
    """One Connect call in-process: what the worker sends in, what the handler yields out."""

    def __init__(self, service: WorkerService) -> None:
        self.inbound: asyncio.Queue[worker_pb2.WorkerMessage | None] = asyncio.Queue()
        self.received: asyncio.Queue[worker_pb2.CoordinatorMessage] = asyncio.Queue()
        self.task: asyncio.Task[ApiError | None] = asyncio.create_task(self._run(service))

    async def _requests(self) -> AsyncIterator[worker_pb2.WorkerMessage]:
        while (message := await self.inbound.get()) is not None:
            yield message

    async def _run(self, service: WorkerService) -> ApiError | None:
        try:
            async for message in service.Connect(self._requests(), None):  # type: ignore[arg-type]
                await self.received.put(message)
        except ApiError as exc:
            return exc
        return None

    def send(self, message: worker_pb2.WorkerMessage | None) -> None:
        self.inbound.put_nowait(message)

    async def receive(self, body: str, timeout: float = 10.0) -> Any:
        """The next message with this body, skipping others (heartbeat answers, assignments)."""
        end = asyncio.get_running_loop().time() + timeout
        while True:
            message = await asyncio.wait_for(self.received.get(), end - asyncio.get_running_loop().time())
            if message.WhichOneof("body") == body:
                return getattr(message, body)

    async def ended(self, timeout: float = 10.0) -> ApiError | None:
        """How the handler ended: its error, or None when it returned."""
        return await asyncio.wait_for(asyncio.shield(self.task), timeout)


@contextlib.asynccontextmanager
async def coordinator(
    tmp_path: Path, *, run: bool = True, hello_timeout: float = wire.HELLO_TIMEOUT_SECONDS
) -> AsyncIterator[tuple[RecordingEngine, WorkerService]]:
    store = CountingStore(connect(f"sqlite:///{tmp_path / 'm.db'}"))
    engine = make_engine(tmp_path, store=store, engine_class=RecordingEngine)
    assert isinstance(engine, RecordingEngine)
    if run:
        asyncio.create_task(engine.run())
    try:
        yield engine, WorkerService(engine, 10.0, hello_timeout=hello_timeout)
    finally:
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        store.db.close()


def of(engine: RecordingEngine, kind: type) -> list[Any]:
    return [event for event in engine.seen if isinstance(event, kind)]


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


async def joined(service: WorkerService, message: worker_pb2.WorkerMessage | None = None) -> tuple[Stream, Any]:
    stream = Stream(service)
    stream.send(message or hello())
    return stream, await stream.receive("welcome")


def test_heartbeats_are_answered_and_cost_no_metastore_commit_with_the_engine_loop_running(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            store = engine.store
            assert isinstance(store, CountingStore)
            batches = await eventually(lambda: engine.batches or None, message="the join's turn")
            await eventually(lambda: store.commits > 0, message="the join's commit")
            before, events = store.commits, len(engine.seen)
            for n in range(100):
                stream.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat(cpu_percent=float(n))))
                ack = await stream.receive("heartbeat_ack")
                assert ack.HasField("server_time")
            assert engine.scheduler.workers["w1"].cpu_percent == 99.0
            assert engine.batches >= batches
            assert store.commits == before
            assert len(engine.seen) == events

    run(scenario)


def test_welcome_carries_the_ack_timeout_kill_grace_and_limits(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (_, service):
            _, welcome = await joined(service)
            assert welcome.ack_timeout_ms == 5000
            assert welcome.kill_grace_period_ms == int(wire.KILL_GRACE_SECONDS * 1000)
            assert welcome.limits.max_message_bytes == wire.MAX_MESSAGE_BYTES
            assert welcome.limits.max_return_value_bytes == wire.MAX_RETURN_VALUE_BYTES
            assert welcome.limits.max_log_chunk_bytes == wire.MAX_LOG_CHUNK_BYTES
            assert welcome.limits.max_error_bytes == wire.MAX_ERROR_CHARS

    run(scenario)


def test_hello_is_validated_field_by_field() -> None:
    good = worker_pb2.Hello(name="w-1", slots=2, queues=["a"], kinds=[BASH], instance_id="abc-1")
    assert session_from_hello(good, None).kinds == frozenset({"bash"})
    assert session_from_hello(good, None).instance_id == "abc-1"
    assert session_from_hello(worker_pb2.Hello(name="old", slots=1, kinds=[BASH]), None).instance_id == ""
    many = [f"q{n}" for n in range(wire.MAX_QUEUES + 1)]
    labels = {f"k{n}": "v" for n in range(wire.MAX_LABELS + 1)}
    running = [attempt(n) for n in range(1, 3)]
    cases: list[tuple[dict[str, Any], str]] = [
        (dict(name=""), "hello.name: worker name must be"),
        (dict(name="bad name!"), "hello.name"),
        (dict(name="w\x00"), "hello.name"),
        (dict(slots=0), "hello.slots: worker 'w' slots must be between 1 and 10000, not 0"),
        (dict(slots=99999), "hello.slots"),
        (dict(queues=["bad queue"]), "hello.queues: worker 'w' has an invalid queue name 'bad queue'"),
        (dict(queues=many), "hello.queues: worker 'w' may serve at most 64 queues, not 65"),
        (dict(kinds=[42]), "hello.kinds: worker 'w' must declare known task kinds"),
        (dict(kinds=[]), "hello.kinds"),
        (dict(host="h" * 256), "hello.host must be at most 255 characters, not 256"),
        (dict(host="h\x00st"), "hello.host must not contain a NUL character"),
        (dict(version="v" * 65), "hello.version must be at most 64 characters, not 65"),
        (dict(version="1\x00"), "hello.version must not contain a NUL"),
        (dict(labels=labels), "hello.labels: worker 'w' may have at most 64 labels, not 65"),
        (dict(labels={"k" * 256: "v"}), "hello.labels must be at most 255 characters"),
        (dict(labels={"k": "v" * 256}), r"hello.labels\['k'\] must be at most 255 characters"),
        (dict(labels={"k": "v\x00"}), r"hello.labels\['k'\] must not contain a NUL"),
        (dict(instance_id="not ok"), "hello.instance_id: worker 'w' instance_id must be 1-64"),
        (dict(instance_id="x" * 65), "hello.instance_id"),
        (dict(slots=1, running=running), "hello.running: worker 'w' lists 2 running attempts but has 1 slots"),
    ]
    for bad, message in cases:
        fields: dict[str, Any] = {"name": "w", "slots": 2, "kinds": [BASH], **bad}
        with pytest.raises(InvalidArgument, match=message):
            session_from_hello(worker_pb2.Hello(**fields), None)


def test_a_bad_hello_ends_the_stream_with_invalid_argument_and_joins_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream = Stream(service)
            stream.send(hello(host="x" * 300))
            error = await stream.ended()
            assert isinstance(error, InvalidArgument) and "hello.host" in str(error)
            stream = Stream(service)
            stream.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
            error = await stream.ended()
            assert isinstance(error, InvalidArgument)
            assert "first message on a worker stream must be hello, not heartbeat" in str(error)
            assert engine.scheduler.workers == {} and engine.streams == {}

    run(scenario)


def test_a_stream_silent_past_the_hello_timeout_ends_with_deadline_exceeded(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path, hello_timeout=0.2) as (engine, service):
            error = await Stream(service).ended(timeout=5)
            assert isinstance(error, ApiError) and error.code == "DEADLINE_EXCEEDED"
            assert "hello within 0.2s" in str(error)
            assert engine.streams == {}

    run(scenario)


def test_a_stream_cancelled_while_its_join_waits_in_the_inbox_leaves_no_live_session(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path, run=False) as (engine, service):
            stream = Stream(service)
            stream.send(hello())
            await eventually(lambda: not engine.inbox.empty(), message="WorkerJoined to be submitted")
            stream.task.cancel()
            await asyncio.gather(stream.task, return_exceptions=True)
            assert not of(engine, WorkerLeft)
            asyncio.create_task(engine.run())
            left = await eventually(lambda: of(engine, WorkerLeft), message="WorkerLeft once the join is applied")
            assert left[0].generation > 0
            await eventually(lambda: not engine.scheduler.workers.get("w1") or not engine.scheduler.workers["w1"].free)
            assert "w1" not in engine.streams

    run(scenario)


def test_a_stream_gone_while_its_join_waits_is_sent_no_work_and_the_next_stream_gets_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path, run=False) as (engine, service):
            engine.scheduler.register_dag(DagSpec.build(1, dag("d", [task("a")]), "0" * 64), False, None)
            triggered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            args = {"dag_id": "d", "conf": {}, "run_id": "r", "logical_date": None}
            await engine.turn([Command("trigger", args, triggered)])
            await triggered
            ti = engine.scheduler.run_for("d", "r").tis["a"]
            assert ti.state is TaskState.SCHEDULED
            ghost = Stream(service)
            ghost.send(hello())
            await eventually(lambda: of(engine, WorkerJoined), message="the join to be submitted")
            ghost.task.cancel()
            await asyncio.gather(ghost.task, return_exceptions=True)
            asyncio.create_task(engine.run())
            await eventually(lambda: "w1" not in engine.scheduler.workers, message="the ghost to leave")
            assert ti.worker == "" and ti.state is TaskState.SCHEDULED
            stream, _ = await joined(service, hello(name="w2"))
            assignment = await stream.receive("assignment")
            assert (assignment.dag_id, assignment.task_id, ti.worker) == ("d", "a", "w2")

    run(scenario)


def test_a_stream_that_ends_right_after_welcome_leaves_no_live_session(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            for n in range(50):
                stream, _ = await joined(service, hello(name=f"ghost-{n}", instance_id=f"g{n}"))
                if n % 2:
                    stream.send(None)
                else:
                    stream.task.cancel()
            await eventually(
                lambda: not [w for w in engine.scheduler.workers.values() if w.free > 0],
                message="no worker with free slots",
            )
            await eventually(lambda: not engine.streams, message="no streams")

    run(scenario)


def test_a_live_name_with_another_instance_id_is_refused_with_already_exists(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            first, _ = await joined(service, hello(instance_id="first"))
            intruder = Stream(service)
            intruder.send(hello(instance_id="second"))
            error = await intruder.ended()
            assert isinstance(error, ApiError) and error.code == "ALREADY_EXISTS"
            assert "worker name 'w1' is in use by a live worker on host h (pid 7)" in str(error)
            assert engine.streams["w1"][0] == engine.scheduler.workers["w1"].generation
            first.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
            assert (await first.receive("heartbeat_ack")).HasField("server_time")

    run(scenario)


def test_a_reconnect_with_the_same_instance_id_replaces_the_old_stream(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            old, _ = await joined(service)
            old_generation = engine.scheduler.workers["w1"].generation
            new, _ = await joined(service)
            error = await old.ended()
            assert isinstance(error, ApiError) and error.code == "UNAVAILABLE"
            await eventually(lambda: engine.scheduler.workers["w1"].generation != old_generation)
            assert engine.scheduler.workers["w1"].connected
            assert engine.streams["w1"][0] == engine.scheduler.workers["w1"].generation
            new.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
            assert (await new.receive("heartbeat_ack")).HasField("server_time")

    run(scenario)


def test_of_two_streams_of_one_worker_joining_in_one_turn_the_later_keeps_the_name(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path, run=False) as (engine, service):
            earlier, later = Stream(service), Stream(service)
            earlier.send(hello())
            await eventually(lambda: engine.inbox.qsize() == 1, message="the first join to be submitted")
            later.send(hello())
            await eventually(lambda: engine.inbox.qsize() == 2, message="the second join to be submitted")
            asyncio.create_task(engine.run())
            await later.receive("welcome")
            error = await earlier.ended()
            assert isinstance(error, ApiError) and error.code == "UNAVAILABLE"
            assert "reconnected on another stream" in str(error)
            assert engine.streams["w1"][0] == engine.scheduler.workers["w1"].generation
            later.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
            assert (await later.receive("heartbeat_ack")).HasField("server_time")
            assert engine.scheduler.workers["w1"].connected

    run(scenario)


def test_the_server_receives_messages_up_to_the_wire_limit() -> None:
    assert dict(server.OPTIONS)["grpc.max_receive_message_length"] == wire.MAX_MESSAGE_BYTES


def test_a_silent_workers_stream_is_closed_with_unavailable_naming_the_silence(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            assert isinstance(engine.clock, FakeClock)
            engine.clock.advance(12)
            engine.submit(None)
            error = await stream.ended()
            assert isinstance(error, ApiError) and error.code == "UNAVAILABLE"
            assert "worker 'w1' was lost: no heartbeat for 12.0s" in str(error)
            await eventually(lambda: of(engine, WorkerLeft))

    run(scenario)


def test_acks_carry_the_refusal_enum_and_a_refusal_without_one_is_invalid(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            generation = engine.scheduler.workers["w1"].generation
            refused = worker_pb2.AssignmentAck(
                attempt=attempt(), accepted=False, reason="full", refusal=worker_pb2.REFUSAL_REASON_NO_FREE_SLOT
            )
            stream.send(worker_pb2.WorkerMessage(ack=refused))
            ack = await eventually(lambda: of(engine, Acked))
            assert (ack[0].refusal, ack[0].reason, ack[0].generation) == (wire.Refusal.NO_FREE_SLOT, "full", generation)
            stream.send(worker_pb2.WorkerMessage(ack=worker_pb2.AssignmentAck(attempt=attempt(), accepted=False)))
            error = await stream.ended()
            assert isinstance(error, InvalidArgument) and "ack.refusal must be set" in str(error)

    run(scenario)


def test_worker_draining_drains_its_session(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            generation = engine.scheduler.workers["w1"].generation
            stream.send(worker_pb2.WorkerMessage(draining=worker_pb2.WorkerDraining(reason="SIGTERM")))
            draining = await eventually(lambda: of(engine, WorkerDraining))
            assert (draining[0].name, draining[0].generation, draining[0].reason) == ("w1", generation, "SIGTERM")
            await eventually(lambda: engine.scheduler.workers["w1"].state == "draining", message="the worker to drain")

    run(scenario)


def test_an_oversized_return_value_becomes_a_failed_outcome_and_a_long_error_is_cut(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream, _ = await joined(service)
            big = worker_pb2.TaskFinished(
                attempt=attempt(),
                outcome=worker_pb2.TASK_OUTCOME_SUCCESS,
                return_value_json='"' + "x" * (2 * wire.MiB) + '"',
            )
            stream.send(worker_pb2.WorkerMessage(finished=big))
            long = worker_pb2.TaskFinished(
                attempt=attempt(2), outcome=worker_pb2.TASK_OUTCOME_FAILED, error="e" * (wire.MAX_ERROR_CHARS + 10)
            )
            stream.send(worker_pb2.WorkerMessage(finished=long))
            finished = await eventually(lambda: len(of(engine, Finished)) == 2 and of(engine, Finished))
            assert finished[0].outcome is wire.Outcome.FAILED
            assert finished[0].error == "return value is 2.0 MB; the limit is 1 MB"
            assert finished[0].return_value_json == ""
            assert finished[0].generation == engine.scheduler.workers["w1"].generation
            assert finished[1].outcome is wire.Outcome.FAILED and len(finished[1].error) == wire.MAX_ERROR_CHARS
            stream.send(worker_pb2.WorkerMessage(finished=worker_pb2.TaskFinished(attempt=attempt())))
            error = await stream.ended()
            assert isinstance(error, InvalidArgument) and "finished.outcome must be set" in str(error)


def test_a_report_with_a_time_no_datetime_can_hold_ends_the_stream_with_invalid_argument(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (_, service):
            stream, _ = await joined(service)
            far = worker_pb2.TaskFinished(
                attempt=attempt(), outcome=worker_pb2.TASK_OUTCOME_SUCCESS, ended_at={"seconds": 10**13}
            )
            stream.send(worker_pb2.WorkerMessage(finished=far))
            error = await stream.ended()
            assert isinstance(error, InvalidArgument) and "finished.ended_at" in str(error)

    run(scenario)


def test_a_worker_that_does_not_read_is_not_read_until_it_catches_up(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            stream = Stream(service)
            stream.received = asyncio.Queue(maxsize=1)
            stream.send(hello())
            sent = 3 * MAX_BACKLOG
            for _ in range(sent):
                stream.send(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
            await eventually(lambda: "w1" in engine.streams and engine.streams["w1"][1].qsize() >= MAX_BACKLOG - 1)
            unread = stream.inbound.qsize()
            for _ in range(100):
                await asyncio.sleep(0)
            assert stream.inbound.qsize() == unread > 0
            assert engine.streams["w1"][1].qsize() <= MAX_BACKLOG
            answered = 0
            while answered < sent:
                message = await asyncio.wait_for(stream.received.get(), 10)
                answered += message.WhichOneof("body") == "heartbeat_ack"
            assert stream.inbound.qsize() == 0

    run(scenario)


def test_a_log_chunk_over_the_limit_ends_the_stream_with_invalid_argument(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (_, service):
            stream, _ = await joined(service)
            chunk = worker_pb2.LogChunk(attempt=attempt(), data=b"x" * (wire.MAX_LOG_CHUNK_BYTES + 1))
            stream.send(worker_pb2.WorkerMessage(log=chunk))
            error = await stream.ended()
            assert isinstance(error, InvalidArgument) and "log.data" in str(error)

    run(scenario)
