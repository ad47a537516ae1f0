"""The look of the main screens, pinned as SVG snapshots (update with `pytest --snapshot-update`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Log

from tests.tui.conftest import until
from tui.app import TradewindApp
from tui.widgets.run_grid import RunGrid

SIZE = (130, 34)
Snap = Callable[..., bool]


async def dags_loaded(pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: pilot.app.screen.query_one("#dags", DataTable).row_count == 3)


async def grid_loaded(pilot: Pilot[Any]) -> None:
    await dags_loaded(pilot)
    await pilot.press("down", "enter")
    await until(pilot, lambda: pilot.app.screen.query_one(RunGrid).data.runs)
    await pilot.press("down", "down")


def test_dag_list(app: TradewindApp, snap_compare: Snap) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=dags_loaded)


def test_grid(app: TradewindApp, snap_compare: Snap) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=grid_loaded)


def test_graph(app: TradewindApp, snap_compare: Snap) -> None:
    async def graph(pilot: Pilot[Any]) -> None:
        await grid_loaded(pilot)
        await pilot.press("2")

    assert snap_compare(app, terminal_size=SIZE, run_before=graph)


def test_task_instance_with_its_log(app: TradewindApp, snap_compare: Snap) -> None:
    async def log(pilot: Pilot[Any]) -> None:
        await grid_loaded(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.query_one(Log).line_count >= 3)

    assert snap_compare(app, terminal_size=SIZE, run_before=log)


def test_workers(app: TradewindApp, snap_compare: Snap) -> None:
    async def workers(pilot: Pilot[Any]) -> None:
        await dags_loaded(pilot)
        await pilot.press("w")
        await until(pilot, lambda: pilot.app.screen.query_one("#workers", DataTable).row_count == 2)

    assert snap_compare(app, terminal_size=SIZE, run_before=workers)
