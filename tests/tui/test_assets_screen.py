"""The assets screen against a real coordinator and worker: an asset's watcher, an emitted event
and the run it started appear."""

from __future__ import annotations

from textual.widgets import DataTable, OptionList, Static

from tests.harness import Cluster, assert_eventually, write_dag
from tests.tui.conftest import drive, until
from tui.app import TradewindApp
from tui.screens.assets import AssetsScreen
from tui.screens.dag import DagScreen

DAGS = """
from tradewind import DAG, Asset, AssetWatcher, BashOperator, FileTrigger

orders = Asset("s3://lake/orders", watchers=[AssetWatcher("landing", FileTrigger("/nowhere/*.csv"))])

with DAG(dag_id="on_orders", schedule=[orders]):
    BashOperator(task_id="use", bash_command="true")
"""


def test_the_assets_screen_shows_an_event_and_opens_the_dag_it_started(cluster: Cluster) -> None:
    write_dag(cluster.dags, "assets.py", DAGS)
    cluster.coordinator()
    cluster.worker("w1")
    with cluster.client() as client:
        assert_eventually(lambda: client.list_dags().dags, 30, "the DAG to be parsed")

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("a")
            screen = await until(pilot, lambda: app.screen if isinstance(app.screen, AssetsScreen) else None)
            listing = screen.query_one("#assets", OptionList)
            await until(pilot, lambda: listing.option_count == 1, message="the asset listed")
            detail = screen.query_one("#asset-detail", Static)
            await until(pilot, lambda: "schedules: on_orders" in str(detail.content), message="its consumer")
            assert "watchers: landing on (no triggerer)" in str(detail.content)
            with cluster.client() as client:
                client.emit_asset_event("s3://lake/orders", {"rows": 7})
            table = screen.query_one("#asset-events", DataTable)
            await until(pilot, lambda: table.row_count == 1, message="the event, after the run it started")
            assert "on_orders asset_triggered__" in str(table.get_row_at(0)[3])
            assert str(table.get_row_at(0)[1]) == "external" and '"rows": 7' in str(table.get_row_at(0)[2])
            table.focus()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DagScreen) and app.screen.dag_id == "on_orders")

    drive(script)
