"""Runner with a real fork server: how attempts end, are stopped, and what they may send."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind import wire
from tradewind.bundles import build_bundle
from tradewind.forkserver import ForkServer
from tradewind.templates import build_context, context_to_json
from tradewind.v1 import common_pb2, payload_pb2, worker_pb2
from worker.bundles import BundleCache
from worker.runner import Runner
from worker.session import Limits, Running, Stop


@pytest.fixture(scope="module")
def forkserver() -> Iterator[ForkServer]:
    server = ForkServer(preload=("tradewind", "tradewind.execution", "worker.payloads.python"))
    server.start()
    yield server
    server.close()


class Harness:
    def __init__(self, forkserver: ForkServer, tmp_path: Path) -> None:
        self.bundles: dict[str, bytes] = {}
        self.cache = BundleCache(tmp_path / "cache", self._fetch)
        self.messages: list[worker_pb2.WorkerMessage] = []
        self.limits = Limits()
        self.runner = Runner(forkserver, self.cache, self.messages.append, lambda: self.limits)
        self.ids = 0

    async def _fetch(self, bundle_hash: str) -> bytes:
        return self.bundles[bundle_hash]

    def bundle(self, folder: Path) -> str:
        built = build_bundle(folder)
        self.bundles[built.hash] = built.data
        return built.hash

    def dag_file(self, folder: Path, source: str) -> str:
        """The bundle of a folder holding one DAG file, flow.py, of `source`."""
        folder.mkdir()
        (folder / "flow.py").write_text(source)
        return self.bundle(folder)

    def output(self, ti_id: int) -> bytes:
        return b"".join(m.log.data for m in self.messages if m.log.attempt.task_instance_id == ti_id)

    def start(
        self, payload: payload_pb2.TaskPayload, timeout_ms: int = 0
    ) -> tuple[Running, asyncio.Task[worker_pb2.WorkerMessage]]:
        self.ids += 1
        attempt = common_pb2.Attempt(task_instance_id=self.ids, try_number=1, attempt_token=f"t{self.ids}")
        assignment = worker_pb2.Assignment(attempt=attempt, payload=payload, execution_timeout_ms=timeout_ms)
        entry = Running(attempt, payload.WhichOneof("kind") or "")
        return entry, asyncio.create_task(self.runner.run(assignment, entry))

    async def run(self, payload: payload_pb2.TaskPayload, timeout_ms: int = 0) -> worker_pb2.TaskFinished:
        _, task = self.start(payload, timeout_ms)
        return (await asyncio.wait_for(task, 60)).finished

    async def when_output(self, ti_id: int, text: bytes) -> None:
        async with asyncio.timeout(30):
            while text not in self.output(ti_id):
                await asyncio.sleep(0.01)


@pytest.fixture
def harness(forkserver: ForkServer, tmp_path: Path) -> Harness:
    return Harness(forkserver, tmp_path)


def bash(command: str) -> payload_pb2.TaskPayload:
    return payload_pb2.TaskPayload(bash=payload_pb2.BashPayload(bash_command=command))


def python(bundle_hash: str, task_id: str, dag_id: str = "flow", dag_file: str = "flow.py") -> payload_pb2.TaskPayload:
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    context = build_context(
        dag_id=dag_id,
        task_id=task_id,
        run_id="manual__x",
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=moment,
        params={},
        conf={},
        try_number=1,
        run_type="manual",
    )
    return payload_pb2.TaskPayload(
        python=payload_pb2.PythonPayload(
            bundle_hash=bundle_hash,
            dag_file=dag_file,
            dag_id=dag_id,
            task_id=task_id,
            context_json=context_to_json(context),
        )
    )


FLOW = """
import logging

from tradewind import dag, task


@dag(schedule=None)
def flow():
    @task
    def chatty():
        logging.getLogger("mine").info("info from the task")
        return 1

    @task
    def broken():
        raise ValueError("no good")

    @task
    def huge():
        return "x" * (40 * 1024 * 1024 - 2)

    chatty()
    broken()
    huge()


flow()
"""


def test_a_cancelled_task_gets_sigterm_and_reports_its_real_exit_code(harness: Harness) -> None:
    async def scenario() -> worker_pb2.TaskFinished:
        entry, task = harness.start(bash("echo ready; exec sleep 30"))
        await harness.when_output(1, b"ready")
        entry.request_stop(Stop("cancelled by a person", wire.Outcome.CANCELLED, 5.0))
        return (await asyncio.wait_for(task, 30)).finished

    finished = asyncio.run(scenario())
    assert (finished.outcome, finished.exit_code, finished.error) == (
        worker_pb2.TASK_OUTCOME_CANCELLED,
        -signal.SIGTERM,
        "cancelled by a person",
    )


def test_a_task_that_ignores_sigterm_is_killed_once_the_grace_has_passed(harness: Harness) -> None:
    async def scenario() -> tuple[worker_pb2.TaskFinished, float]:
        entry, task = harness.start(bash("trap '' TERM; echo ready; while true; do sleep 0.1; done"))
        await harness.when_output(1, b"ready")
        began = asyncio.get_running_loop().time()
        entry.request_stop(Stop("cancelled", wire.Outcome.CANCELLED, 0.5))
        finished = (await asyncio.wait_for(task, 30)).finished
        return finished, asyncio.get_running_loop().time() - began

    finished, took = asyncio.run(scenario())
    assert (finished.outcome, finished.exit_code) == (worker_pb2.TASK_OUTCOME_CANCELLED, -signal.SIGKILL)
    assert 0.5 <= took < 10


def test_a_second_stop_without_grace_kills_at_once(harness: Harness) -> None:
    async def scenario() -> worker_pb2.TaskFinished:
        entry, task = harness.start(bash("trap 'echo got-term' TERM; echo ready; while true; do sleep 0.1; done"))
        await harness.when_output(1, b"ready")
        entry.request_stop(Stop("worker shut down", wire.Outcome.LOST, 60.0))
        await harness.when_output(1, b"got-term")
        entry.request_stop(Stop("worker shut down", wire.Outcome.LOST, 0.0))
        return (await asyncio.wait_for(task, 20)).finished

    finished = asyncio.run(scenario())
    assert (finished.outcome, finished.exit_code) == (worker_pb2.TASK_OUTCOME_LOST, -signal.SIGKILL)


def test_an_execution_timeout_terminates_the_task_and_says_so(harness: Harness) -> None:
    finished = asyncio.run(harness.run(bash("exec sleep 30"), timeout_ms=300))
    assert (finished.outcome, finished.exit_code, finished.error) == (
        worker_pb2.TASK_OUTCOME_TIMED_OUT,
        -signal.SIGTERM,
        "execution_timeout of 0.3s exceeded",
    )


def test_output_is_sent_in_chunks_no_larger_than_the_limit(harness: Harness) -> None:
    harness.limits = Limits(max_log_chunk_bytes=1000)
    finished = asyncio.run(harness.run(bash("yes x | head -c 300000")))
    assert finished.outcome == worker_pb2.TASK_OUTCOME_SUCCESS
    chunks = [m.log.data for m in harness.messages if m.WhichOneof("body") == "log"]
    assert max(len(c) for c in chunks) <= 1000
    assert b"".join(chunks) == b"x\n" * 150000


def test_a_failed_python_task_exits_non_zero_and_info_logging_reaches_its_log(harness: Harness, tmp_path: Path) -> None:
    bundle = harness.dag_file(tmp_path / "dags", FLOW)
    chatty = asyncio.run(harness.run(python(bundle, "chatty")))
    assert (chatty.outcome, chatty.exit_code, chatty.return_value_json) == (worker_pb2.TASK_OUTCOME_SUCCESS, 0, "1")
    assert b"INFO - info from the task" in harness.output(1)
    broken = asyncio.run(harness.run(python(bundle, "broken")))
    assert (broken.outcome, broken.exit_code, broken.error) == (
        worker_pb2.TASK_OUTCOME_FAILED,
        1,
        "ValueError: no good",
    )


def test_a_return_value_over_the_limit_fails_the_task_and_is_never_sent(harness: Harness, tmp_path: Path) -> None:
    finished = asyncio.run(harness.run(python(harness.dag_file(tmp_path / "dags", FLOW), "huge")))
    assert (finished.outcome, finished.error, finished.return_value_json) == (
        worker_pb2.TASK_OUTCOME_FAILED,
        "return value is 40.0 MB; the limit is 1 MB",
        "",
    )


def test_errors_are_cut_to_the_limit(harness: Harness) -> None:
    harness.limits = Limits(max_error_bytes=10)
    finished = asyncio.run(harness.run(bash("exit 3")))
    assert finished.error == "Bash comma"


def test_each_bundle_imports_its_own_helper_module(harness: Harness, tmp_path: Path) -> None:
    hashes = []
    for name in ("A", "B"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "helper.py").write_text(f"NAME = {name!r}\n")
        (folder / "flow.py").write_text(
            """
import helper

from tradewind import dag, task


@dag(schedule=None)
def flow():
    @task
    def early():
        return helper.NAME

    @task
    def late():
        import helper as again

        return again.NAME

    early()
    late()


flow()
"""
        )
        hashes.append(harness.bundle(folder))

    async def scenario() -> list[str]:
        values = []
        for bundle_hash in hashes:
            for task_id in ("early", "late"):
                finished = await harness.run(python(bundle_hash, task_id))
                assert finished.outcome == worker_pb2.TASK_OUTCOME_SUCCESS, finished.error
                values.append(finished.return_value_json)
        return values

    assert asyncio.run(scenario()) == ['"A"', '"A"', '"B"', '"B"']


def test_a_bundle_that_cannot_be_fetched_is_lost_not_failed(harness: Harness) -> None:
    finished = asyncio.run(harness.run(python("0" * 64, "chatty")))
    assert finished.outcome == worker_pb2.TASK_OUTCOME_LOST
    assert finished.error.startswith("cannot fetch the DAG bundle")


EARLY = """
import os
import time

from tradewind import dag, task


@dag(schedule=None)
def flow():
    @task
    def busy():
        end = time.process_time() + 0.2
        while time.process_time() < end:
            pass
        return 2

    @task
    def closes_its_output():
        print("before", flush=True)
        os.close(1)
        os.close(2)
        time.sleep(0.2)
        return 5

    busy()
    closes_its_output()


flow()
"""


def test_a_python_task_reports_its_own_usage_when_its_output_ends_and_waits_for_its_exit_otherwise(
    harness: Harness, tmp_path: Path
) -> None:
    bundle = harness.dag_file(tmp_path / "dags", EARLY)
    busy = asyncio.run(harness.run(python(bundle, "busy")))
    assert (busy.outcome, busy.exit_code, busy.return_value_json) == (worker_pb2.TASK_OUTCOME_SUCCESS, 0, "2")
    assert busy.usage.cpu_user_seconds + busy.usage.cpu_system_seconds >= 0.15 and busy.usage.max_rss_bytes > 0
    closed = asyncio.run(harness.run(python(bundle, "closes_its_output")))
    assert (closed.outcome, closed.exit_code, closed.return_value_json) == (worker_pb2.TASK_OUTCOME_SUCCESS, 0, "5")
    assert harness.output(2) == b"before\n"
