from __future__ import annotations

from tradewind import wire
from tradewind.v1 import common_pb2, worker_pb2
from worker.session import LOG_BUFFER_BYTES, Limits, Running, Session, Stop


def attempt(n: int) -> common_pb2.Attempt:
    return common_pb2.Attempt(task_instance_id=n, try_number=1, attempt_token=f"t{n}")


def finished(n: int) -> worker_pb2.WorkerMessage:
    return worker_pb2.WorkerMessage(finished=worker_pb2.TaskFinished(attempt=attempt(n)))


def log(n: int, data: bytes) -> worker_pb2.WorkerMessage:
    return worker_pb2.WorkerMessage(log=worker_pb2.LogChunk(attempt=attempt(n), data=data))


def started(n: int) -> worker_pb2.WorkerMessage:
    return worker_pb2.WorkerMessage(started=worker_pb2.TaskStarted(attempt=attempt(n), pid=n))


def test_refusals_carry_the_wire_reason_and_say_why() -> None:
    session = Session(slots=1, kinds=frozenset({"bash"}))
    assert session.refusal("bash") is None
    assert session.refusal("python") == (wire.Refusal.UNSUPPORTED_KIND, "this worker does not run python tasks")
    session.start(attempt(1), "bash")
    assert session.refusal("bash") == (wire.Refusal.NO_FREE_SLOT, "no free slot (1 in use)")
    session.draining = True
    assert session.refusal("bash") == (wire.Refusal.DRAINING, "draining")


def test_results_are_kept_until_acknowledged_and_resent_after_a_reconnect() -> None:
    session = Session(slots=2, kinds=frozenset({"bash"}))
    session.start(attempt(1), "bash")
    session.start(attempt(2), "bash")
    session.finish(finished(1))
    session.finish(finished(2))
    session.acked(attempt(1))
    assert [m.finished.attempt.task_instance_id for m in session.after_welcome([])] == [2]
    assert session.running_attempts() == []


def test_rejected_attempts_are_forgotten() -> None:
    session = Session(slots=2, kinds=frozenset({"bash"}))
    session.finish(finished(3))
    session.hold(started(3))
    session.hold(log(3, b"x"))
    assert session.after_welcome([attempt(3)]) == []


def test_replay_is_starts_then_logs_then_results_and_drops_heartbeats_and_acks() -> None:
    session = Session(slots=2, kinds=frozenset({"bash"}))
    session.hold(log(1, b"one"))
    session.hold(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
    session.hold(worker_pb2.WorkerMessage(ack=worker_pb2.AssignmentAck(attempt=attempt(2), accepted=True)))
    session.hold(started(2))
    session.start(attempt(1), "bash")
    session.finish(finished(1))
    assert [m.WhichOneof("body") for m in session.after_welcome([])] == ["started", "log", "finished"]


def test_logs_held_while_disconnected_are_bounded_and_the_drop_is_said_in_the_log() -> None:
    session = Session(slots=1, kinds=frozenset({"bash"}))
    session.hold(started(1))
    chunk = b"x" * (1024 * 1024)
    for _ in range(10):
        session.hold(log(1, chunk))
    assert session.pending_log_bytes <= LOG_BUFFER_BYTES
    assert session.dropped_log_bytes == 2 * len(chunk)
    replay = session.after_welcome([])
    assert replay[0].WhichOneof("body") == "started"  # a log overflow never drops a start
    assert replay[1].log.data == (
        b"\n... 2097152 bytes of output were dropped while the coordinator was unreachable\n"
    )
    assert [len(m.log.data) for m in replay[2:]] == [len(chunk)] * 8
    assert session.dropped_log_bytes == 0


def test_a_drop_is_reported_for_an_attempt_none_of_whose_held_output_is_left() -> None:
    session = Session(slots=2, kinds=frozenset({"bash"}))
    session.hold(log(1, b"a" * 1024))
    for _ in range(8):
        session.hold(log(2, b"b" * (1024 * 1024)))
    notes = [m for m in session.after_welcome([]) if m.log.attempt.task_instance_id == 1]
    assert [m.log.data for m in notes] == [
        b"\n... 1024 bytes of output were dropped while the coordinator was unreachable\n"
    ]


def test_limits_come_from_welcome_and_unset_fields_keep_the_wire_defaults() -> None:
    welcome = worker_pb2.Welcome(
        kill_grace_period_ms=1500, limits=worker_pb2.Limits(max_return_value_bytes=10, max_error_bytes=4)
    )
    limits = Limits.from_welcome(welcome)
    assert limits == Limits(10, wire.MAX_LOG_CHUNK_BYTES, 4, 1.5)
    assert Limits.from_welcome(worker_pb2.Welcome()) == Limits()
    assert limits.cut_error("abcdef") == "abcd"
    assert limits.cut_error("ab\u00e9\u00e9") == "ab\u00e9"  # never half a character


def test_a_second_stop_request_keeps_the_first_reason_and_only_shortens_the_grace() -> None:
    entry = Running(attempt(1), "bash")
    entry.request_stop(Stop("cancelled", wire.Outcome.CANCELLED, 5.0))
    entry.request_stop(Stop("shut down", wire.Outcome.LOST, 0.0))
    entry.request_stop(Stop("later", wire.Outcome.LOST, 3.0))
    assert entry.stop == Stop("cancelled", wire.Outcome.CANCELLED, 0.0)
    assert entry.stopped.is_set()
