"""`python tools/screenshots.py`: the README's pictures of the monitor, taken from a real coordinator.

Starts a coordinator and a worker on loopback with the example DAGs and a demo DAG, runs a few
DAG runs (one failing, one still running), drives the monitor headless and saves SVGs exported
by Textual into docs/.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness import Cluster, assert_eventually  # noqa: E402
from tui.app import TradewindApp  # noqa: E402
from tui.widgets.run_grid import RunGrid  # noqa: E402

DEMO = """
from datetime import datetime

from tradewind import DAG, BashOperator

with DAG(
    dag_id="orders_daily",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["sales", "etl"],
    description="Orders from the shop database into the warehouse",
):
    extract = BashOperator(task_id="extract", bash_command="echo extracting orders for {{ ds }}")
    orders = BashOperator(
        task_id="clean_orders",
        bash_command="echo cleaning; test '{{ dag_run.conf.get(\\"fail\\", false) }}' != True",
    )
    users = BashOperator(
        task_id="clean_users",
        bash_command=(
            "for n in 1 2 3 4 5 6; do echo \\"batch $n: 200 users cleaned\\"; "
            "sleep {{ dag_run.conf.get('pause', 0) }}; done"
        ),
    )
    join = BashOperator(task_id="join", bash_command="echo joining")
    extract >> [orders, users] >> join
    load = BashOperator(task_id="load", bash_command="echo loading")
    join >> [load, BashOperator(task_id="report", bash_command="echo report")]
"""
SIZE = (130, 32)


async def until(pilot: Any, condition: Callable[[], Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 - the screen is still being built
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the monitor did not show {condition}")
        await pilot.pause(0.1)


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="tw-shots-"))
    dags = home / "dags"
    shutil.copytree(ROOT / "dags", dags)
    (dags / "orders_daily.py").write_text(DEMO)
    cluster = Cluster(home, dags, f"sqlite:///{home / 'tradewind.db'}")
    out = ROOT / "docs"
    out.mkdir(exist_ok=True)
    try:
        cluster.coordinator()
        cluster.worker("worker-1")
        with cluster.client() as client:
            assert_eventually(lambda: len(client.list_dags().dags) >= 4, 60, "the DAGs")
            for conf in ({}, {"fail": True}, {}, {}):
                run_id = client.trigger_dag("orders_daily", conf).dag_run.run_id
                assert_eventually(
                    lambda run_id=run_id: client.list_dag_runs("orders_daily").dag_runs[0].state in (3, 4), 60, "run"
                )
            running = client.trigger_dag("orders_daily", {"pause": 1}).dag_run.run_id

        async def shoot() -> None:
            app = TradewindApp(cluster.address)
            async with app.run_test(size=SIZE) as pilot:
                await until(pilot, lambda: app.screen.query_one("#dags").row_count >= 4)
                await pilot.pause(1.5)
                app.save_screenshot(str(out / "tui-dags.svg"))
                app.open_dag("orders_daily")
                await until(pilot, lambda: app.screen.query_one(RunGrid).data.runs)
                await pilot.press("down", "down")
                await pilot.pause(0.5)
                app.save_screenshot(str(out / "tui-grid.svg"))
                await pilot.press("2")
                await pilot.pause(0.5)
                app.save_screenshot(str(out / "tui-graph.svg"))
                await pilot.press("1")
                app.open_task_instance("orders_daily", running, "clean_users")
                await until(pilot, lambda: app.screen.query_one("#log").line_count >= 3)
                app.save_screenshot(str(out / "tui-log.svg"))

        asyncio.run(shoot())
    finally:
        cluster.reap()
    print(f"saved tui-dags.svg, tui-grid.svg, tui-graph.svg and tui-log.svg in {out}")


if __name__ == "__main__":
    main()
