"""What a worker may send: worker.proto's rules for each message, and the events they become.

Every rule is checked here, before anything reaches the scheduler or the metastore, and a
broken one is InvalidArgument naming the field, so a worker in any language learns what to fix.
"""

from __future__ import annotations

import re
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from coordinator import validation
from coordinator.events import AttemptRef, Finished
from coordinator.sessions import WorkerSession
from tradewind import wire
from tradewind.exceptions import InvalidArgument
from tradewind.v1 import common_pb2, worker_pb2

NAME = re.compile(r"[A-Za-z0-9_.@:-]{1,200}")
INSTANCE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def attempt_ref(message: common_pb2.Attempt, what: str) -> AttemptRef:
    if message.task_instance_id <= 0 or message.try_number <= 0 or not message.attempt_token:
        raise InvalidArgument(
            f"{what}: attempt needs task_instance_id > 0, try_number > 0 and an attempt_token, got "
            f"({message.task_instance_id}, {message.try_number}, {message.attempt_token!r})"
        )
    return AttemptRef(message.task_instance_id, message.try_number, message.attempt_token)


def _text(value: str, field: str, limit: int) -> None:
    if len(value) > limit:
        raise InvalidArgument(f"hello.{field} must be at most {limit} characters, not {len(value)}")
    if "\x00" in value:
        raise InvalidArgument(f"hello.{field} must not contain a NUL character: {value[:80]!r}")


def session_from_hello(hello: worker_pb2.Hello, now: datetime | None) -> WorkerSession:
    """The session a Hello asks for; InvalidArgument naming the first field that breaks a rule."""
    if not NAME.fullmatch(hello.name):
        raise InvalidArgument(
            f"hello.name: worker name must be 1-200 characters of letters, digits and _.@:-, not {hello.name[:250]!r}"
        )
    name = hello.name
    if not 1 <= hello.slots <= 10_000:
        raise InvalidArgument(f"hello.slots: worker {name!r} slots must be between 1 and 10000, not {hello.slots}")
    if len(hello.queues) > wire.MAX_QUEUES:
        raise InvalidArgument(
            f"hello.queues: worker {name!r} may serve at most {wire.MAX_QUEUES} queues, not {len(hello.queues)}"
        )
    queues = tuple(hello.queues) or ("default",)
    for queue in queues:
        if not NAME.fullmatch(queue):
            raise InvalidArgument(f"hello.queues: worker {name!r} has an invalid queue name {queue[:250]!r}")
    kinds = {wire.task_kind_name(k) for k in hello.kinds}
    unknown = sorted(k for k in kinds if k.startswith("unknown"))
    if unknown or not kinds:
        raise InvalidArgument(f"hello.kinds: worker {name!r} must declare known task kinds, got {unknown or 'none'}")
    _text(hello.host, "host", wire.MAX_HOST_CHARS)
    _text(hello.version, "version", wire.MAX_VERSION_CHARS)
    if len(hello.labels) > wire.MAX_LABELS:
        raise InvalidArgument(
            f"hello.labels: worker {name!r} may have at most {wire.MAX_LABELS} labels, not {len(hello.labels)}"
        )
    for key, value in hello.labels.items():
        _text(key, "labels", wire.MAX_LABEL_CHARS)
        _text(value, f"labels[{key!r}]", wire.MAX_LABEL_CHARS)
    if hello.instance_id and not INSTANCE_ID.fullmatch(hello.instance_id):
        raise InvalidArgument(
            f"hello.instance_id: worker {name!r} instance_id must be 1-64 letters, digits and -, "
            f"not {hello.instance_id[:100]!r}"
        )
    if len(hello.running) > hello.slots:
        raise InvalidArgument(
            f"hello.running: worker {name!r} lists {len(hello.running)} running attempts but has {hello.slots} slots"
        )
    return WorkerSession(
        name=name,
        queues=queues,
        kinds=frozenset(kinds),
        slots=hello.slots,
        host=hello.host,
        pid=hello.pid,
        labels=dict(hello.labels),
        version=hello.version,
        connected_at=now,
        instance_id=hello.instance_id,
    )


def moment(stamp: Timestamp, present: bool, what: str) -> datetime | None:
    """A reported time; None when unset, InvalidArgument when no datetime can hold it."""
    if not present or (stamp.seconds == 0 and stamp.nanos == 0):
        return None
    return validation.timestamp(stamp, what)


def oversized_return_value(size: int) -> str:
    return f"return value is {size / wire.MiB:.1f} MB; the limit is {wire.MAX_RETURN_VALUE_BYTES // wire.MiB} MB"


def finished_from_pb(f: worker_pb2.TaskFinished, session: WorkerSession) -> Finished:
    """The Finished event of a TaskFinished; a return value over the limit fails the task."""
    outcome = wire.outcome_from_pb(f.outcome)
    error, value = f.error[: wire.MAX_ERROR_CHARS], f.return_value_json
    size = len(value.encode())
    if size > wire.MAX_RETURN_VALUE_BYTES:
        # Refusing the message would make the worker resend it forever; the task failed instead.
        outcome, error, value = wire.Outcome.FAILED, oversized_return_value(size), ""
    return Finished(
        worker=session.name,
        attempt=attempt_ref(f.attempt, "finished"),
        outcome=outcome,
        exit_code=f.exit_code,
        error=error,
        return_value_json=value,
        ended_at=moment(f.ended_at, f.HasField("ended_at"), "finished.ended_at"),
        cpu_user=f.usage.cpu_user_seconds,
        cpu_system=f.usage.cpu_system_seconds,
        max_rss_bytes=f.usage.max_rss_bytes,
        generation=session.generation,
    )
