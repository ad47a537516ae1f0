"""Keys that work everywhere: the key list, the command palette, and moving between screens."""

from __future__ import annotations

from rich.console import Console
from textual.widgets import DataTable, Input, Static

from tests.tui.conftest import drive, until
from tui.app import TradewindApp
from tui.screens.connections import ConnectionsScreen
from tui.screens.dag import DagScreen
from tui.screens.dags import DagsScreen
from tui.screens.dialogs import ConfirmScreen
from tui.screens.import_errors import ImportErrorsScreen
from tui.widgets.run_grid import RunGrid


def test_question_mark_shows_every_key(app: TradewindApp) -> None:
    async def script() -> None:
        async with app.run_test(size=(130, 34)) as pilot:
            await until(pilot, lambda: app.screen.query_one("#dags", DataTable).row_count == 3)
            await pilot.press("question_mark")
            panel = await until(pilot, lambda: app.screen.query("HelpPanel").first())
            table = await until(pilot, lambda: panel.query_one("BindingsTable"))
            console = Console(width=200, record=True)
            console.print(table.render())
            text = console.export_text()
            for action in ("Trigger", "Pause/unpause", "Filter", "Workers", "Import errors", "Quit"):
                assert action in text
            await pilot.press("question_mark")
            await until(pilot, lambda: not app.screen.query("HelpPanel"), message="? to hide the keys again")

    drive(script)


def test_command_palette_opens_a_dag_by_name(app: TradewindApp) -> None:
    async def script() -> None:
        async with app.run_test(size=(130, 34)) as pilot:
            await until(pilot, lambda: app.screen.query_one("#dags", DataTable).row_count == 3)
            await pilot.press("ctrl+p")
            await until(pilot, lambda: app.screen.query_one("CommandInput", Input))
            await pilot.press(*"open orders")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DagScreen) and app.screen.dag_id == "orders_daily")
            await until(pilot, lambda: app.screen.query_one(RunGrid).data.runs)

    drive(script)


def test_filter_and_screen_keys(app: TradewindApp) -> None:
    async def script() -> None:
        async with app.run_test(size=(130, 34)) as pilot:
            table = await until(pilot, lambda: app.screen.query_one("#dags", DataTable))
            await until(pilot, lambda: table.row_count == 3)
            await pilot.press("slash", *"sales")
            await until(pilot, lambda: table.row_count == 1, message="only the DAG tagged sales")
            assert str(table.get_row_at(0)[0]) == "orders_daily"
            await pilot.press("escape")
            await until(pilot, lambda: table.row_count == 3)
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, ImportErrorsScreen))
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, DagsScreen))

    drive(script)


def test_command_palette_finds_the_actions_of_the_screen(app: TradewindApp) -> None:
    async def script() -> None:
        async with app.run_test(size=(130, 34)) as pilot:
            await until(pilot, lambda: app.screen.query_one("#dags", DataTable).row_count == 3)
            await pilot.press("down", "enter")
            await until(pilot, lambda: isinstance(app.screen, DagScreen) and app.screen.query_one(RunGrid).data.runs)
            await pilot.press("ctrl+p")
            await until(pilot, lambda: app.screen.query_one("CommandInput", Input))
            await pilot.press(*"cancel run")
            await pilot.pause(0.3)
            await pilot.press("enter")
            dialog = await until(pilot, lambda: app.screen if isinstance(app.screen, ConfirmScreen) else None)
            assert dialog is not None
            assert "Cancel run manual__2026-11-25T14:20:00+00:00?" in str(dialog.query_one(".question", Static).content)
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, DagScreen))

    drive(script)


def test_n_lists_the_connections_with_passwords_hidden(app: TradewindApp) -> None:
    async def script() -> None:
        async with app.run_test(size=(130, 34)) as pilot:
            await until(pilot, lambda: app.screen.query_one("#dags", DataTable).row_count == 3)
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, ConnectionsScreen))
            table = await until(pilot, lambda: app.screen.query_one("#connections", DataTable))
            await until(pilot, lambda: table.row_count == 2)
            rows = {str(table.get_row_at(i)[0]): [str(cell) for cell in table.get_row_at(i)] for i in range(2)}
            assert rows["warehouse"][1:7] == ["postgres", "db.example", "5432", "sales", "etl", "***"]
            assert rows["local"][6] == ""
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, DagsScreen))

    drive(script)
