"""The monitor on a mapped task: the grid cell summarises its instances, and the task instance
screen lists them and shows each one's own log."""

from __future__ import annotations

from textual.widgets import Log, OptionList, Static

from tests.harness import Cluster
from tests.tui.conftest import drive, until
from tests.tui.test_monitor import SIZE, cell, open_dag, start, text_of
from tui.app import TradewindApp
from tui.screens.task_instance import TaskInstanceScreen

MAPPED = """
from tradewind import DAG, BashOperator

with DAG(dag_id="mapped", schedule=None):
    BashOperator.partial(task_id="echo", map_index_template="name {{ ti.map_index }}").expand(
        bash_command=["echo item-zero", "echo item-one", "echo item-two"]
    )
"""


def test_a_mapped_cell_counts_its_instances_and_each_instance_opens_with_its_own_log(cluster: Cluster) -> None:
    start(cluster, ("mapped.py", MAPPED))
    with cluster.client() as client:
        run_id = client.trigger_dag("mapped").dag_run.run_id

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            grid = await open_dag(pilot, app, "mapped")
            await until(pilot, lambda: cell(app, run_id, "echo") == "success", message="every instance to succeed")
            assert grid.instances() == (3, 3)
            details = app.screen.query_one("#grid-details", Static)
            await until(pilot, lambda: "mapped: 3/3 instances finished" in text_of(details))
            await pilot.press("enter")
            screen = await until(pilot, lambda: isinstance(app.screen, TaskInstanceScreen) and app.screen)
            assert screen.map_index == 0
            listed = screen.query_one("#instances", OptionList)
            await until(pilot, lambda: listed.option_count == 3, message="the three instances listed")
            assert "name 2" in str(listed.get_option_at_index(2).prompt)
            log = screen.query_one(Log)
            await until(pilot, lambda: "item-zero" in log.lines, message="instance 0's log")
            await pilot.press("greater_than_sign")
            await until(pilot, lambda: "item-one" in log.lines, message="instance 1's log")
            assert "item-zero" not in log.lines
            assert "echo [1] name 1" in text_of(screen.query_one("#ti-details", Static))

    drive(script)
