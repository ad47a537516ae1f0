"""Malformed and out-of-range requests get precise errors, and the coordinator keeps serving."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import psutil
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from tests.harness import Cluster, assert_eventually, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger
from tradewind.exceptions import FailedPrecondition, InvalidArgument, NotFound
from tradewind.v1 import common_pb2, control_pb2, control_pb2_grpc, worker_pb2, worker_pb2_grpc

SIMPLE = """
from tradewind import DAG, BashOperator

with DAG(dag_id="simple", schedule=None):
    BashOperator(task_id="a", bash_command="echo a") >> BashOperator(task_id="b", bash_command="echo b")
"""


def test_control_requests_are_validated(cluster: Cluster) -> None:
    write_dag(cluster.dags, "simple.py", SIMPLE)
    cluster.coordinator()
    with cluster.client() as client:
        assert_eventually(lambda: client.list_dags().dags, 30, "the DAG to be parsed")
        with pytest.raises(NotFound, match="DAG 'nope' not found"):
            client.get_dag("nope")
        with pytest.raises(InvalidArgument, match="dag_id is required"):
            client.trigger_dag("")
        with pytest.raises(InvalidArgument, match="page_size must be between 1 and 1000, not 5000"):
            client.list_dag_runs(page_size=5000)
        with pytest.raises(InvalidArgument, match="run_id 'a b' is not valid"):
            client.list_task_instances("simple", "a b")
        with pytest.raises(NotFound, match="DAG 'simple' has no run 'r9'"):
            client.list_task_instances("simple", "r9")
        run = client.trigger_dag("simple", {"x": 1}, run_id="r1").dag_run
        with pytest.raises(FailedPrecondition, match="already has a run with run_id 'r1'"):
            client.trigger_dag("simple", run_id="r1")
        with pytest.raises(InvalidArgument, match="marked success or failed, not running"):
            client.mark_task_instance("simple", run.run_id, "a", "running")
        with pytest.raises(InvalidArgument, match="the default pool cannot be deleted"):
            client.delete_pool("default_pool")
        with pytest.raises(NotFound, match="worker 'ghost' is not connected"):
            client.drain_worker("ghost")
    stub = control_pb2_grpc.ControlServiceStub(grpc.insecure_channel(cluster.address))
    with pytest.raises(grpc.RpcError) as caught:
        stub.TriggerDag(control_pb2.TriggerDagRequest(dag_id="simple", conf_json="[1]"))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "conf_json must be a JSON object, not list"
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListDagRuns(control_pb2.ListDagRunsRequest(states=[99]))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_malformed_worker_streams_are_refused_and_others_keep_working(cluster: Cluster) -> None:
    write_dag(cluster.dags, "simple.py", SIMPLE)
    cluster.coordinator()
    stub = worker_pb2_grpc.WorkerServiceStub(grpc.insecure_channel(cluster.address))

    def first_reply(*messages: worker_pb2.WorkerMessage) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.Connect(iter(messages)))
        return caught.value

    error = first_reply(worker_pb2.WorkerMessage(heartbeat=worker_pb2.Heartbeat()))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "the first message on a worker stream must be hello, not heartbeat" in error.details()
    error = first_reply(
        worker_pb2.WorkerMessage(hello=worker_pb2.Hello(name="w", slots=0, kinds=[common_pb2.TASK_KIND_BASH]))
    )
    assert "slots must be between 1 and 10000, not 0" in error.details()
    error = first_reply(worker_pb2.WorkerMessage(hello=worker_pb2.Hello(name="w", slots=1)))
    assert "must declare known task kinds" in error.details()
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.FetchBundle(worker_pb2.FetchBundleRequest(bundle_hash="../etc/passwd")))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    cluster.worker("w1")
    run_id = trigger(cluster, "simple")
    assert finished_run(cluster, "simple", run_id)["state"] == "success"


def test_clear_mark_cancel_and_pause(cluster: Cluster) -> None:
    write_dag(cluster.dags, "simple.py", SIMPLE)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "simple")
    assert finished_run(cluster, "simple", run_id)["state"] == "success"
    cluster.cli("tasks", "clear", "simple", run_id, "a", "--downstream")
    assert_eventually(
        lambda: (
            tis(cluster, "simple", run_id)["b"]["try_number"] == 2
            and tis(cluster, "simple", run_id)["b"]["state"] == "success"
        ),
        30,
        "the cleared tasks to rerun",
    )
    cluster.cli("tasks", "mark", "simple", run_id, "b", "failed")
    assert finished_run(cluster, "simple", run_id)["state"] == "failed"

    cluster.cli("dags", "pause", "simple")
    paused = trigger(cluster, "simple")
    assert tis(cluster, "simple", paused) == {}
    cluster.cli("runs", "cancel", "simple", paused)
    assert finished_run(cluster, "simple", paused)["state"] == "failed"
    cluster.cli("dags", "unpause", "simple")
    again = trigger(cluster, "simple")
    assert finished_run(cluster, "simple", again)["state"] == "success"


def test_grid_pages_runs_and_watch_starts_with_ready(cluster: Cluster) -> None:
    write_dag(cluster.dags, "simple.py", SIMPLE)
    cluster.coordinator()
    cluster.worker("w1")
    with cluster.client() as client:
        assert_eventually(lambda: client.list_dags().dags, 30, "the DAG to be parsed")
        watch = client.watch()
        first = next(iter(watch))
        assert first.WhichOneof("change") == "ready" and first.ready.server_time.seconds > 0
        watch.cancel()
        for n in range(3):
            client.trigger_dag("simple", run_id=f"r{n}")
        for n in range(3):
            finished_run(cluster, "simple", f"r{n}")
        page = client.get_dag_grid("simple", page_size=2)
        assert [r.run_id for r in page.dag_runs] == ["r2", "r1"]
        assert list(page.task_ids) == ["a", "b"]
        assert [list(c.states) for c in page.columns] == [[common_pb2.TASK_STATE_SUCCESS] * 2] * 2
        assert [list(c.try_numbers) for c in page.columns] == [[1, 1]] * 2
        older = client.get_dag_grid("simple", page_size=2, page_token=page.next_page_token)
        assert [r.run_id for r in older.dag_runs] == ["r0"] and older.next_page_token == ""
        with pytest.raises(InvalidArgument, match="page_size must be between 1 and 100, not 500"):
            client.get_dag_grid("simple", page_size=500)
        with pytest.raises(NotFound, match="DAG 'nope' not found"):
            client.get_dag_grid("nope")
        history = assert_eventually(
            lambda: [w.cpu_history for w in client.list_workers().workers if len(w.cpu_history) >= 3], 20, "history"
        )
        assert len(history[0]) <= 60


def test_a_long_log_arrives_in_pieces(cluster: Cluster) -> None:
    write_dag(
        cluster.dags,
        "loud.py",
        "from tradewind import DAG, BashOperator\n"
        "with DAG(dag_id='loud', schedule=None):\n"
        "    BashOperator(task_id='talk', bash_command=\"head -c 3000000 /dev/zero | tr '\\\\0' x; echo\")\n",
    )
    cluster.coordinator()
    cluster.worker("w1")
    with cluster.client() as client:
        assert_eventually(lambda: client.list_dags().dags, 30, "the DAG to be parsed")
        run_id = client.trigger_dag("loud").dag_run.run_id
        finished_run(cluster, "loud", run_id)
        chunks = [c.data for c in client.tail_logs("loud", run_id, "talk")]
    assert len(chunks) >= 3 and max(len(c) for c in chunks) <= 1 << 20
    assert b"".join(chunks).count(b"x") == 3_000_000


SCHEDULED = """
from datetime import datetime, timedelta
from tradewind import DAG, BashOperator

for dag_id, schedule in (("daily", "@daily"), ("hourly_delta", timedelta(hours=1)), ("leap", "0 0 29 2 *")):
    with DAG(dag_id=dag_id, schedule=schedule, start_date=datetime(2024, 1, 1), catchup=False) as dag:
        BashOperator(task_id="a", bash_command="echo a")
    globals()[dag_id] = dag
"""


def _refused(call: Any, request: Any) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        answer = call(request, timeout=10)
        if not isinstance(answer, Message):
            list(answer)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, (request, caught.value.details())
    return str(caught.value.details())


def test_every_input_rule_is_invalid_argument_naming_the_field(cluster: Cluster) -> None:
    write_dag(cluster.dags, "simple.py", SIMPLE)
    cluster.coordinator()
    with cluster.client() as client:
        assert_eventually(lambda: client.list_dags().dags, 30, "the DAG to be parsed")
    stub = control_pb2_grpc.ControlServiceStub(grpc.insecure_channel(cluster.address))
    c = control_pb2
    cases = [
        (stub.GetDag, c.GetDagRequest(dag_id="sim\x00ple"), "dag_id must not contain a NUL character"),
        (stub.GetDag, c.GetDagRequest(dag_id="x" * 251), "dag_id 'xxx"),
        (stub.GetDag, c.GetDagRequest(dag_id="simple\n"), "dag_id 'simple\\n' is not valid"),
        (stub.ListDags, c.ListDagsRequest(dag_id_contains="\x00"), "dag_id_contains must not contain a NUL"),
        (stub.ListTaskInstances, c.ListTaskInstancesRequest(dag_id="simple", run_id="r/1"), "run_id 'r/1'"),
        (stub.TriggerDag, c.TriggerDagRequest(dag_id="simple", conf_json='{"n": NaN}'), "NaN is not allowed"),
        (stub.TriggerDag, c.TriggerDagRequest(dag_id="simple", conf_json='{"n": 1e999}'), "out of range"),
        (stub.TriggerDag, c.TriggerDagRequest(dag_id="simple", conf_json="[" * 5000 + "]" * 5000), "nested 5000"),
        (
            stub.TriggerDag,
            c.TriggerDagRequest(dag_id="simple", conf_json='{"a": "' + "x" * (1 << 20) + '"}'),
            "conf_json is 1,048,585 bytes; the limit is 1,048,576",
        ),
        (stub.TriggerDag, c.TriggerDagRequest(dag_id="simple", conf_json='{"a": "\\u0000"}'), "NUL character"),
        (
            stub.TriggerDag,
            c.TriggerDagRequest(dag_id="simple", logical_date=Timestamp(seconds=10**15)),
            "logical_date (1000000000000000 seconds) must lie between 0001-01-01 and 9999-12-31",
        ),
        (
            stub.TriggerDag,
            c.TriggerDagRequest(dag_id="simple", logical_date=Timestamp(seconds=5, nanos=-1)),
            "logical_date has nanos -1",
        ),
        (
            stub.TriggerDag,
            c.TriggerDagRequest(dag_id="simple", logical_date=Timestamp(seconds=-62135596800)),
            "logical_date 0001-01-01 must lie between 1970-01-01 and 9999-12-31",
        ),
        (stub.ListDagRuns, c.ListDagRunsRequest(page_token="9" * 5000), "page_token '999"),
        (stub.ListDagRuns, c.ListDagRunsRequest(page_token="abc"), "page_token 'abc' is not one this server gave"),
        (stub.ListDagRuns, c.ListDagRunsRequest(page_size=-1), "page_size must be between 1 and 1000, not -1"),
        (stub.ListDagRuns, c.ListDagRunsRequest(states=[42]), "states 42 is not a known RunState"),
        (
            stub.GetTaskInstance,
            c.GetTaskInstanceRequest(dag_id="simple", run_id="r", task_id="a", map_index=-2),
            "map_index must be -1 or more, not -2",
        ),
        (stub.TailLogs, c.TailLogsRequest(dag_id="simple", run_id="r", task_id="a", try_number=-1), "try_number"),
        (stub.SetPool, c.SetPoolRequest(name="p", slots=1, description="d" * 4097), "description is 4,097 char"),
        (stub.SetPool, c.SetPoolRequest(name="p q", slots=1), "name 'p q' is not valid"),
        (stub.SetPool, c.SetPoolRequest(name="p", slots=-1), "slots must be 0 or more, not -1"),
        (stub.DrainWorker, c.DrainWorkerRequest(name="bad name!"), "name 'bad name!' is not valid"),
        (
            stub.ClearTaskInstances,
            c.ClearTaskInstancesRequest(dag_id="simple", run_id="r", task_ids=["a", "\x00"]),
            "task_ids must not contain a NUL",
        ),
        (
            stub.MarkTaskInstance,
            c.MarkTaskInstanceRequest(dag_id="simple", run_id="r", task_id="a", state=77),
            "state 77 is not a known TaskState",
        ),
    ]
    for call, request, expected in cases:
        details = _refused(call, request)
        assert expected in details, (request, details)
    assert client_still_serves(cluster)


def client_still_serves(cluster: Cluster) -> bool:
    with cluster.client() as client:
        return bool(client.list_dags().dags)


def test_a_logical_date_the_schedule_cannot_compute_is_invalid_argument(cluster: Cluster) -> None:
    write_dag(cluster.dags, "scheduled.py", SCHEDULED)
    cluster.coordinator()
    with cluster.client() as client:
        assert_eventually(lambda: len(client.list_dags().dags) == 3, 30, "the DAGs to be parsed")
        for dag_id in ("daily", "hourly_delta", "leap"):
            with pytest.raises(InvalidArgument, match="logical_date 0001-01-01 must lie between 1970-01-01"):
                client.trigger_dag(dag_id, logical_date=datetime(1, 1, 1, tzinfo=UTC))
        with pytest.raises(InvalidArgument, match="logical_date 1969-12-31 must lie between"):
            client.trigger_dag("daily", logical_date=datetime(1969, 12, 31, tzinfo=UTC))
        run = client.trigger_dag("daily", logical_date=datetime(9999, 12, 31, 12, tzinfo=UTC)).dag_run
        assert run.data_interval_end.ToDatetime() == datetime(9999, 12, 31)
        assert client.trigger_dag("leap", logical_date=datetime(1970, 1, 2, tzinfo=UTC)).dag_run.run_id
        assert client.list_dags().dags


def test_undecodable_messages_are_invalid_argument_on_both_services(cluster: Cluster) -> None:
    write_dag(cluster.dags, "simple.py", SIMPLE)
    cluster.coordinator()
    channel = grpc.insecure_channel(cluster.address)
    garbage = b"\xff\xff\xff\xff\x0f"
    for method in ("ListDags", "TriggerDag", "GetTaskInstance"):
        call = channel.unary_unary(f"/tradewind.v1.ControlService/{method}")
        with pytest.raises(grpc.RpcError) as caught:
            call(garbage, timeout=10)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details() == f"request is not a valid tradewind.v1.{method}Request"
    tail = channel.unary_stream("/tradewind.v1.ControlService/TailLogs")
    with pytest.raises(grpc.RpcError) as caught:
        list(tail(garbage, timeout=10))
    assert caught.value.details() == "request is not a valid tradewind.v1.TailLogsRequest"
    connect = channel.stream_stream("/tradewind.v1.WorkerService/Connect")
    with pytest.raises(grpc.RpcError) as caught:
        list(connect(iter([garbage]), timeout=10))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "request is not a valid tradewind.v1.WorkerMessage"
    assert client_still_serves(cluster)


WIDE = """
from tradewind import DAG, EmptyOperator

with DAG(dag_id="wide", schedule=None):
    for n in range(2000):
        EmptyOperator(task_id=f"e{n}")
"""


def test_a_watcher_that_stops_reading_gets_a_resync_instead_of_an_unbounded_queue(cluster: Cluster) -> None:
    write_dag(cluster.dags, "wide.py", WIDE)
    coordinator = cluster.coordinator()
    # A fixed receive window (no BDP probing): the transport cannot absorb every change for it.
    channel = grpc.insecure_channel(cluster.address, options=[("grpc.http2.bdp_probe", 0)])
    stub = control_pb2_grpc.ControlServiceStub(channel)
    with cluster.client() as client:
        assert_eventually(lambda: client.list_dags().dags, 60, "the DAG to be parsed")
        watch = stub.Watch(control_pb2.WatchRequest())
        assert next(watch).WhichOneof("change") == "ready"
        runs = [client.trigger_dag("wide", run_id=f"r{n}").dag_run.run_id for n in range(8)]
        for run_id in runs:
            assert_eventually(
                lambda r=run_id: (
                    client.list_dag_runs("wide").dag_runs
                    and {x.run_id: x.state for x in client.list_dag_runs("wide").dag_runs}.get(r)
                    == common_pb2.RUN_STATE_SUCCESS
                ),
                60,
                f"run {run_id} to succeed",
            )
        rss = psutil.Process(coordinator.pid).memory_info().rss
    kinds: Counter[str] = Counter()
    for response in watch:
        kinds[response.WhichOneof("change")] += 1
        if response.HasField("resync"):
            assert response.resync.dropped > 0
            break
    watch.cancel()
    assert kinds["resync"] == 1, kinds
    # 8 runs of 2,000 task instances changed more than 16,000 times; far fewer were held for the watcher.
    assert kinds["task_instance"] < 16_000, kinds
    assert rss < 600 * 2**20


def gated(gate: Path) -> str:
    return f"""
from tradewind import DAG, BashOperator

with DAG(dag_id="gated", schedule=None):
    BashOperator(
        task_id="first", bash_command="echo before; while [ ! -f {gate} ]; do sleep 0.02; done; echo after"
    ) >> BashOperator(task_id="second", bash_command="echo second")
"""


def test_tasks_why_says_what_holds_a_task_instance_back_and_follow_waits_for_its_start(cluster: Cluster) -> None:
    gate = cluster.home / "gate"
    write_dag(cluster.dags, "gated.py", gated(gate))
    cluster.coordinator()
    run_id = trigger(cluster, "gated")
    why = cluster.cli("tasks", "why", "gated", run_id, "first").stdout
    assert f"gated.first in {run_id} is scheduled, waiting because:" in why
    assert "no_worker" in why
    second = json.loads(cluster.cli("tasks", "why", "gated", run_id, "second", "--json").stdout)
    assert second["conditions"][0]["reason"] == "WAIT_REASON_UPSTREAM"
    assert "trigger rule all_success is not met" in second["conditions"][0]["message"]

    followed: list[bytes] = []
    with cluster.client() as client:
        follow = client.tail_logs("gated", run_id, "second", follow=True)
        reader = threading.Thread(target=lambda: followed.extend(c.data for c in follow), daemon=True)
        reader.start()
        cluster.worker("w1")
        assert_eventually(lambda: "is running" in cluster.cli("tasks", "why", "gated", run_id, "first").stdout, 30)
        assert "not waiting" in cluster.cli("tasks", "why", "gated", run_id, "first").stdout
        gate.touch()
        assert finished_run(cluster, "gated", run_id)["state"] == "success"
        reader.join(30)
        assert not reader.is_alive(), "the follow stream ended when the try ended"
    assert b"second" in b"".join(followed)
    finished = cluster.cli("tasks", "why", "gated", run_id, "second").stdout
    assert finished.startswith(f"gated.second in {run_id} is success, not waiting")
    with pytest.raises(AssertionError, match="has no task 'second' \\[3\\]"):
        cluster.cli("tasks", "why", "gated", run_id, "second", "--map-index", "3")


def test_no_control_response_carries_an_attempt_token(cluster: Cluster) -> None:
    write_dag(cluster.dags, "simple.py", SIMPLE)
    cluster.coordinator()
    cluster.worker("w1")
    with cluster.client() as client:
        assert_eventually(lambda: client.list_dags().dags, 30, "the DAG to be parsed")
        watch = client.watch()
        seen: list[bytes] = []
        reader = threading.Thread(target=lambda: seen.extend(m.SerializeToString() for m in watch), daemon=True)
        reader.start()
        run_id = client.trigger_dag("simple").dag_run.run_id
        finished_run(cluster, "simple", run_id)
        responses = [client.get_task_instance("simple", run_id, task_id).SerializeToString() for task_id in ("a", "b")]
        responses.append(client.list_task_instances("simple", run_id).SerializeToString())
        responses.append(client.explain_task_instance("simple", run_id, "b").SerializeToString())
        watch.cancel()
        reader.join(10)
    db = sqlite3.connect(cluster.db_url.removeprefix("sqlite:///"))
    tokens = [row[0] for row in db.execute("SELECT attempt_token FROM task_attempt") if row[0]]
    db.close()
    assert len(tokens) >= 2
    everything = b"".join(responses + seen)
    assert len(seen) > 2
    for token in tokens:
        assert token.encode() not in everything


def test_workers_list_shows_active_draining_lost_and_left_workers(cluster: Cluster) -> None:
    gate = cluster.home / "gate"
    write_dag(cluster.dags, "gated.py", gated(gate))
    cluster.coordinator(heartbeat_timeout=2.0)
    workers = {name: cluster.worker(name) for name in ("w1", "w2", "w3")}
    with cluster.client() as client:

        def states() -> dict[str, str]:
            return {w.name: w.state for w in client.list_workers().workers}

        assert_eventually(lambda: states() == dict.fromkeys(workers, "active"), 30, "three active workers")
        run_id = trigger(cluster, "gated")

        def runner() -> str:
            first = tis(cluster, "gated", run_id)["first"]
            return str(first["worker"]) if first["state"] == "running" else ""

        killed = assert_eventually(runner, 30, "the first task to run")
        workers[killed].kill()
        assert_eventually(lambda: states()[killed] == "lost", 30, "the killed worker to be lost")
        survivor = assert_eventually(lambda: runner() if runner() not in ("", killed) else "", 30, "a rerun")
        idle = ({"w1", "w2", "w3"} - {killed, survivor}).pop()
        client.drain_worker(survivor)
        client.drain_worker(idle)
        expected = {killed: "lost", survivor: "draining", idle: "left"}
        assert_eventually(lambda: states() == expected, 30, "draining and left")
        gate.touch()
        assert_eventually(lambda: states()[survivor] == "left", 30, "the drained worker to leave")
    assert workers[survivor].popen.wait(30) == 0
