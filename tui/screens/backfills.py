"""Backfills: each one's range, state and progress (its runs done of all, by state); cancel one."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from tradewind.v1 import control_pb2
from tradewind.wire import backfill_state_from_pb
from tui import actions
from tui.screens.base import LiveScreen
from tui.text import clock

COLUMNS = [
    ("id", "Backfill"),
    ("dag", "DAG"),
    ("state", "State"),
    ("range", "Logical dates"),
    ("progress", "Done"),
    ("queued", "Queued"),
    ("running", "Running"),
    ("success", "Success"),
    ("failed", "Failed"),
    ("skipped", "Skipped dates"),
]
STATE_STYLES = {"running": "cyan", "completed": "green", "cancelled": "yellow"}
BAR = 20


def progress_bar(backfill: control_pb2.Backfill) -> Text:
    done = backfill.success_runs + backfill.failed_runs
    filled = round(BAR * done / backfill.total_runs) if backfill.total_runs else BAR
    return Text.assemble(("█" * filled, "green"), ("░" * (BAR - filled), "dim"), f" {done}/{backfill.total_runs}")


def backfill_cells(backfill: control_pb2.Backfill) -> dict[str, object]:
    state = backfill_state_from_pb(backfill.state).value
    return {
        "id": Text(str(backfill.id), style="bold"),
        "dag": backfill.dag_id,
        "state": Text(state, style=STATE_STYLES.get(state, "")),
        "range": f"{clock(backfill.from_date)} .. {clock(backfill.to_date)}",
        "progress": progress_bar(backfill),
        "queued": str(backfill.queued_runs),
        "running": str(backfill.running_runs),
        "success": str(backfill.success_runs),
        "failed": Text(str(backfill.failed_runs), style="red" if backfill.failed_runs else ""),
        "skipped": str(backfill.skipped_dates),
    }


class BackfillsScreen(LiveScreen):
    PLACE = "Backfills"
    AUTO_FOCUS = "#backfills"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("x", "cancel", "Cancel backfill"),
    ]

    def body(self) -> Iterable[Widget]:
        yield Static(id="summary")
        table: DataTable[object] = DataTable(id="backfills", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#backfills", DataTable)

    async def reload(self) -> None:
        response = await self.tw.call(self.tw.client.list_backfills, quiet=True)
        if response is None:
            return
        table = self.table
        for backfill in response.backfills:
            cells = backfill_cells(backfill)
            key = str(backfill.id)
            if key in table.rows:
                for column, _ in COLUMNS:
                    table.update_cell(key, column, cells[column], update_width=True)
            else:
                table.add_row(*(cells[column] for column, _ in COLUMNS), key=key)
        running = sum(1 for b in response.backfills if backfill_state_from_pb(b.state).value == "running")
        self.query_one("#summary", Static).update(f" {running} running of {len(response.backfills)} backfills")

    def apply(self, changes: list[control_pb2.WatchResponse]) -> None:
        if any(c.WhichOneof("change") == "dag_run" and c.dag_run.backfill_id for c in changes):
            self.soon(self.reload)

    @work(group="action")
    async def action_cancel(self) -> None:
        table = self.table
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key and await actions.cancel_backfill(self, int(key)):
            await self.reload()
