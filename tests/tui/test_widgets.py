"""The pure parts of the monitor: layout by dependency level, the grid's page, and how values read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from tradewind.v1 import common_pb2, control_pb2
from tui.text import ago, duration, size, sparkline
from tui.widgets.graph_layout import LINES, lay_out, levels
from tui.widgets.run_grid import GridData


def task(task_id: str, up: list[str], down: list[str]) -> control_pb2.Task:
    return control_pb2.Task(task_id=task_id, upstream_task_ids=up, downstream_task_ids=down)


def test_a_task_sits_one_level_below_its_deepest_upstream() -> None:
    tasks = [
        task("a", [], ["b", "d"]),
        task("b", ["a"], ["c"]),
        task("c", ["b"], ["d"]),
        task("d", ["a", "c"], []),
        task("lone", [], []),
    ]
    assert levels(tasks) == {"a": 0, "b": 1, "c": 2, "d": 3, "lone": 0}


def test_the_grid_reads_oldest_run_first_with_its_own_column() -> None:
    response = control_pb2.GetDagGridResponse(
        dag_runs=[control_pb2.DagRun(run_id="new"), control_pb2.DagRun(run_id="old")],
        task_ids=["t1", "t2"],
        columns=[
            control_pb2.GridColumn(
                states=[common_pb2.TASK_STATE_RUNNING, common_pb2.TASK_STATE_NONE], try_numbers=[1, 0]
            ),
            control_pb2.GridColumn(
                states=[common_pb2.TASK_STATE_SUCCESS, common_pb2.TASK_STATE_FAILED], try_numbers=[1, 2]
            ),
        ],
    )
    data = GridData.from_response(response)
    assert [r.run_id for r in data.runs] == ["old", "new"]
    assert data.states[0] == [common_pb2.TASK_STATE_SUCCESS, common_pb2.TASK_STATE_FAILED]
    assert data.tries[1] == [1, 0]
    assert data.run_index("new") == 1 and data.run_index("gone") is None


def test_values_read_as_people_write_them() -> None:
    assert [duration(v) for v in (None, 0.25, 12.34, 245, 7384)] == ["-", "250ms", "12.3s", "4m 05s", "2h 03m"]
    assert [size(v) for v in (512, 1536, 88 * 2**20)] == ["512 B", "1.5 KiB", "88.0 MiB"]
    assert sparkline([0, 50, 100, 12.5]) == " ▅█▂"
    stamp = Timestamp()
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    stamp.FromDatetime(now - timedelta(seconds=3))
    assert ago(stamp, now) == "3.0s ago" and ago(Timestamp(), now) == "-"


def test_the_graph_draws_every_edge_between_neighbouring_columns() -> None:
    tasks = [
        task("a", [], ["b", "c"]),
        task("b", ["a"], ["c"]),
        task("c", ["a", "b"], []),
    ]
    layout = lay_out(tasks)
    assert [[k for k in column if layout.nodes[k].task] for column in layout.columns] == [["a"], ["b"], ["c"]]
    skip = [k for k in layout.columns[1] if layout.nodes[k].task is None]
    assert len(skip) == 1, "a -> c skips level 1 through a placeholder"
    a, b, c = (layout.nodes[k] for k in "abc")
    assert (b.x - 2, b.y) in layout.arrows and (c.x - 2, c.y) in layout.arrows
    assert a.x < b.x < c.x and layout.width > c.x + 1
    drawn = "".join(LINES[layout.lines[(x, a.y)]] for x in range(a.x + 3, b.x - 2) if (x, a.y) in layout.lines)
    assert drawn and set(drawn) <= set("─┬┐"), drawn


def test_the_graph_marks_setup_and_teardown_tasks_as_airflow_does() -> None:
    from tui.widgets.graph_layout import graph_label, label_width

    setup = control_pb2.Task(task_id="create", is_setup=True)
    teardown = control_pb2.Task(task_id="delete", is_teardown=True)
    plain = control_pb2.Task(task_id="work")
    assert [graph_label(t.task_id, t) for t in (setup, plain, teardown)] == ["■ create ↑", "■ work", "■ delete ↓"]
    assert label_width(setup) == len("■ create ↑")
