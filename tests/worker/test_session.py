from __future__ import annotations

from tradewind.v1 import common_pb2, worker_pb2
from worker.session import LOG_BUFFER_BYTES, Session


def attempt(n: int) -> common_pb2.Attempt:
    return common_pb2.Attempt(task_instance_id=n, try_number=1, attempt_token=f"t{n}")


def finished(n: int) -> worker_pb2.WorkerMessage:
    return worker_pb2.WorkerMessage(finished=worker_pb2.TaskFinished(attempt=attempt(n)))


def test_refusals_say_why() -> None:
    session = Session(slots=1, kinds=frozenset({"bash"}))
    assert session.refusal("python") == "this worker does not run python tasks"
    session.start(attempt(1), "bash")
    assert session.refusal("bash") == "no free slot (1 in use)"
    session.draining = True
    assert session.refusal("bash") == "draining"


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
    assert session.after_welcome([attempt(3)]) == []


def test_logs_held_while_disconnected_are_bounded() -> None:
    session = Session(slots=1, kinds=frozenset({"bash"}))
    chunk = b"x" * (1024 * 1024)
    for _ in range(10):
        session.hold(worker_pb2.WorkerMessage(log=worker_pb2.LogChunk(attempt=attempt(1), data=chunk)))
    assert session.pending_log_bytes <= LOG_BUFFER_BYTES
    assert session.dropped_log_bytes == 2 * len(chunk)
    session.hold(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
    assert len(session.after_welcome([])) == 8
