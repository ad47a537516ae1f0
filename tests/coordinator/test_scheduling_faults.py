"""Faults the scheduling core must survive: losses, refusals, cancels, reconnects, bad reports."""

from __future__ import annotations

import pytest

from coordinator.events import Acked, AttemptRef, Finished, Started
from coordinator.scheduling.effects import Assign, Cancel, CloseStream, WatchWorker, WriteLog
from coordinator.sessions import WorkerSession
from tests.coordinator.conftest import Harness, dag, task
from tradewind.exceptions import AlreadyExists, FailedPrecondition
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome, Refusal, WaitReason

T = TaskState


def ref(ti) -> AttemptRef:
    return AttemptRef(ti.id, ti.try_number, ti.token)


def ack(h: Harness, ti, worker: str = "w1") -> None:
    h.scheduler.acked(Acked(worker, ref(ti), True, "", generation=h.gen(worker)))
    h.check()


def start(h: Harness, ti, worker: str = "w1") -> None:
    ack(h, ti, worker)
    h.scheduler.started(Started(worker, ref(ti), None, generation=h.gen(worker)))
    h.check()


def finish(h: Harness, attempt: AttemptRef, outcome: Outcome, worker: str = "w1", exit_code: int = 0, gen=None) -> None:
    generation = h.gen(worker) if gen is None else gen
    h.scheduler.finished(Finished(worker, attempt, outcome, exit_code, "", "", None, generation=generation))
    h.check()


def refuse(h: Harness, ti, refusal: Refusal, worker: str = "w1") -> None:
    h.scheduler.acked(Acked(worker, ref(ti), False, "nope", refusal, generation=h.gen(worker)))
    h.check()


def cancels(effects) -> list[Cancel]:
    return [e for e in effects if isinstance(e, Cancel)]


def one_task(h: Harness, **extra) -> None:
    h.add_dag(dag("d", [task("a", **extra)]))


def test_template_error_with_retries_goes_up_for_retry_and_writes_the_error_to_the_log(harness: Harness) -> None:
    one_task(harness, retries=1, bash={"bash_command": "echo {{ dag_run.conf['x'] }}", "env": None, "cwd": None})
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    effects = harness.turn()
    ti = run.tis["a"]
    assert ti.state is T.UP_FOR_RETRY
    (written,) = [e for e in effects if isinstance(e, WriteLog)]
    assert written.try_number == 1 and "template did not render" in written.text
    assert "template did not render" in ti.attempt.error


def test_clearing_a_running_task_cancels_the_old_token_and_keeps_its_slot_until_reported(harness: Harness) -> None:
    one_task(harness)
    w1 = harness.worker(slots=1)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    start(harness, ti)
    old, old_attempt = ref(ti), ti.attempt
    harness.scheduler.clear(run, ["a"], include_downstream=False)
    harness.check()
    effects = harness.turn()
    (cancel,) = cancels(effects)
    assert cancel.attempt == old and ti.token != old.token
    assert harness.assignments(effects) == [] and w1.free == 0  # the old process still runs there
    finish(harness, old, Outcome.CANCELLED, exit_code=-15)
    assert old_attempt.exit_code == -15 and old_attempt.ended_at is not None
    (again,) = harness.assignments(harness.turn())
    assert again is ti and ti.try_number == 2 and ti.state is T.QUEUED


def test_marking_a_running_task_cancels_its_attempt_and_the_late_report_keeps_the_exit_code(harness: Harness) -> None:
    one_task(harness)
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    start(harness, ti)
    old = ref(ti)
    harness.scheduler.mark(run, "a", T.FAILED)
    harness.check()
    (cancel,) = cancels(harness.turn())
    assert cancel.attempt == old and run.state is RunState.FAILED
    finish(harness, old, Outcome.CANCELLED, exit_code=-9)
    assert ti.attempt.exit_code == -9 and ti.state is T.FAILED


def test_cancelling_a_run_cancels_running_attempts_by_their_token(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a"), task("b")]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    a, b = harness.assignments(harness.turn())
    start(harness, a)
    harness.scheduler.cancel_run(run)
    harness.check()
    assert {c.attempt for c in cancels(harness.turn())} == {ref(a), ref(b)}
    assert run.state is RunState.FAILED
    assert harness.scheduler.workers["w1"].free == 3  # a's process holds its slot until reported
    finish(harness, ref(a), Outcome.CANCELLED, exit_code=-15)
    assert a.attempt.exit_code == -15 and harness.scheduler.workers["w1"].free == 4


def test_expired_ack_cancels_the_old_token_and_runs_the_try_as_a_new_attempt_row(harness: Harness) -> None:
    one_task(harness)
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    first, old = ti.attempt, ref(ti)
    harness.advance(6)
    effects = harness.turn()
    (cancel,) = cancels(effects)
    (again,) = harness.assignments(effects)
    assert cancel.attempt == old and again is ti and ti.attempt is not first
    assert ti.try_number == 1 and first.lost and "did not acknowledge" in first.error
    # The worker had started the first attempt after all: its reports land on its own row.
    harness.scheduler.started(Started("w1", old, None, generation=harness.gen()))
    finish(harness, old, Outcome.SUCCESS)
    assert first.started_at is not None and first.exit_code == 0 and first.state is T.SUCCESS
    assert ti.state is T.QUEUED and run.state is RunState.RUNNING


@pytest.mark.parametrize("times", [3, 4])
def test_infrastructure_losses_rerun_the_try_up_to_three_times_then_fail(harness: Harness, times: int) -> None:
    one_task(harness)
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    attempts = []
    for _ in range(times):
        (ti,) = harness.assignments(harness.turn())
        attempts.append(ti.attempt)
        start(harness, ti)
        finish(harness, ref(ti), Outcome.LOST)
    assert all(a.lost and a.try_number == 1 for a in attempts)
    assert len({a.id for a in attempts}) == times
    if times == 3:
        assert ti.state is T.SCHEDULED and ti.try_number == 1
    else:
        assert ti.state is T.FAILED and "lost 4 times" in ti.attempt.error and run.state is RunState.FAILED


def test_refusal_other_goes_to_another_worker_and_never_back(harness: Harness) -> None:
    one_task(harness)
    harness.worker("w1")
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    refuse(harness, ti, Refusal.OTHER)
    assert harness.assignments(harness.turn()) == []  # no hot loop back to w1
    assert harness.scheduler.explain(ti)[0][0] is WaitReason.NO_WORKER
    assert "refused by w1" in harness.scheduler.explain(ti)[0][1]
    harness.worker("w2")
    effects = harness.turn()
    assert [(e.worker, e.ti) for e in effects if isinstance(e, Assign)] == [("w2", ti)]
    assert run.tis["a"].try_number == 1


def test_a_task_instance_a_worker_refused_does_not_hold_back_the_rest_of_its_group(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a", priority_weight=10), task("b")]))
    harness.worker("w1", slots=1)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (first,) = harness.assignments(harness.turn())
    assert first is run.tis["a"]
    refuse(harness, first, Refusal.OTHER)
    (second,) = harness.assignments(harness.turn())
    assert second is run.tis["b"] and run.tis["a"].state is T.SCHEDULED


def test_refusal_no_free_slot_blocks_the_worker_until_one_of_its_attempts_ends(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a"), task("b")]))
    harness.worker("w1", slots=4)
    harness.scheduler.trigger("d", {}, "", None, False)
    a, b = harness.assignments(harness.turn())
    start(harness, a)
    refuse(harness, b, Refusal.NO_FREE_SLOT)
    assert harness.assignments(harness.turn()) == []
    finish(harness, ref(a), Outcome.SUCCESS)
    (again,) = harness.assignments(harness.turn())
    assert again is b


def test_refusal_no_free_slot_from_a_worker_holding_nothing_known_blocks_it_for_the_ack_timeout(
    harness: Harness,
) -> None:
    one_task(harness)
    harness.worker("w1")
    harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    refuse(harness, ti, Refusal.NO_FREE_SLOT)
    assert harness.assignments(harness.turn()) == []
    harness.advance(5)
    (again,) = harness.assignments(harness.turn())
    assert again is ti and ti.losses == 1


def test_refusal_unsupported_kind_drops_the_kind_and_draining_stops_assignments(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("a"), task("p", kind="python", python={"callable": "f"})]))
    w1 = harness.worker("w1")
    harness.scheduler.trigger("d", {}, "", None, False)
    effects = harness.turn()
    by_task = {ti.task_id: ti for ti in harness.assignments(effects)}
    refuse(harness, by_task["p"], Refusal.UNSUPPORTED_KIND)
    assert "python" not in w1.kinds
    refuse(harness, by_task["a"], Refusal.DRAINING)
    assert w1.draining and harness.assignments(harness.turn()) == []


def test_reports_count_only_from_the_session_the_attempt_was_assigned_to(harness: Harness) -> None:
    one_task(harness)
    harness.worker("w1")
    harness.worker("w2")
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    owner = ti.worker
    other = "w2" if owner == "w1" else "w1"
    finish(harness, ref(ti), Outcome.SUCCESS, worker=other)
    finish(harness, ref(ti), Outcome.SUCCESS, worker=owner, gen=harness.gen(owner) + 100)
    assert ti.state is T.QUEUED and run.state is RunState.RUNNING
    finish(harness, ref(ti), Outcome.SUCCESS, worker=owner)
    assert ti.state is T.SUCCESS


def test_a_second_worker_with_a_live_name_is_refused_and_a_reconnect_is_not(harness: Harness) -> None:
    harness.worker("w1")
    with pytest.raises(AlreadyExists, match="worker name 'w1' is in use by a live worker"):
        harness.scheduler.join(WorkerSession("w1", ("default",), frozenset({"bash"}), 1, instance_id="other"), ())
    harness.scheduler.join(WorkerSession("w1", ("default",), frozenset({"bash"}), 1, instance_id="w1-1"), ())
    harness.check()


def test_a_lost_connected_worker_has_its_stream_closed(harness: Harness) -> None:
    harness.worker("w1")
    generation = harness.gen()
    harness.clock.advance(11)  # no heartbeats
    effects = harness.turn()
    assert CloseStream("w1", generation, effects[-1].reason) in effects
    assert "w1" not in harness.scheduler.workers


def test_a_drained_worker_that_leaves_with_nothing_running_has_left_not_lost(harness: Harness) -> None:
    harness.worker("w1")
    harness.scheduler.drain("w1")
    harness.scheduler.left("w1", harness.gen())
    harness.check()
    assert harness.scheduler.changes.workers["w1"]["state"] == "left"
    assert "w1" not in harness.scheduler.workers



def test_an_idle_worker_whose_stream_breaks_without_draining_is_lost_not_left(harness: Harness) -> None:
    harness.worker("w1")
    harness.scheduler.left("w1", harness.gen())
    harness.check()
    assert harness.scheduler.workers["w1"].state == "disconnected"
    assert harness.scheduler.workers["w1"].free == 0
    harness.clock.advance(harness.scheduler.heartbeat_timeout + 0.1)
    effects = harness.turn()
    assert "w1" not in harness.scheduler.workers
    ended = [e.ended for e in effects if isinstance(e, WatchWorker) and e.worker.name == "w1"]
    assert ended and ended[-1] is not None and ended[-1][0] == "lost"

def test_duration_after_a_retry_counts_from_the_current_try(harness: Harness) -> None:
    one_task(harness, retries=1, retry_delay=0.0)
    harness.worker()
    harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    start(harness, ti)
    finish(harness, ref(ti), Outcome.FAILED, exit_code=1)
    harness.advance(60)
    (ti,) = harness.assignments(harness.turn())
    start(harness, ti)
    assert ti.start_date == harness.clock.now()


def test_missing_pool_is_explained_and_a_pool_with_waiting_tasks_cannot_be_deleted(harness: Harness) -> None:
    harness.scheduler.set_pool("db", 1)
    harness.add_dag(dag("d", [task("a", pool="nope"), task("b", pool="db"), task("c", pool="db")]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    harness.turn()
    assert harness.scheduler.explain(run.tis["a"])[0][0] is WaitReason.POOL_MISSING
    waiting = next(ti for ti in (run.tis["b"], run.tis["c"]) if ti.state is T.SCHEDULED)
    assert harness.scheduler.explain(waiting)[0] == (
        WaitReason.POOL_FULL,
        "pool 'db' has 1 of 1 slots in use; it needs 1",
    )
    with pytest.raises(FailedPrecondition, match="pool 'db' cannot be deleted: 1 task instances wait"):
        harness.scheduler.delete_pool("db")


def test_explain_names_upstream_retry_delay_ack_and_max_active_tasks(harness: Harness) -> None:
    harness.add_dag(
        dag("d", [task("a", retries=1, retry_delay=30.0), task("b", ["a"]), task("c"), task("e")], max_active_tasks=2)
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    first, second = harness.assignments(harness.turn())
    assert harness.scheduler.explain(run.tis["b"])[0][0] is WaitReason.UPSTREAM
    assert harness.scheduler.explain(first) == [
        (WaitReason.WAITING_FOR_ACK, "sent to worker 'w1', which has not acknowledged it (ack timeout 5s)")
    ]
    third = next(ti for ti in run.tis.values() if ti.state is T.SCHEDULED)
    assert harness.scheduler.explain(third)[0][0] is WaitReason.MAX_ACTIVE_TASKS
    a = run.tis["a"]
    if a.state is T.QUEUED:
        start(harness, a)
        finish(harness, ref(a), Outcome.FAILED, exit_code=1)
        reason, message = harness.scheduler.explain(a)[0]
        assert reason is WaitReason.RETRY_DELAY and "in 30s" in message


def test_expected_worker_after_a_restart_is_lost_within_the_rejoin_window(harness: Harness) -> None:
    session = WorkerSession("w9", (), frozenset(), 0)
    harness.scheduler.expect(session)
    harness.clock.advance(harness.scheduler.rejoin_window + 0.01)
    harness.turn()
    assert "w9" not in harness.scheduler.workers
    assert harness.scheduler.rejoin_window == 4.0  # two heartbeat intervals of 2 s


def test_an_illegal_move_fails_that_task_instance_with_the_message(harness: Harness) -> None:
    from tradewind.exceptions import StateTransitionError

    one_task(harness)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    ti = run.tis["a"]
    with pytest.raises(StateTransitionError, match="cannot go from scheduled to running"):
        harness.scheduler._set_state(ti, T.RUNNING)
    assert ti.state is T.FAILED and "cannot go from scheduled to running" in ti.attempt.error
    assert run.state is RunState.FAILED
    harness.check()


def test_the_invariant_check_notices_counters_that_disagree(harness: Harness) -> None:
    from coordinator.scheduling.slots import invariant_errors

    one_task(harness)
    harness.worker()
    harness.scheduler.trigger("d", {}, "", None, False)
    harness.turn()
    harness.scheduler.pool_used["default_pool"] += 1
    harness.scheduler.on_workers = 0
    errors = invariant_errors(harness.scheduler)
    assert any("pool 'default_pool' used is 2, held 1" in e for e in errors)
    assert any("on_workers is 0, but workers hold 1" in e for e in errors)
