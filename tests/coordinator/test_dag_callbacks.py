"""DAG run callbacks run in fork-server children with a time limit, logged per run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.dag_callbacks import DagCallbacks, read_callback_log
from coordinator.events import Acked, AttemptRef, Finished
from coordinator.scheduling.effects import RunCallback
from tests.coordinator.conftest import Harness, dag, task
from tests.harness import assert_eventually
from tradewind.forkserver import ForkServer
from tradewind.states import RunState
from tradewind.wire import Outcome

SLOW = """
import time
from tradewind import DAG, EmptyOperator

def slow(context):
    print("starting", context["reason"], context["dag_run"].run_id, flush=True)
    time.sleep(60)

with DAG("slow", schedule=None, on_failure_callback=slow):
    EmptyOperator(task_id="a")
"""


@pytest.fixture
def forkserver() -> Iterator[ForkServer]:
    server = ForkServer()
    server.start()
    yield server
    server.close()


def test_a_dag_callback_past_its_time_limit_is_stopped_and_the_log_says_so(
    tmp_path: Path, forkserver: ForkServer
) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "slow.py").write_text(SLOW)
    callbacks = DagCallbacks(forkserver, tmp_path / "dags", tmp_path / "logs", timeout=3.0)
    run = {"dag_id": "slow", "run_id": "r1", "state": "failed", "logical_date": None, "conf": {}}
    started = time.monotonic()
    callbacks.submit(RunCallback("slow", "r1", "slow.py", "on_failure_callback", "task_failure", run))

    def stopped() -> bool:
        return b"stopped after 3s" in read_callback_log(tmp_path / "logs", "slow", "r1")

    assert_eventually(stopped, 20, "the slow callback to be stopped")
    assert time.monotonic() - started < 15
    text = read_callback_log(tmp_path / "logs", "slow", "r1").decode()
    assert "on_failure_callback of DAG run r1 (task_failure)" in text and "starting task_failure r1" in text
    callbacks.close()


def test_a_run_ending_asks_for_its_callback_with_airflows_reason_but_not_when_cancelled(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")], callbacks=["on_success_callback", "on_failure_callback"]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "r1", None, False)
    (ti,) = harness.assignments(harness.turn())
    ref = AttemptRef(ti.id, 1, ti.token)
    harness.scheduler.acked(Acked("w1", ref, True, "", generation=harness.gen()))
    harness.scheduler.finished(Finished("w1", ref, Outcome.FAILED, 1, "", "", None, generation=harness.gen()))
    effects = harness.turn()
    (callback,) = [e for e in effects if isinstance(e, RunCallback)]
    assert (callback.kind, callback.reason, callback.run["state"]) == ("on_failure_callback", "task_failure", "failed")
    assert run.state is RunState.FAILED
    cancelled = harness.scheduler.trigger("d", {}, "r2", None, False)
    harness.scheduler.cancel_run(cancelled)
    assert not [e for e in harness.turn() if isinstance(e, RunCallback)]
