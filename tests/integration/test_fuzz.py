"""Malformed and hostile messages to both services of a real coordinator: none may stop it or be INTERNAL.

Requests are built from the message descriptors with random field values (huge strings, NUL
characters, extreme numbers and timestamps, deep and non-finite conf), sent as random bytes,
and as worker streams that send garbage, random messages or nothing. Afterwards the
coordinator must still serve, its memory must have stayed bounded, and a run must succeed on
a real worker. Seeded: the seed is printed with the counts by status code.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import psutil
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp

from tests.conftest import failed
from tests.harness import Cluster, assert_eventually, cluster_in, write_dag
from tests.integration.test_end_to_end import finished_run, trigger
from tests.pg import fresh_database
from tradewind.v1 import control_pb2, worker_pb2

SIMPLE = """
from datetime import datetime
from tradewind import DAG, BashOperator

with DAG(dag_id="simple", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False):
    BashOperator(task_id="a", bash_command="echo {{ dag_run.conf.get('x', 'a') }}") >> BashOperator(
        task_id="b", bash_command="echo b"
    )
"""
#: Run once the fuzzing is over: no fuzzed request names it or its pool, which may pause,
#: drain or empty whatever they name.
AFTER = """
from tradewind import DAG, BashOperator

with DAG(dag_id="after_fuzzing", schedule=None):
    BashOperator(task_id="a", bash_command="echo a", pool="after") >> BashOperator(
        task_id="b", bash_command="echo b", pool="after"
    )
"""
CALLS = 2500
STREAMS = 150
CALL_TIMEOUT = 10.0
#: Short, so that streams that never end by themselves (Watch, a TailLogs that follows, a silent
#: worker) end quickly at the client's deadline.
STREAM_TIMEOUT = 0.5
#: How much the coordinator's resident memory may grow over the whole run.
RSS_GROWTH = 300 * 2**20

STRINGS = [
    "",
    "simple",
    "a",
    "b",
    "default_pool",
    "manual__2024-01-01T00:00:00+00:00",
    "w1",
    "x" * 251,
    "y" * 100_000,
    "nul\x00here",
    "\x00",
    "../../etc/passwd",
    "spaces are bad",
    "ünïcødé-☃",
    "line\nbreak",
    "'; DROP TABLE dag; --",
    "{{ 7 * 7 }}",
    "%s%s%s%n",
]
CONFS = [
    "",
    "{}",
    '{"x": 1}',
    '{"n": NaN}',
    '{"n": Infinity}',
    '{"n": 1e999}',
    '{"x": "\\u0000"}',
    '{"x": "\\ud800"}',
    "[1, 2]",
    "{" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '{"a": "' + "z" * (2 * 2**20) + '"}',
    '{"x": ' + "9" * 5000 + "}",
    "not json",
]
INTS = [0, 1, -1, -2, 2, 100, 1000, 1001, 2**31 - 1, -(2**31), 10_001]
SECONDS = [0, 1, -1, -62135596800, -62135596801, 253402300799, 253402300800, 2**62, -(2**62), 1_700_000_000]
NANOS = [0, 1, 999_999_999, 1_000_000_000, -1, 2**31 - 1]


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def message(self, descriptor: Descriptor, depth: int = 0) -> Message:
        message = GetMessageClass(descriptor)()
        for field in descriptor.fields:
            if self.random.random() < 0.3:
                continue
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                continue
            values = [self.value(field, depth) for _ in range(self.random.choice((1, 1, 2, 5)))]
            if field.is_repeated:
                target = getattr(message, field.name)
                for value in values:
                    if field.type == FieldDescriptor.TYPE_MESSAGE:
                        target.add().CopyFrom(value)
                    else:
                        target.append(value)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                getattr(message, field.name).CopyFrom(values[0])
            else:
                setattr(message, field.name, values[0])
        return message

    def value(self, field: FieldDescriptor, depth: int) -> Any:
        r = self.random
        if field.type == FieldDescriptor.TYPE_STRING:
            return r.choice(CONFS) if field.name.endswith("_json") and r.random() < 0.8 else r.choice(STRINGS)
        if field.type == FieldDescriptor.TYPE_BYTES:
            return r.randbytes(r.choice((0, 1, 64, 4096)))
        if field.type == FieldDescriptor.TYPE_BOOL:
            return r.random() < 0.5
        if field.type == FieldDescriptor.TYPE_ENUM:
            return r.choice([*field.enum_type.values_by_number, 99, -5])
        if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return r.choice([0.0, -1.0, 1e300, float("nan"), float("inf"), 42.5])
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.full_name == "google.protobuf.Timestamp":
                return Timestamp(seconds=r.choice(SECONDS), nanos=r.choice(NANOS))
            if depth >= 3:
                return GetMessageClass(field.message_type)()
            return self.message(field.message_type, depth + 1)
        number = r.choice(INTS)
        if field.type in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64):
            return abs(number)
        if field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64):
            return r.choice([number, 2**63 - 1, -(2**63)])
        return number


#: A token the fuzzer made would require tokens of every later call (tests/coordinator/test_auth.py
#: checks CreateToken's input rules instead).
NOT_FUZZED = {"CreateToken"}


def _methods(service: str) -> list[MethodDescriptor]:
    module = control_pb2 if service == "ControlService" else worker_pb2
    return [m for m in module.DESCRIPTOR.services_by_name[service].methods if m.name not in NOT_FUZZED]


class Run:
    """Every call of the fuzz run, with the status code each ended with."""

    def __init__(self, channel: grpc.Channel, seed: int) -> None:
        self.channel = channel
        self.seed = seed
        self.codes: Counter[str] = Counter()
        self.internal: list[str] = []
        self.lock = threading.Lock()

    def record(self, what: str, error: grpc.RpcError | None) -> None:
        code = "OK" if error is None else error.code().name  # type: ignore[attr-defined]
        with self.lock:
            self.codes[code] += 1
            if code in ("INTERNAL", "UNKNOWN"):
                self.internal.append(f"{what}: {error.details()}")  # type: ignore[union-attr]

    def call(self, number: int) -> None:
        fuzz = Fuzzer(self.seed * 1_000_003 + number)
        r = fuzz.random
        service = r.choice(("ControlService", "ControlService", "ControlService", "WorkerService"))
        method = r.choice(_methods(service))
        if method.client_streaming:
            return self.stream(number)
        path = f"/tradewind.v1.{service}/{method.name}"
        if r.random() < 0.2:
            payload = r.randbytes(r.choice((1, 7, 64, 1000)))
        else:
            payload = fuzz.message(method.input_type).SerializeToString()
        try:
            if method.server_streaming:
                for _ in self.channel.unary_stream(path)(payload, timeout=STREAM_TIMEOUT):
                    pass
            else:
                self.channel.unary_unary(path)(payload, timeout=CALL_TIMEOUT)
        except grpc.RpcError as exc:
            if exc.code() is grpc.StatusCode.DEADLINE_EXCEEDED and method.server_streaming:  # type: ignore[attr-defined]
                return self.record(path, None)
            return self.record(path, exc)
        self.record(path, None)

    def stream(self, number: int) -> None:
        """A worker stream that sends garbage, random messages, a valid Hello then garbage, or nothing."""
        fuzz = Fuzzer(self.seed * 7_919 + number)
        r = fuzz.random
        kind = r.choice(("garbage", "random", "hello_then_random", "silent"))

        def messages() -> Iterator[bytes]:
            if kind == "silent":
                time.sleep(STREAM_TIMEOUT * 2)
                return
            if kind == "hello_then_random":
                hello = worker_pb2.Hello(
                    name=f"fuzz-{number}", slots=1, kinds=[1], instance_id=f"i{number}", queues=["fuzz"]
                )
                yield worker_pb2.WorkerMessage(hello=hello).SerializeToString()
            for _ in range(r.randint(1, 6)):
                if kind == "garbage" or r.random() < 0.2:
                    yield r.randbytes(r.choice((1, 5, 300)))
                else:
                    yield fuzz.message(worker_pb2.WorkerMessage.DESCRIPTOR).SerializeToString()

        path = "/tradewind.v1.WorkerService/Connect"
        try:
            for _ in self.channel.stream_stream(path)(messages(), timeout=STREAM_TIMEOUT * 4):
                pass
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):  # type: ignore[attr-defined]
                return self.record(f"{path} ({kind})", None)
            return self.record(f"{path} ({kind})", exc)
        self.record(f"{path} ({kind})", None)


def fuzz_coordinator(cluster: Cluster) -> None:
    write_dag(cluster.dags, "simple.py", SIMPLE)
    write_dag(cluster.dags, "after.py", AFTER)
    coordinator = cluster.coordinator()
    with cluster.client() as client:
        assert_eventually(lambda: len(client.list_dags().dags) == 2, 60, "the DAGs to be parsed")
    process = psutil.Process(coordinator.pid)
    rss_before = process.memory_info().rss
    seed = int(os.environ.get("TRADEWIND_FUZZ_SEED", time.time_ns() % 100_000))
    channel = grpc.insecure_channel(cluster.address, options=[("grpc.max_send_message_length", 64 * 2**20)])
    run = Run(channel, seed)
    started = time.monotonic()
    peak = rss_before
    with ThreadPoolExecutor(max_workers=8) as pool:
        for number, _ in enumerate(pool.map(run.call, range(CALLS))):
            if number % 250 == 0:
                peak = max(peak, process.memory_info().rss)
        list(pool.map(run.stream, range(CALLS, CALLS + STREAMS)))
    peak = max(peak, process.memory_info().rss)
    took = time.monotonic() - started
    channel.close()
    print(
        f"fuzz seed {seed}: {sum(run.codes.values())} calls in {took:.1f}s, by status {dict(run.codes.most_common())}"
    )
    print(f"coordinator RSS {rss_before / 2**20:.0f} MiB before, {peak / 2**20:.0f} MiB at most")
    assert not run.internal, f"seed {seed}: INTERNAL or UNKNOWN answers:\n" + "\n".join(run.internal[:20])
    assert peak - rss_before < RSS_GROWTH
    assert coordinator.popen.poll() is None, coordinator.output()[-3000:]
    with cluster.client() as client:
        client.set_pool("after", 2)
    cluster.worker("w1")
    run_id = trigger(cluster, "after_fuzzing")
    assert finished_run(cluster, "after_fuzzing", run_id)["state"] == "success"


@pytest.mark.timeout(110)
def test_fuzzed_messages_never_stop_the_coordinator_or_answer_internal(cluster: Cluster) -> None:
    fuzz_coordinator(cluster)


@pytest.fixture
def pg_cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    with fresh_database() as url:
        yield from cluster_in(tmp_path, lambda: failed(request), db_url=url)


@pytest.mark.postgres
@pytest.mark.timeout(110)
def test_fuzzed_messages_never_stop_the_coordinator_on_postgresql(pg_cluster: Cluster) -> None:
    fuzz_coordinator(pg_cluster)
