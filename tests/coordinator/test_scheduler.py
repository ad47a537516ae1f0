from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coordinator.events import Acked, AttemptRef, Finished, Started
from coordinator.scheduling.effects import Assign
from tests.coordinator.conftest import Harness, dag, task
from tradewind.exceptions import FailedPrecondition, NotFound
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome


def ref(ti) -> AttemptRef:
    return AttemptRef(ti.id, ti.try_number, ti.token)


def run_to_end(h: Harness, ti, outcome: str = "success", worker: str = "w1", **extra) -> None:
    gen = h.gen(worker)
    h.scheduler.acked(Acked(worker, ref(ti), True, "", generation=gen))
    h.check()
    h.scheduler.started(Started(worker, ref(ti), None, generation=gen))
    h.check()
    h.scheduler.finished(
        Finished(
            worker,
            ref(ti),
            Outcome(outcome),
            0 if outcome == "success" else 1,
            extra.pop("error", ""),
            extra.pop("value", ""),
            None,
            generation=gen,
        )
    )
    h.check()


def test_chain_runs_in_order_and_run_succeeds(harness: Harness) -> None:
    harness.add_dag(dag("etl", [task("a"), task("b", ["a"]), task("c", ["b"])]))
    harness.worker()
    run = harness.scheduler.trigger("etl", {}, "", None, False)
    order = []
    for _ in range(3):
        (ti,) = harness.assignments(harness.turn())
        order.append(ti.task_id)
        run_to_end(harness, ti)
    harness.turn()
    assert order == ["a", "b", "c"]
    assert run.state is RunState.SUCCESS
    assert {ti.state for ti in run.tis.values()} == {TaskState.SUCCESS}


def test_failed_middle_task_retries_then_fails_and_downstream_is_upstream_failed(harness: Harness) -> None:
    harness.add_dag(dag("etl", [task("a"), task("b", ["a"], retries=2, retry_delay=30.0), task("c", ["b"])]))
    harness.worker()
    run = harness.scheduler.trigger("etl", {}, "", None, False)
    (a,) = harness.assignments(harness.turn())
    run_to_end(harness, a)
    tries = []
    for _ in range(3):
        (b,) = harness.assignments(harness.turn())
        tries.append(b.try_number)
        run_to_end(harness, b, "failed", error="boom")
        harness.turn()
        if b.state is TaskState.UP_FOR_RETRY:
            assert harness.assignments(harness.turn()) == []  # waits for retry_delay
            harness.advance(30)
    assert tries == [1, 2, 3]
    assert run.tis["b"].state is TaskState.FAILED
    assert run.tis["c"].state is TaskState.UPSTREAM_FAILED
    assert run.state is RunState.FAILED


def test_exponential_backoff_doubles_the_delay(harness: Harness) -> None:
    spec = harness.add_dag(
        dag("d", [task("a", retry_delay=10.0, retry_exponential_backoff=True, max_retry_delay=25.0)])
    )
    assert [spec.retry_delay("a", n) for n in (1, 2, 3)] == [10.0, 20.0, 25.0]


def test_skip_propagates_through_all_success_but_not_all_done(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a"), task("b", ["a"]), task("c", ["b"], trigger_rule="all_done")]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (a,) = harness.assignments(harness.turn())
    run_to_end(harness, a, "skipped")
    (c,) = harness.assignments(harness.turn())
    assert run.tis["b"].state is TaskState.SKIPPED
    assert c.task_id == "c"


def test_queue_routing_sends_tasks_only_to_workers_serving_their_queue(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("one"), task("two", queue="q2")]))
    harness.worker("w1", queues=("default",))
    harness.worker("w2", queues=("q2",))
    harness.scheduler.trigger("d", {}, "", None, False)
    effects = harness.turn()
    placed = {e.ti.task_id: e.worker for e in effects if isinstance(e, Assign)}
    assert placed == {"one": "w1", "two": "w2"}


def test_priority_weight_orders_the_queue(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("low", priority_weight=1), task("high", priority_weight=10)]))
    harness.scheduler.trigger("d", {}, "", None, False)
    harness.turn()
    harness.worker(slots=1)
    (first,) = harness.assignments(harness.turn())
    assert first.task_id == "high"


def test_pool_slots_limit_concurrency(harness: Harness) -> None:
    harness.scheduler.set_pool("small", 1)
    harness.add_dag(dag("d", [task("a", pool="small"), task("b", pool="small")]))
    harness.worker(slots=4)
    harness.scheduler.trigger("d", {}, "", None, False)
    (first,) = harness.assignments(harness.turn())
    run_to_end(harness, first)
    (second,) = harness.assignments(harness.turn())
    assert {first.task_id, second.task_id} == {"a", "b"}


def test_sequential_executor_runs_one_task_at_a_time(harness: Harness) -> None:
    harness.scheduler.sequential = True
    harness.add_dag(dag("d", [task("a"), task("b"), task("c")]))
    harness.worker(slots=8)
    harness.scheduler.trigger("d", {}, "", None, False)
    assert len(harness.assignments(harness.turn())) == 1


def test_max_active_tasks_limits_a_dag(harness: Harness) -> None:
    harness.add_dag(dag("d", [task(f"t{i}") for i in range(5)], max_active_tasks=2))
    harness.worker(slots=8)
    harness.scheduler.trigger("d", {}, "", None, False)
    assert len(harness.assignments(harness.turn())) == 2


def test_max_active_runs_queues_extra_runs(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")], max_active_runs=1))
    first = harness.scheduler.trigger("d", {}, "r1", None, False)
    second = harness.scheduler.trigger("d", {}, "r2", None, False)
    assert (first.state, second.state) == (RunState.RUNNING, RunState.QUEUED)
    harness.worker()
    (ti,) = harness.assignments(harness.turn())
    run_to_end(harness, ti)
    assert second.state is RunState.RUNNING


def test_stale_result_from_an_old_attempt_is_ignored(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a", retries=1, retry_delay=0.0)]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    old = ref(ti)
    run_to_end(harness, ti, "failed")
    harness.turn()
    assert ti.try_number == 2
    harness.scheduler.finished(Finished("w1", old, Outcome.SUCCESS, 0, "", "", None, generation=harness.gen()))
    assert ti.state is TaskState.QUEUED
    assert run.state is RunState.RUNNING


def test_silent_worker_is_lost_and_the_same_try_runs_elsewhere_without_using_a_retry(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")]))
    w1 = harness.worker("w1")
    harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    first = ti.attempt
    harness.scheduler.acked(Acked("w1", ref(ti), True, "", generation=harness.gen()))
    harness.scheduler.started(Started("w1", ref(ti), None, generation=harness.gen()))
    harness.worker("w2")
    w1.connected = False
    harness.advance(11)
    effects = harness.turn()
    assert "w1" not in harness.scheduler.workers
    assert first.lost and "lost: no heartbeat" in first.error
    (again,) = harness.assignments(effects + harness.turn())
    assert again.worker == "w2" and again.try_number == 1 and again.attempt is not first
    assert w1.running == set()


def test_reconnecting_worker_reclaims_its_running_attempt(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")]))
    harness.worker("w1")
    harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    harness.scheduler.started(Started("w1", ref(ti), None, generation=harness.gen()))
    harness.scheduler.left("w1", harness.scheduler.workers["w1"].generation)
    from coordinator.sessions import WorkerSession

    reclaimed, rejected = harness.scheduler.join(WorkerSession("w1", ("default",), frozenset({"bash"}), 4), (ref(ti),))
    assert reclaimed == [ref(ti)] and rejected == []
    assert ti.id in harness.scheduler.workers["w1"].running


def test_unacknowledged_assignment_goes_back_to_the_queue(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")]))
    harness.worker("w1")
    harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    token = ti.token
    harness.advance(6)
    effects = harness.turn()
    again = harness.assignments(effects)
    assert again and again[0] is ti and ti.token != token and ti.try_number == 1


def test_clear_reruns_a_finished_task_with_a_new_try(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a"), task("b", ["a"])]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    for _ in range(2):
        (ti,) = harness.assignments(harness.turn())
        run_to_end(harness, ti)
    assert run.state is RunState.SUCCESS
    harness.scheduler.adopt_run(run)
    cleared = harness.scheduler.clear(run, ["a"], include_downstream=True)
    assert [t.task_id for t in cleared] == ["a", "b"]
    assert run.state is RunState.RUNNING
    (ti,) = harness.assignments(harness.turn())
    assert ti.task_id == "a" and ti.try_number == 2


def test_mark_success_lets_downstream_run(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a"), task("b", ["a"])]))
    run = harness.scheduler.trigger("d", {}, "", None, False)
    harness.scheduler.mark(run, "a", TaskState.SUCCESS)
    harness.worker()
    (ti,) = harness.assignments(harness.turn())
    assert ti.task_id == "b"


def test_trigger_errors_name_the_subject(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")]))
    with pytest.raises(NotFound, match="DAG 'nope' not found"):
        harness.scheduler.trigger("nope", {}, "", None, False)
    harness.scheduler.trigger("d", {}, "r1", None, False)
    with pytest.raises(FailedPrecondition, match="already has a run with run_id 'r1'"):
        harness.scheduler.trigger("d", {}, "r1", None, False)


def test_catchup_creates_one_run_per_missed_interval(harness: Harness) -> None:
    harness.clock._now = datetime(2024, 1, 4, 1, tzinfo=UTC)
    harness.add_dag(
        dag(
            "d",
            [task("a")],
            schedule={"kind": "preset", "expr": "@daily"},
            start_date="2024-01-01T00:00:00+00:00",
            catchup=True,
        )
    )
    runs = sorted(harness.scheduler.runs.values(), key=lambda r: r.logical_date)
    assert [r.logical_date.day for r in runs] == [1, 2, 3]
    assert runs[0].data_interval_end == datetime(2024, 1, 2, tzinfo=UTC)


def test_no_catchup_creates_only_the_latest_interval(harness: Harness) -> None:
    harness.clock._now = datetime(2024, 1, 4, 1, tzinfo=UTC)
    harness.add_dag(
        dag(
            "d",
            [task("a")],
            schedule={"kind": "preset", "expr": "@daily"},
            start_date="2024-01-01T00:00:00+00:00",
            catchup=False,
        )
    )
    (run,) = harness.scheduler.runs.values()
    assert run.logical_date == datetime(2024, 1, 3, tzinfo=UTC)


def test_empty_operator_succeeds_without_a_worker(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("start", kind="empty"), task("end", ["start"], kind="empty")]))
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run.state is RunState.SUCCESS


def test_paused_dag_starts_no_runs_until_unpaused(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a")]), paused=True)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run.state is RunState.QUEUED
    harness.scheduler.set_paused("d", False)
    assert run.state is RunState.RUNNING


def test_long_chain_of_upstream_failures_does_not_recurse(harness: Harness) -> None:
    tasks = [task("t0")] + [task(f"t{i}", [f"t{i - 1}"]) for i in range(1, 3000)]
    harness.add_dag(dag("d", tasks))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    run_to_end(harness, ti, "failed")
    assert run.state is RunState.FAILED
    assert run.tis["t2999"].state is TaskState.UPSTREAM_FAILED
