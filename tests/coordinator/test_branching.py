"""The scheduler acting on a task's choice of downstream tasks (TaskFinished.follow) and on
multiple_outputs, with the scheduler's invariants checked after every event."""

from __future__ import annotations

from coordinator.events import Acked, AttemptRef, Finished, Started
from coordinator.sessions import WorkerSession
from coordinator.worker_messages import finished_from_pb
from tests.coordinator.conftest import Harness, dag, task
from tradewind.skipping import FollowTasks
from tradewind.states import RunState, TaskState
from tradewind.v1 import common_pb2, worker_pb2
from tradewind.wire import Outcome

T = TaskState


def finish(h: Harness, ti, follow: FollowTasks | None = None, value: str = "") -> None:
    gen = h.gen("w1")
    ref = AttemptRef(ti.id, ti.try_number, ti.token)
    h.scheduler.acked(Acked("w1", ref, True, "", generation=gen))
    h.scheduler.started(Started("w1", ref, None, generation=gen))
    h.scheduler.finished(Finished("w1", ref, Outcome.SUCCESS, 0, "", value, None, generation=gen, follow=follow))
    h.check()


def run_all(h: Harness, choices: dict[str, FollowTasks]) -> list[str]:
    """Run every task the scheduler hands out until none is left; returns the order they ran in."""
    ran = []
    while tis := h.assignments(h.turn()):
        for ti in tis:
            ran.append(ti.task_id)
            finish(h, ti, choices.get(ti.task_id))
    return ran


def test_a_branch_skips_the_direct_downstream_tasks_it_did_not_choose_and_the_join_runs(harness: Harness) -> None:
    harness.add_dag(
        dag(
            "d",
            [
                task("branch"),
                task("left", ["branch"]),
                task("right", ["branch"]),
                task("after_right", ["right"]),
                task("join", ["left", "after_right"], trigger_rule="none_failed_min_one_success"),
            ],
        )
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    ran = run_all(harness, {"branch": FollowTasks(("left",))})
    assert ran == ["branch", "left", "join"]
    assert {k: v.state for k, v in run.tis.items()} == {
        "branch": T.SUCCESS,
        "left": T.SUCCESS,
        "right": T.SKIPPED,
        "after_right": T.SKIPPED,
        "join": T.SUCCESS,
    }
    assert run.state is RunState.SUCCESS


def test_a_direct_downstream_task_that_is_also_downstream_of_the_chosen_one_is_not_skipped(harness: Harness) -> None:
    harness.add_dag(
        dag(
            "d",
            [
                task("branch"),
                task("work", ["branch"]),
                task("join", ["branch", "work"], trigger_rule="none_failed_min_one_success"),
            ],
        )
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"branch": FollowTasks(("work",))}) == ["branch", "work", "join"]
    assert run.tis["join"].state is T.SUCCESS


def test_choosing_none_skips_every_direct_downstream_task(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("branch"), task("a", ["branch"]), task("b", ["branch"]), task("c", ["a"])]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"branch": FollowTasks(())}) == ["branch"]
    assert [run.tis[t].state for t in ("a", "b", "c")] == [T.SKIPPED] * 3
    assert run.state is RunState.SUCCESS


def test_a_choice_that_is_not_a_direct_downstream_task_fails_the_task_naming_it(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("branch"), task("a", ["branch"]), task("c", ["a"])]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"branch": FollowTasks(("c",))}) == ["branch"]
    branch = run.tis["branch"]
    assert branch.state is T.FAILED
    assert branch.attempt is not None
    assert "chose task 'c', which is not one of its direct downstream tasks (a)" in branch.attempt.error
    assert run.tis["a"].state is T.UPSTREAM_FAILED
    assert run.state is RunState.FAILED


def test_skip_all_downstream_skips_every_descendant_whatever_its_trigger_rule(harness: Harness) -> None:
    harness.add_dag(
        dag(
            "d",
            [
                task("check"),
                task("a", ["check"]),
                task("b", ["a"], trigger_rule="all_done"),
                task("c", ["b"], trigger_rule="always"),
            ],
        )
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"check": FollowTasks(skip_all_downstream=True)}) == ["check"]
    assert [run.tis[t].state for t in ("check", "a", "b", "c")] == [T.SUCCESS, T.SKIPPED, T.SKIPPED, T.SKIPPED]
    assert run.state is RunState.SUCCESS


def test_skipping_only_direct_downstream_lets_trigger_rules_decide_the_rest(harness: Harness) -> None:
    harness.add_dag(
        dag("d", [task("check"), task("a", ["check"]), task("b", ["a"], trigger_rule="all_done"), task("c", ["b"])])
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"check": FollowTasks(())}) == ["check", "b", "c"]
    assert run.tis["a"].state is T.SKIPPED
    assert run.tis["b"].state is T.SUCCESS


def test_multiple_outputs_stores_each_key_of_the_returned_dict_as_its_own_xcom(harness: Harness) -> None:
    harness.add_dag(
        dag("d", [task("extract", kind="python", python={"callable": "f", "multiple_outputs": True}, bash=None)])
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    (ti,) = harness.assignments(harness.turn())
    finish(harness, ti, value='{"total": 3, "names": ["a", "b"]}')
    assert run.xcoms == {
        ("extract", -1, "return_value"): '{"total": 3, "names": ["a", "b"]}',
        ("extract", -1, "total"): "3",
        ("extract", -1, "names"): '["a", "b"]',
    }


def test_a_follow_that_breaks_a_wire_rule_fails_the_task_instead_of_the_stream() -> None:
    session = WorkerSession("w1", ("default",), frozenset({"python"}), 1)
    attempt = common_pb2.Attempt(task_instance_id=1, try_number=1, attempt_token="t")

    def finished(follow: worker_pb2.FollowTasks) -> Finished:
        message = worker_pb2.TaskFinished(attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_SUCCESS, follow=follow)
        return finished_from_pb(message, session)

    good = finished(worker_pb2.FollowTasks(task_ids=["a", "b"]))
    assert (good.outcome, good.follow) == (Outcome.SUCCESS, FollowTasks(("a", "b")))
    bad_id = finished(worker_pb2.FollowTasks(task_ids=["a b"]))
    assert (bad_id.outcome, bad_id.error, bad_id.follow) == (
        Outcome.FAILED,
        "finished.follow: 'a b' is not a task id",
        None,
    )
    both = finished(worker_pb2.FollowTasks(task_ids=["a"], skip_all_downstream=True))
    assert both.outcome is Outcome.FAILED and "task_ids must be empty" in both.error
    unset = finished_from_pb(
        worker_pb2.TaskFinished(attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_SUCCESS), session
    )
    assert unset.follow is None


def test_a_task_the_branch_skipped_stays_skipped_when_cleared_alone(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("branch"), task("left", ["branch"]), task("right", ["branch"])]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"branch": FollowTasks(("left",))}) == ["branch", "left"]
    assert run.xcoms[("branch", -1, "skipmixin_key")] == '{"skipped": ["right"]}'
    harness.scheduler.adopt_run(run)
    harness.scheduler.clear(run, ["right"], include_downstream=False)
    harness.check()
    assert run_all(harness, {}) == []
    assert run.tis["right"].state is T.SKIPPED
    assert run.state is RunState.SUCCESS


def test_clearing_the_branch_chooses_again(harness: Harness) -> None:
    harness.add_dag(dag("d", [task("branch"), task("left", ["branch"]), task("right", ["branch"])]))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    run_all(harness, {"branch": FollowTasks(("left",))})
    harness.scheduler.adopt_run(run)
    harness.scheduler.clear(run, ["branch"], include_downstream=True)
    harness.check()
    assert run_all(harness, {"branch": FollowTasks(("right",))}) == ["branch", "right"]
    assert (run.tis["left"].state, run.tis["right"].state) == (T.SKIPPED, T.SUCCESS)
