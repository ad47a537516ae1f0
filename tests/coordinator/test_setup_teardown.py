"""Setup and teardown tasks in the scheduler: the teardown rule, the setup constraint, run state
ignoring teardowns, and clearing taking setups and teardowns along."""

from __future__ import annotations

from coordinator.events import Acked, AttemptRef, Finished, Started
from tests.coordinator.conftest import Harness, dag, task
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome

T = TaskState


def finish(h: Harness, ti, outcome: Outcome) -> None:
    gen = h.gen("w1")
    ref = AttemptRef(ti.id, ti.try_number, ti.token)
    h.scheduler.acked(Acked("w1", ref, True, "", generation=gen))
    h.scheduler.started(Started("w1", ref, None, generation=gen))
    h.scheduler.finished(
        Finished("w1", ref, outcome, 0 if outcome is Outcome.SUCCESS else 1, "", "", None, generation=gen)
    )
    h.check()


def run_all(h: Harness, failing: set[str]) -> list[str]:
    ran = []
    while tis := h.assignments(h.turn()):
        for ti in tis:
            ran.append(ti.task_id)
            finish(h, ti, Outcome.FAILED if ti.task_id in failing else Outcome.SUCCESS)
    return ran


def teardown(task_id: str, upstream: list[str], fail_dagrun: bool = False) -> dict:
    return task(
        task_id, upstream, trigger_rule="all_done_setup_success", is_teardown=True, on_failure_fail_dagrun=fail_dagrun
    )


def cluster_dag(fail_dagrun: bool = False) -> dict:
    return dag(
        "d",
        [
            task("create", is_setup=True),
            task("work", ["create"]),
            task("more", ["work"]),
            teardown("delete", ["create", "more"], fail_dagrun),
        ],
    )


def states(run) -> dict[str, TaskState]:
    return {k: v.state for k, v in run.tis.items()}


def test_the_teardown_runs_after_the_work_failed_and_the_run_fails_for_the_work(harness: Harness) -> None:
    harness.add_dag(cluster_dag())
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"work"}) == ["create", "work", "delete"]
    assert states(run) == {"create": T.SUCCESS, "work": T.FAILED, "more": T.UPSTREAM_FAILED, "delete": T.SUCCESS}
    assert run.state is RunState.FAILED


def test_a_failed_teardown_does_not_fail_the_run(harness: Harness) -> None:
    harness.add_dag(cluster_dag())
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    run_all(harness, {"delete"})
    assert run.tis["delete"].state is T.FAILED and run.state is RunState.SUCCESS


def test_a_failed_teardown_with_on_failure_fail_dagrun_fails_the_run(harness: Harness) -> None:
    harness.add_dag(cluster_dag(fail_dagrun=True))
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    run_all(harness, {"delete"})
    assert run.state is RunState.FAILED


def test_a_failed_setup_makes_its_teardown_upstream_failed(harness: Harness) -> None:
    harness.add_dag(cluster_dag())
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"create"}) == ["create"]
    assert states(run) == {
        "create": T.FAILED,
        "work": T.UPSTREAM_FAILED,
        "more": T.UPSTREAM_FAILED,
        "delete": T.UPSTREAM_FAILED,
    }
    assert run.state is RunState.FAILED


def test_a_task_in_a_setups_scope_does_not_run_when_the_setup_failed_whatever_its_rule(harness: Harness) -> None:
    harness.add_dag(
        dag(
            "d",
            [
                task("create", is_setup=True),
                task("work", ["create"], trigger_rule="all_done"),
                task("report", ["work"], trigger_rule="all_done"),
                teardown("delete", ["create", "report"]),
            ],
        )
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert run_all(harness, {"create"}) == ["create", "work"]
    assert run.tis["report"].state is T.UPSTREAM_FAILED


def test_clearing_a_work_task_clears_its_setup_and_teardown_too(harness: Harness) -> None:
    harness.add_dag(
        dag(
            "d",
            [
                task("create", is_setup=True),
                task("work", ["create"]),
                teardown("delete", ["create", "work"]),
                task("after", ["delete"]),
            ],
        )
    )
    harness.worker()
    run = harness.scheduler.trigger("d", {}, "", None, False)
    run_all(harness, set())
    assert run.state is RunState.SUCCESS
    harness.scheduler.adopt_run(run)
    cleared = harness.scheduler.clear(run, ["work"], include_downstream=False)
    assert sorted(ti.task_id for ti in cleared) == ["create", "delete", "work"]
    assert run_all(harness, set()) == ["create", "work", "delete"]
    assert run.state is RunState.SUCCESS
