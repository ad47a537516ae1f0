"""A ControlService that answers from fixed data, so snapshot tests show the same screens every time.

It is served over real gRPC (a unix socket) and the app under test cannot tell it from a
coordinator; the end-to-end behaviour is tested against real processes in test_monitor.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from tradewind.v1 import common_pb2 as c
from tradewind.v1 import control_pb2 as pb
from tradewind.v1 import control_pb2_grpc

NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
S = c.TaskState


def stamp(moment: datetime) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    value = Timestamp()
    value.FromDatetime(moment)
    return value


TASKS = [
    pb.Task(task_id="extract", operator="BashOperator", downstream_task_ids=["clean_orders", "clean_users"]),
    pb.Task(
        task_id="clean_orders", operator="PythonOperator", upstream_task_ids=["extract"], downstream_task_ids=["join"]
    ),
    pb.Task(
        task_id="clean_users", operator="PythonOperator", upstream_task_ids=["extract"], downstream_task_ids=["join"]
    ),
    pb.Task(
        task_id="join",
        operator="PythonOperator",
        upstream_task_ids=["clean_orders", "clean_users"],
        downstream_task_ids=["load", "report"],
    ),
    pb.Task(task_id="load", operator="BashOperator", upstream_task_ids=["join"]),
    pb.Task(task_id="report", operator="BashOperator", upstream_task_ids=["join"]),
]
ROWS = [t.task_id for t in TASKS]
#: Oldest run first; one column of task states per run.
COLUMNS = [
    ("scheduled__2026-11-19T00:00:00+00:00", c.RUN_STATE_SUCCESS, [S.TASK_STATE_SUCCESS] * 6),
    ("scheduled__2026-11-20T00:00:00+00:00", c.RUN_STATE_SUCCESS, [S.TASK_STATE_SUCCESS] * 5 + [S.TASK_STATE_SKIPPED]),
    (
        "scheduled__2026-11-21T00:00:00+00:00",
        c.RUN_STATE_FAILED,
        [
            S.TASK_STATE_SUCCESS,
            S.TASK_STATE_FAILED,
            S.TASK_STATE_SUCCESS,
            S.TASK_STATE_UPSTREAM_FAILED,
            S.TASK_STATE_UPSTREAM_FAILED,
            S.TASK_STATE_UPSTREAM_FAILED,
        ],
    ),
    ("scheduled__2026-11-22T00:00:00+00:00", c.RUN_STATE_SUCCESS, [S.TASK_STATE_SUCCESS] * 6),
    ("scheduled__2026-11-23T00:00:00+00:00", c.RUN_STATE_SUCCESS, [S.TASK_STATE_SUCCESS] * 6),
    (
        "manual__2026-11-25T14:20:00+00:00",
        c.RUN_STATE_RUNNING,
        [
            S.TASK_STATE_SUCCESS,
            S.TASK_STATE_UP_FOR_RETRY,
            S.TASK_STATE_RUNNING,
            S.TASK_STATE_NONE,
            S.TASK_STATE_NONE,
            S.TASK_STATE_NONE,
        ],
    ),
]


def run(index: int) -> pb.DagRun:
    run_id, state, _ = COLUMNS[index]
    day = datetime(2026, 11, 19 + index, tzinfo=UTC) if index < 5 else NOW - timedelta(minutes=10)
    message = pb.DagRun(
        dag_id="orders_daily",
        run_id=run_id,
        state=state,
        run_type="manual" if run_id.startswith("manual") else "scheduled",
        logical_date=stamp(day),
        conf_json='{"region": "eu"}' if index == 5 else "{}",
        start_date=stamp(day + timedelta(minutes=1)),
        dag_version=3,
    )
    if state != c.RUN_STATE_RUNNING:
        message.end_date.CopyFrom(stamp(day + timedelta(minutes=7, seconds=12)))
    return message


DAGS = [
    pb.Dag(
        dag_id="example_bash",
        schedule="@once",
        active=True,
        tags=["example"],
        owner="tradewind",
        recent_run_states=[c.RUN_STATE_SUCCESS],
        version=1,
        task_count=3,
        fileloc="example_bash.py",
    ),
    pb.Dag(
        dag_id="orders_daily",
        schedule="@daily",
        active=True,
        tags=["sales", "etl"],
        owner="data-eng",
        next_run_at=stamp(datetime(2026, 11, 26, tzinfo=UTC)),
        running_tasks=2,
        version=3,
        task_count=6,
        recent_run_states=[COLUMNS[i][1] for i in reversed(range(6))],
        fileloc="orders.py",
        description="Orders from the shop database into the warehouse",
    ),
    pb.Dag(
        dag_id="weekly_report",
        schedule="0 6 * * 1",
        paused=True,
        active=True,
        tags=["report"],
        owner="bi",
        recent_run_states=[c.RUN_STATE_SUCCESS, c.RUN_STATE_FAILED],
        version=1,
        task_count=2,
        fileloc="report.py",
    ),
]
LOG = (
    b"[2026-11-25 14:21:03] connecting to shop db\n"
    b"[2026-11-25 14:21:04] 1204 users read\n"
    b"[2026-11-25 14:21:05] writing users.parquet\n"
)


class FixtureControlService(control_pb2_grpc.ControlServiceServicer):
    def __init__(self) -> None:
        self.stopped = threading.Event()
        #: Set to make the open Watch streams send one resync.
        self.resync = threading.Event()
        self.list_dags_calls = 0

    def ListDags(self, request: Any, context: Any) -> pb.ListDagsResponse:
        self.list_dags_calls += 1
        return pb.ListDagsResponse(dags=DAGS)

    def ListImportErrors(self, request: Any, context: Any) -> pb.ListImportErrorsResponse:
        return pb.ListImportErrorsResponse(
            import_errors=[
                pb.ImportError(
                    fileloc="broken.py",
                    traceback=(
                        "Traceback (most recent call last):\n"
                        '  File "broken.py", line 3\n'
                        "NameError: name 'BashOperatr' is not defined"
                    ),
                    timestamp=stamp(NOW - timedelta(minutes=3)),
                )
            ]
        )

    def GetDag(self, request: Any, context: Any) -> pb.GetDagResponse:
        return pb.GetDagResponse(dag=DAGS[1], tasks=TASKS)

    def GetDagGrid(self, request: Any, context: Any) -> pb.GetDagGridResponse:
        return pb.GetDagGridResponse(
            dag_runs=[run(i) for i in reversed(range(6))],
            task_ids=ROWS,
            columns=[
                pb.GridColumn(states=states, try_numbers=[2 if s == S.TASK_STATE_UP_FOR_RETRY else 1 for s in states])
                for _, _, states in reversed(COLUMNS)
            ],
        )

    def ListDagRuns(self, request: Any, context: Any) -> pb.ListDagRunsResponse:
        return pb.ListDagRunsResponse(dag_runs=[run(i) for i in reversed(range(6))])

    def GetTaskInstance(self, request: Any, context: Any) -> pb.GetTaskInstanceResponse:
        started = NOW - timedelta(seconds=95)
        ti = pb.TaskInstance(
            dag_id="orders_daily",
            run_id=COLUMNS[5][0],
            task_id="clean_users",
            map_index=-1,
            state=S.TASK_STATE_RUNNING,
            try_number=2,
            max_tries=3,
            operator="PythonOperator",
            queue="default",
            pool="default_pool",
            priority_weight=3,
            worker="worker-a",
            start_date=stamp(started),
        )
        first = pb.TaskAttempt(
            attempt_id=11,
            try_number=1,
            state=S.TASK_STATE_FAILED,
            worker="worker-b",
            queued_at=stamp(started - timedelta(seconds=60)),
            sent_at=stamp(started - timedelta(seconds=60)),
            acked_at=stamp(started - timedelta(seconds=60)),
            started_at=stamp(started - timedelta(seconds=60)),
            ended_at=stamp(started - timedelta(seconds=40)),
            exit_code=1,
            error="ConnectionError: shop db refused",
            rendered="clean_users(day='2026-11-25')",
        )
        second = pb.TaskAttempt(
            attempt_id=12,
            try_number=2,
            state=S.TASK_STATE_RUNNING,
            worker="worker-a",
            queued_at=stamp(started),
            sent_at=stamp(started + timedelta(milliseconds=1)),
            acked_at=stamp(started + timedelta(milliseconds=3)),
            started_at=stamp(started + timedelta(milliseconds=4)),
            rendered="clean_users(day='2026-11-25')",
        )
        return pb.GetTaskInstanceResponse(task_instance=ti, attempts=[first, second])

    def TailLogs(self, request: Any, context: Any) -> Iterator[pb.TailLogsResponse]:
        yield pb.TailLogsResponse(try_number=request.try_number or 2, data=LOG)

    def ListConnections(self, request: Any, context: Any) -> pb.ListConnectionsResponse:
        warehouse = c.Connection(
            conn_id="warehouse",
            conn_type="postgres",
            host="db.example",
            port=5432,
            schema="sales",
            login="etl",
            password="***",
            extra="***",
        )
        local = c.Connection(conn_id="local", conn_type="sqlite", host="/data/local.db")
        return pb.ListConnectionsResponse(connections=[local, warehouse])

    def ListWorkers(self, request: Any, context: Any) -> pb.ListWorkersResponse:
        def worker(name: str, running: int, cpu: list[float], state: str = "active") -> pb.Worker:
            return pb.Worker(
                name=name,
                host=f"{name}.local",
                pid=4100,
                queues=["default"],
                slots=16,
                running=running,
                state=state,
                cpu_percent=cpu[-1],
                memory_percent=12.5,
                rss_bytes=88 * 2**20,
                last_heartbeat_at=stamp(NOW - timedelta(seconds=1)),
                cpu_history=cpu,
                memory_history=[12.0 + i / 10 for i in range(len(cpu))],
            )

        return pb.ListWorkersResponse(
            workers=[
                worker("worker-a", 5, [5, 20, 45, 80, 60, 35, 70, 90, 55, 40, 62, 48]),
                worker("worker-b", 0, [2, 3, 2, 4, 3, 2], state="draining"),
            ]
        )

    def Watch(self, request: Any, context: Any) -> Iterator[pb.WatchResponse]:
        yield pb.WatchResponse(ready=pb.WatchReady(server_time=stamp(NOW)))
        while context.is_active() and not self.stopped.wait(0.05):
            if self.resync.is_set():
                self.resync.clear()
                yield pb.WatchResponse(resync=pb.WatchResync(dropped=12_345))


def serve(address: str) -> tuple[grpc.Server, FixtureControlService]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    service = FixtureControlService()
    control_pb2_grpc.add_ControlServiceServicer_to_server(service, server)
    server.add_insecure_port(address)
    server.start()
    return server, service
