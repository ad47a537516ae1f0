"""The task runtime channel with real processes: a task's calls reach the coordinator through its
worker's stream, and a worker in another language (a raw gRPC stream) is held to its rules."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import grpc

from tests.harness import Cluster, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger
from tests.integration.test_worker_protocol import hello, reply
from tradewind import wire
from tradewind.v1 import common_pb2, worker_pb2, worker_pb2_grpc


def test_a_task_pushes_xcoms_that_a_downstream_task_pulls_in_single_and_list_forms(cluster: Cluster) -> None:
    out = cluster.home / "pulled.json"
    write_dag(
        cluster.dags,
        "channel.py",
        f"""
import json
from tradewind import dag, task
from tradewind.runtime import get_current_context

@dag(schedule=None)
def channel():
    @task
    def push(ti=None):
        ti.xcom_push(key="city", value="Lisbon")
        ti.xcom_push(key="temps", value=[18, 21.5])
        return {{"n": 1}}

    @task
    def pull(ti=None):
        context = get_current_context()
        got = {{
            "single": ti.xcom_pull(task_ids="push", key="city"),
            "listed": ti.xcom_pull(task_ids=["push"], key="temps"),
            "missing": ti.xcom_pull(task_ids="push", key="nothing"),
            "listed_with_missing": ti.xcom_pull(task_ids=["push", "pull"], key="city"),
            "returned": context["ti"].xcom_pull(task_ids="push"),
            "by_map_index": ti.xcom_pull(task_ids="push", key="city", map_indexes=-1),
            "same_ti": context["ti"] is ti,
        }}
        with open({str(out)!r}, "w") as handle:
            json.dump(got, handle)

    push() >> pull()

channel()
""",
    )
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "channel")
    assert finished_run(cluster, "channel", run_id)["state"] == "success"
    assert json.loads(out.read_text()) == {
        "single": "Lisbon",
        "listed": [[18, 21.5]],
        "missing": None,
        "listed_with_missing": ["Lisbon", None],
        "returned": {"n": 1},
        "by_map_index": "Lisbon",
        "same_ti": True,
    }


def test_requests_count_only_from_the_current_attempt_on_its_own_session(cluster: Cluster) -> None:
    """A raw stream serves a task: its push while the attempt runs is stored and pulled
    downstream; another session's request with that attempt, and its own after the attempt
    ended, are refused as not current; a bad request is answered and the stream lives on."""
    out = cluster.home / "pulled.json"
    write_dag(
        cluster.dags,
        "served.py",
        f"""
import json
from tradewind import DAG, BashOperator, task

with DAG(dag_id="served", schedule=None):
    raw = BashOperator(task_id="raw", bash_command="true", queue="raw")

    @task
    def read(ti=None):
        with open({str(out)!r}, "w") as handle:
            json.dump(ti.xcom_pull(task_ids="raw", key="answer"), handle)

    raw >> read()
""",
    )
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "served")

    async def push(call: grpc.aio.StreamStreamCall, request_id: int, attempt: common_pb2.Attempt, value: str) -> Any:
        request = worker_pb2.TaskRequest(
            request_id=request_id, attempt=attempt, xcom_push=worker_pb2.XComPush(key="answer", value_json=value)
        )
        await call.write(worker_pb2.WorkerMessage(task_request=request))
        response = await reply(call, "task_response")
        assert response.request_id == request_id
        return response

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(cluster.address) as channel:
            stub = worker_pb2_grpc.WorkerServiceStub(channel)
            server = stub.Connect()
            await server.write(hello("raw-1", "raw-1"))
            await reply(server, "welcome")
            assignment = await reply(server, "assignment")
            mine = assignment.attempt
            await server.write(worker_pb2.WorkerMessage(ack=worker_pb2.AssignmentAck(attempt=mine, accepted=True)))
            await server.write(worker_pb2.WorkerMessage(started=worker_pb2.TaskStarted(attempt=mine, pid=1)))

            bad = await push(server, 1, mine, "{not json")
            assert wire.request_error_from_pb(bad.error.code) is wire.RequestError.INVALID_ARGUMENT
            assert "not a JSON value" in bad.error.message

            intruder = stub.Connect()
            await intruder.write(hello("raw-2", "raw-2", queues=["elsewhere"]))
            await reply(intruder, "welcome")
            forged = await push(intruder, 1, mine, '"forged"')
            assert wire.request_error_from_pb(forged.error.code) is wire.RequestError.NOT_CURRENT
            intruder.cancel()

            stored = await push(server, 2, mine, "42")
            assert stored.WhichOneof("result") == "xcom_push"
            finished = worker_pb2.TaskFinished(attempt=mine, outcome=worker_pb2.TASK_OUTCOME_SUCCESS)
            await server.write(worker_pb2.WorkerMessage(finished=finished))
            await reply(server, "result_ack")
            stale = await push(server, 3, mine, "43")
            assert wire.request_error_from_pb(stale.error.code) is wire.RequestError.NOT_CURRENT
            server.cancel()

    asyncio.run(asyncio.wait_for(scenario(), 60))
    assert finished_run(cluster, "served", run_id)["state"] == "success"
    assert json.loads(out.read_text()) == 42
    assert tis(cluster, "served", run_id)["raw"]["state"] == "success"
    with sqlite3.connect(cluster.db_url.removeprefix("sqlite:///")) as db:
        assert db.execute("SELECT value FROM xcom WHERE key = 'answer'").fetchall() == [("42",)]
