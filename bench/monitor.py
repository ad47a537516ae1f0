"""The monitor at scale: keypress latency with many DAGs, a DAG of many tasks and a long run history.

The app runs headless in this process (Textual's `run_test`) against a real coordinator. A
keypress is sent as the terminal driver would send it, and counts as answered when every widget
of the screen has handled it, every request it started has had its answer, and the messages
those caused have been handled too (Pilot.press itself adds ~60 ms of settling, so it is not
used for timing). Only the long-lived Watch feed and log readers are not waited for.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import psutil
from textual import events
from textual.widgets import DataTable
from textual.worker import WorkerState

from bench.cluster import BenchCluster, wait_for
from bench.workloads import fill_runs, percentile

SIZE = (160, 50)
CHARS = {"slash": "/", "left_square_bracket": "[", "escape": None}
#: Worker groups that live as long as the app or a log view, not started by one key.
LONG_LIVED = {"feed", "log-reader"}


def _write_dags(cluster: BenchCluster, dags: int, layers: int, width: int) -> None:
    for i in range(dags):
        (cluster.dags / f"many_{i:04d}.py").write_text(
            "from datetime import datetime\nfrom tradewind import DAG, BashOperator\n"
            f"with DAG('many_{i:04d}', schedule='@daily', start_date=datetime(2026, 1, 1), catchup=False,\n"
            f"         tags=['bench', 'team{i % 7}']):\n"
            "    BashOperator(task_id='a', bash_command='true') >> BashOperator(task_id='b', bash_command='true')\n"
        )
    (cluster.dags / "big.py").write_text(
        "from tradewind import DAG, BashOperator\n"
        "with DAG('big', schedule=None):\n"
        f"    previous = [None] * {width}\n"
        f"    for layer in range({layers}):\n"
        f"        for j in range({width}):\n"
        "            t = BashOperator(task_id=f'layer{layer:02d}_task{j:03d}', bash_command='true')\n"
        "            if previous[j] is not None:\n"
        "                previous[j] >> t\n"
        "            previous[j] = t\n"
    )
    (cluster.dags / "long_history.py").write_text(
        "from tradewind import DAG, BashOperator, chain\n"
        "with DAG('long_history', schedule=None):\n"
        "    chain(*[BashOperator(task_id=f't{j}', bash_command='true') for j in range(5)])\n"
    )


def monitor(
    cluster_factory: Callable[[], BenchCluster], dags: int, layers: int, width: int, runs: int
) -> dict[str, Any]:
    from tui.app import TradewindApp
    from tui.widgets.run_grid import RunGrid

    cluster = cluster_factory()
    cluster.workers = 0
    _write_dags(cluster, dags, layers, width)
    cluster.start()
    try:
        with cluster.client() as client:
            wait_for(lambda: len(client.list_dags().dags) >= dags + 2, 900, f"{dags + 2} DAGs", interval=0.2)
        cluster.stop()
        tis = fill_runs(cluster.db, "big", 100) + fill_runs(cluster.db, "long_history", runs)
        cluster.start()
        figures: dict[str, Any] = {"dags": dags + 2, "big_tasks": layers * width, "runs": runs, "tis": tis}
        presses: dict[str, list[float]] = {}

        async def drive() -> None:
            app = TradewindApp(cluster.address)
            async with app.run_test(size=SIZE) as pilot:

                async def until(condition: Callable[[], Any], what: str) -> None:
                    deadline = time.monotonic() + 120
                    while not condition():
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"the monitor did not show {what}")
                        await pilot.pause(0.01)

                async def answered() -> None:
                    """Until the screen is idle and no request a key started is still waiting for its answer."""
                    while True:
                        await pilot._wait_for_screen()
                        busy = [
                            w
                            for w in app.workers
                            if w.group not in LONG_LIVED and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                        ]
                        if not busy:
                            await pilot._wait_for_screen()
                            return
                        await app.workers.wait_for_complete(busy)

                async def timed(group: str, *keys: str) -> None:
                    """Send each key as the terminal would; time it until it and all it started are answered."""
                    for key in keys:
                        char = CHARS.get(key, key if len(key) == 1 else None)
                        start = time.perf_counter()
                        app._driver.send_message(events.Key(key, char))  # type: ignore[union-attr]
                        await answered()
                        presses.setdefault(group, []).append((time.perf_counter() - start) * 1000)

                start = time.perf_counter()
                await until(
                    lambda: (
                        app.screen.query("#dags") and app.screen.query_one("#dags", DataTable).row_count >= dags + 2
                    ),
                    "the DAG list",
                )
                figures["open_dag_list_ms"] = (time.perf_counter() - start) * 1000
                await timed("dag list: move", *["down"] * 100)
                await timed("dag list: filter", "slash", *"many_01")
                await timed("dag list: filter", "escape")

                start = time.perf_counter()
                app.open_dag("big")
                await until(lambda: app.screen.query(RunGrid) and app.screen.query_one(RunGrid).data.runs, "the grid")
                figures["open_big_grid_ms"] = (time.perf_counter() - start) * 1000
                await timed("grid: move", *["down"] * 100, *["left"] * 20, *["pagedown"] * 20)
                await timed("graph: move", "2", *["down"] * 100)
                await timed("runs: move", "3", *["down"] * 120)
                await timed("grid: page older runs", "1", *["left_square_bracket"] * 3)

                await pilot.press("escape")
                app.open_dag("long_history")
                await until(lambda: app.screen.query(RunGrid) and app.screen.query_one(RunGrid).data.runs, "history")
                await timed("grid: page older runs", *["left_square_bracket"] * 20)
                await timed("runs: move", "3", *["down"] * 250)
                figures["monitor_rss_mb"] = psutil.Process().memory_info().rss / 2**20

        asyncio.run(drive())
        everything = [v for values in presses.values() for v in values]
        figures["keypress_p50_ms"] = statistics.median(everything)
        figures["keypress_p99_ms"] = percentile(everything, 0.99)
        figures["keypress_max_ms"] = max(everything)
        figures["by_screen"] = {
            group: {"presses": len(v), "p50_ms": round(statistics.median(v), 1), "max_ms": round(max(v), 1)}
            for group, v in presses.items()
        }
        return figures
    finally:
        cluster.stop()
