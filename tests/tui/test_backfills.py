"""The monitor's backfills screen against a real coordinator and worker: progress shown live, cancel by key."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import DataTable

from tests.harness import Cluster
from tests.tui.conftest import drive, until
from tests.tui.test_monitor import SIZE, start
from tui.app import TradewindApp
from tui.screens.backfills import BackfillsScreen

DAILY = """
from datetime import datetime
from tradewind import DAG, BashOperator

with DAG(dag_id="daily", schedule="@daily", start_date=datetime(2030, 1, 1)):
    BashOperator(task_id="work", bash_command="while [ ! -e {gate}{{{{ ds }}}} ]; do sleep 0.02; done")
"""


def test_backfill_progress_and_cancel(cluster: Cluster) -> None:
    gate = cluster.home / "gate-"
    start(cluster, ("daily.py", DAILY.format(gate=gate)))
    with cluster.client() as client:
        first = datetime(2024, 1, 1, tzinfo=UTC)
        client.create_backfill("daily", first, first.replace(day=3), max_active_runs=1)

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("b")
            await until(pilot, lambda: isinstance(app.screen, BackfillsScreen))
            table = app.screen.query_one("#backfills", DataTable)

            def row() -> list[str]:
                return [str(cell) for cell in table.get_row("1")]

            await until(pilot, lambda: row()[2] == "running" and row()[5:7] == ["2", "1"], message="1 running")
            assert row()[4].endswith(" 0/3")
            (cluster.home / "gate-2024-01-01").touch()
            await until(pilot, lambda: row()[7] == "1", message="the first run to succeed, shown live")
            await pilot.press("x", "y")
            await until(pilot, lambda: row()[2] == "cancelled", message="the backfill cancelled")
            assert row()[5:9] == ["0", "1", "1", "1"]  # the queued run failed; the running one goes on

    drive(script)
