"""Malformed and out-of-range requests get precise errors, and the coordinator keeps serving."""

from __future__ import annotations

import grpc
import pytest

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
