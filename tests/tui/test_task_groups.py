"""Task groups in the monitor against a real coordinator: collapsed at first, expanded and collapsed by key."""

from __future__ import annotations

from textual.widgets import Static

from tests.harness import Cluster
from tests.tui.conftest import drive, until
from tests.tui.test_monitor import SIZE, cell, open_dag, start
from tradewind.v1 import common_pb2
from tui.app import TradewindApp
from tui.widgets.dag_graph import DagGraph
from tui.widgets.run_grid import RunGrid

GROUPED = """
from tradewind import DAG, BashOperator, TaskGroup

with DAG(dag_id="grouped", schedule=None):
    start = BashOperator(task_id="start", bash_command="true")
    with TaskGroup("etl") as etl:
        extract = BashOperator(task_id="extract", bash_command="true")
        with TaskGroup("clean"):
            orders = BashOperator(task_id="orders", bash_command="exit 1")
        extract >> orders
    start >> etl >> BashOperator(task_id="end", bash_command="true")
"""


def labels(grid: RunGrid) -> list[str]:
    return [("  " * r.depth) + r.label for r in grid.rows]


def test_a_group_is_collapsed_with_its_worst_state_and_expands_and_collapses_by_key(cluster: Cluster) -> None:
    start(cluster, ("grouped.py", GROUPED))
    with cluster.client() as client:
        run_id = client.trigger_dag("grouped").dag_run.run_id

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            grid = await open_dag(pilot, app, "grouped")
            await until(pilot, lambda: cell(app, run_id, "etl.clean.orders") == "failed", 60, "orders to fail")
            assert labels(grid) == ["start", "etl", "end"]
            await pilot.press("home", "down")
            assert grid.group == "etl"
            assert grid.cell()[0] == common_pb2.TASK_STATE_FAILED
            details = app.screen.query_one("#grid-details", Static)
            await until(pilot, lambda: "Task group\netl\nfailed · 2 tasks" in str(details.content))
            await pilot.press("enter")
            await until(pilot, lambda: labels(grid) == ["start", "etl", "  extract", "  clean", "end"])
            await pilot.press("down", "down", "space")
            await until(pilot, lambda: labels(grid) == ["start", "etl", "  extract", "  clean", "    orders", "end"])
            await pilot.press("down")
            assert grid.task_id == "etl.clean.orders"
            assert grid.cell()[0] == common_pb2.TASK_STATE_FAILED
            await until(pilot, lambda: "in group etl.clean" in str(details.content), message="the task's group")
            await pilot.press("2")
            graph = app.screen.query_one(DagGraph)
            await until(pilot, lambda: graph.task_id == "etl.clean.orders", message="the graph on the same task")
            assert "etl.extract" in graph.drawing.nodes and "▸ etl" not in graph.drawing.nodes
            await pilot.press("space")
            await until(pilot, lambda: graph.task_id == "▸ etl.clean", message="the graph on the collapsed group")
            await pilot.press("1", "up", "up", "enter")
            await until(pilot, lambda: labels(grid) == ["start", "etl", "end"])
            assert grid.group == "etl"
            await pilot.press("2")
            await until(pilot, lambda: graph.task_id == "▸ etl" and "etl.extract" not in graph.drawing.nodes)

    drive(script)
