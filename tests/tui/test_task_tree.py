"""Task groups in the monitor, without a screen: rows, summary states and the collapsed graph."""

from __future__ import annotations

from tradewind.v1 import common_pb2 as c
from tradewind.v1 import control_pb2
from tui.widgets.task_tree import TaskTree, group_key, summary_state

S = c.TaskState
TASKS = [
    control_pb2.Task(task_id="start", downstream_task_ids=["etl.extract"]),
    control_pb2.Task(
        task_id="etl.extract", group_id="etl", upstream_task_ids=["start"], downstream_task_ids=["etl.clean.orders"]
    ),
    control_pb2.Task(
        task_id="etl.clean.orders",
        group_id="etl.clean",
        upstream_task_ids=["etl.extract"],
        downstream_task_ids=["end"],
    ),
    control_pb2.Task(task_id="end", upstream_task_ids=["etl.clean.orders"]),
]
IDS = [t.task_id for t in TASKS]


def test_groups_start_collapsed_and_expand_one_level_at_a_time() -> None:
    tree = TaskTree(TASKS)
    assert [(r.key, r.label, r.depth) for r in tree.rows(IDS)] == [
        ("start", "start", 0),
        ("▸ etl", "etl", 0),
        ("end", "end", 0),
    ]
    tree.toggle("etl")
    assert [(r.key, r.label, r.depth) for r in tree.rows(IDS)] == [
        ("start", "start", 0),
        ("▸ etl", "etl", 0),
        ("etl.extract", "extract", 1),
        ("▸ etl.clean", "clean", 1),
        ("end", "end", 0),
    ]
    tree.toggle("etl.clean")
    assert [r.label for r in tree.rows(IDS)] == ["start", "etl", "extract", "clean", "orders", "end"]
    assert tree.rows(IDS)[1].members == ("etl.extract", "etl.clean.orders")
    tree.toggle("etl")
    assert [r.key for r in tree.rows(IDS)] == ["start", "▸ etl", "end"]
    assert tree.shown_as("etl.clean.orders") == group_key("etl")


def test_a_group_shows_its_most_relevant_state_as_airflow_does() -> None:
    assert summary_state([S.TASK_STATE_SUCCESS, S.TASK_STATE_RUNNING, S.TASK_STATE_NONE]) == S.TASK_STATE_RUNNING
    assert summary_state([S.TASK_STATE_SUCCESS, S.TASK_STATE_SKIPPED]) == S.TASK_STATE_SUCCESS
    assert summary_state([S.TASK_STATE_RUNNING, S.TASK_STATE_UP_FOR_RETRY]) == S.TASK_STATE_UP_FOR_RETRY
    assert summary_state([S.TASK_STATE_SUCCESS, S.TASK_STATE_FAILED, S.TASK_STATE_QUEUED]) == S.TASK_STATE_FAILED
    assert summary_state([S.TASK_STATE_SUCCESS, S.TASK_STATE_NONE]) == S.TASK_STATE_NONE
    assert summary_state([S.TASK_STATE_UNSPECIFIED]) == S.TASK_STATE_UNSPECIFIED
    tree = TaskTree(TASKS)
    states = tree.with_groups({"etl.extract": S.TASK_STATE_SUCCESS, "etl.clean.orders": S.TASK_STATE_FAILED})
    assert states[group_key("etl")] == S.TASK_STATE_FAILED and states[group_key("etl.clean")] == S.TASK_STATE_FAILED


def test_the_graph_draws_a_collapsed_group_as_one_node_with_its_tasks_outside_edges() -> None:
    tree = TaskTree(TASKS)
    drawn = {t.task_id: (list(t.upstream_task_ids), list(t.downstream_task_ids)) for t in tree.graph_tasks(TASKS)}
    assert drawn == {"start": ([], ["▸ etl"]), "▸ etl": (["start"], ["end"]), "end": (["▸ etl"], [])}
    tree.toggle("etl")
    drawn = {t.task_id: (list(t.upstream_task_ids), list(t.downstream_task_ids)) for t in tree.graph_tasks(TASKS)}
    assert drawn["etl.extract"] == (["start"], ["▸ etl.clean"]) and drawn["end"] == (["▸ etl.clean"], [])


def test_groups_that_still_exist_stay_expanded_after_a_reload() -> None:
    before = TaskTree(TASKS)
    before.toggle("etl")
    before.toggle("gone")
    after = TaskTree(TASKS)
    after.keep_expanded(before)
    assert after.expanded == {"etl"}


def test_a_task_with_a_display_name_is_shown_by_it_in_the_grid_and_graph() -> None:
    from tui.widgets.graph_layout import graph_label

    named = control_pb2.Task(task_id="load", display_name="Load the warehouse")
    tree = TaskTree([named, control_pb2.Task(task_id="plain")])
    assert [row.label for row in tree.rows(["load", "plain"])] == ["Load the warehouse", "plain"]
    assert graph_label("load", named) == "■ Load the warehouse"
