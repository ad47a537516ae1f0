"""The DAG list: every DAG with its schedule, pause state, next run, recent runs, running tasks and tags."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from tradewind.cli import shown_name
from tradewind.v1 import control_pb2
from tui.actions import toggle_pause, trigger_dag
from tui.screens.base import LiveScreen
from tui.text import clock
from tui.widgets.state_badge import run_marks

COLUMNS = [
    ("dag", "DAG"),
    ("schedule", "Schedule"),
    ("paused", "State"),
    ("next", "Next run (UTC)"),
    ("recent", "Recent runs"),
    ("running", "Running"),
    ("tags", "Tags"),
    ("owner", "Owner"),
]


def dag_cells(dag: control_pb2.Dag) -> dict[str, object]:
    return {
        "dag": Text(shown_name(dag.dag_id, dag.display_name), style="dim" if dag.paused else "bold"),
        "schedule": dag.schedule or "None",
        "paused": Text("paused", style="yellow") if dag.paused else Text("active", style="green"),
        "next": clock(dag.next_run_at) if dag.HasField("next_run_at") and not dag.paused else "-",
        "recent": run_marks(list(dag.recent_run_states)),
        "running": str(dag.running_tasks) if dag.running_tasks else "",
        "tags": ", ".join(dag.tags),
        "owner": dag.owner,
    }


def matches(dag: control_pb2.Dag, needle: str) -> bool:
    needle = needle.lower()
    texts = (dag.dag_id, dag.display_name, dag.owner, *dag.tags)
    return not needle or any(needle in text.lower() for text in texts)


class DagsScreen(LiveScreen):
    PLACE = "DAGs"
    AUTO_FOCUS = "#dags"
    BINDINGS = [
        Binding("enter", "open", "Open"),
        Binding("slash", "filter", "Filter"),
        Binding("t", "trigger", "Trigger"),
        Binding("p", "toggle_pause", "Pause/unpause"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []
        self.import_errors = 0
        self._dirty: set[str] = set()
        self._refresher: Timer | None = None

    def body(self) -> Iterable[Widget]:
        yield Static(id="summary")
        box = Input(placeholder="filter by DAG id, tag or owner", id="filter")
        box.display = False
        yield box
        table: DataTable[object] = DataTable(id="dags", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#dags", DataTable)

    async def reload(self) -> None:
        listed = await self.tw.call(self.tw.client.list_dags, quiet=True)
        errors = await self.tw.call(self.tw.client.list_import_errors, quiet=True)
        if listed is None or errors is None:
            return
        self.import_errors = len(errors.import_errors)
        self.tw.dags = {dag.dag_id: dag for dag in listed.dags}
        self._rebuild()
        if self._refresher is None:
            self._refresher = self.set_interval(1.0, self._refresh_dirty)

    def _rebuild(self, full: bool = True) -> None:
        """Show the DAGs matching the filter, keeping the cursor on its DAG.

        A full rebuild re-reads every row from the app's DAGs; a filter change only removes and adds
        the rows that differ, because measuring hundreds of new rows costs a keypress's budget.
        """
        table = self.table
        current = self.current_dag_id()
        needle = self.query_one("#filter", Input).value
        dags = self.tw.dags
        wanted = [d for d in sorted(dags) if matches(dags[d], needle)]
        if full:
            table.clear()
            shown: set[str] = set()
        else:
            shown = set(self.shown)
            for dag_id in shown.difference(wanted):
                table.remove_row(dag_id)
        added = [d for d in wanted if d not in shown]
        for dag_id in added:
            cells = dag_cells(dags[dag_id])
            table.add_row(*(cells[key] for key, _ in COLUMNS), key=dag_id)
        if added and shown:
            table.sort("dag", key=lambda cell: str(cell))
        self.shown = wanted
        if current in self.shown:
            table.move_cursor(row=self.shown.index(current))
        self._summary()

    def _summary(self) -> None:
        dags = self.tw.dags
        running = sum(d.running_tasks for d in dags.values())
        paused = sum(d.paused for d in dags.values())
        text = Text(f" {len(dags)} DAGs · {paused} paused · {running} tasks running")
        if len(self.shown) != len(dags):
            text.append(f" · {len(self.shown)} match the filter")
        if self.import_errors:
            text.append(f"   ⚠ {self.import_errors} import error{'s' * (self.import_errors > 1)} (e)", style="bold red")
        self.query_one("#summary", Static).update(text, layout=False)

    def current_dag_id(self) -> str | None:
        table = self.table
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    # ---- live ---------------------------------------------------------------------------
    def apply(self, changes: list[control_pb2.WatchResponse]) -> None:
        import_errors_changed = False
        for change in changes:
            kind = change.WhichOneof("change")
            if kind == "dag":
                self._show_dag(change.dag)
            elif kind == "dag_run":
                self._dirty.add(change.dag_run.dag_id)
            elif kind == "task_instance":
                self._dirty.add(change.task_instance.dag_id)
            elif kind == "import_error":
                import_errors_changed = True
        if import_errors_changed:
            self.soon(self.reload)

    def _show_dag(self, dag: control_pb2.Dag) -> None:
        """Show a DAG the app has just recorded: update its row, or add or remove rows as the filter says."""
        if dag.active and dag.dag_id in self.table.rows:
            cells = dag_cells(dag)
            for key, _ in COLUMNS:
                self.table.update_cell(dag.dag_id, key, cells[key], update_width=True)
            self._summary()
        else:
            self._rebuild(full=False)

    async def _refresh_dirty(self) -> None:
        """At most once a second, re-read the DAGs whose runs or tasks changed (their counts and marks)."""
        if not self._dirty or self.tw.link != "connected":
            return
        dirty, self._dirty = self._dirty, set()
        listed = await self.tw.call(self.tw.client.list_dags, quiet=True)
        if listed is None:
            self._dirty |= dirty
            return
        for dag in listed.dags:
            if dag.dag_id in dirty:
                self.tw.record_dag(dag)
                self._show_dag(dag)

    # ---- actions ------------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        dag_id = self.current_dag_id()
        if dag_id:
            self.tw.open_dag(dag_id)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self._rebuild(full=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value:
                event.input.display = False
            self.table.focus()

    @work(group="action")
    async def action_trigger(self) -> None:
        dag_id = self.current_dag_id()
        if dag_id:
            await trigger_dag(self, dag_id)

    @work(group="action")
    async def action_toggle_pause(self) -> None:
        dag_id = self.current_dag_id()
        if dag_id:
            await toggle_pause(self, self.tw.dags[dag_id])
