"""Assets: every asset the DAGs name, and for the one under the cursor its events and the runs they started."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from tradewind.v1 import control_pb2
from tui.screens.base import LiveScreen
from tui.text import clock

#: Events shown for the asset under the cursor, newest first.
EVENTS_SHOWN = 50
#: Seconds between two reads while the screen is shown: an event that starts no run reaches no
#: Watch stream, so the screen reads again now and then.
REFRESH_EVERY = 5


class AssetsScreen(LiveScreen):
    PLACE = "Assets"
    AUTO_FOCUS = "#assets"
    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.assets: dict[str, control_pb2.Asset] = {}
        self.events: list[control_pb2.AssetEvent] = []
        self._ticks = 0

    def body(self) -> Iterable[Widget]:
        with Horizontal():
            yield OptionList(id="assets")
            with Vertical(id="asset-box"):
                yield Static(id="asset-detail")
                yield DataTable(id="asset-events", cursor_type="row")

    async def on_mount(self) -> None:
        self.query_one("#asset-events", DataTable).add_columns("time", "source", "extra", "started runs")
        await super().on_mount()

    async def reload(self) -> None:
        response = await self.tw.call(self.tw.client.list_assets, quiet=True)
        if response is None:
            return
        self.assets = {a.uri: a for a in response.assets}
        listing = self.query_one("#assets", OptionList)
        current = self.current_uri()
        listing.clear_options()
        for uri in sorted(self.assets):
            listing.add_option(Option(uri, id=uri))
        if not self.assets:
            self.query_one("#asset-detail", Static).update(Text("No DAG names an asset.", style="dim"))
            return
        uris = sorted(self.assets)
        listing.highlighted = uris.index(current) if current in uris else 0
        await self._load_events()

    def current_uri(self) -> str | None:
        listing = self.query_one("#assets", OptionList)
        return listing.highlighted_option.id if listing.highlighted_option is not None else None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.soon(self._load_events)

    async def _load_events(self) -> None:
        uri = self.current_uri()
        if uri is None:
            return
        response = await self.tw.call(self.tw.client.list_asset_events, uri, EVENTS_SHOWN, quiet=True)
        if response is None or uri != self.current_uri():
            return
        self.events = list(response.events)
        self._show(self.assets[uri])

    def _show(self, asset: control_pb2.Asset) -> None:
        text = Text()
        text.append(asset.uri, style="bold")
        if asset.name != asset.uri:
            text.append(f"  ({asset.name})")
        text.append(f"\ngroup {asset.group}, extra {asset.extra_json}\n", style="dim")
        text.append(f"schedules: {', '.join(asset.consuming_dag_ids) or '-'}\n")
        text.append(f"produced by: {', '.join(asset.producing_tasks) or '-'}\n")
        if asset.watchers:
            running = (f"{w.name} on {w.triggerer or '(no triggerer)'}" for w in asset.watchers)
            text.append(f"watchers: {', '.join(running)}\n")
        text.append(f"last event: {clock(asset.last_event_at)} UTC")
        self.query_one("#asset-detail", Static).update(text)
        table = self.query_one("#asset-events", DataTable)
        table.clear()
        for e in self.events:
            source = f"{e.source_dag_id}.{e.source_task_id} ({e.source_run_id})" if e.source_dag_id else "external"
            started = ", ".join(f"{r.dag_id} {r.run_id}" for r in e.created_runs) or "-"
            table.add_row(clock(e.timestamp), source, e.extra_json, started, key=str(e.id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """enter on an event opens the DAG of the first run it started."""
        chosen = next((e for e in self.events if str(e.id) == event.row_key.value), None)
        if chosen is not None and chosen.created_runs:
            self.tw.open_dag(chosen.created_runs[0].dag_id)

    def apply(self, changes: list[control_pb2.WatchResponse]) -> None:
        for change in changes:
            if change.WhichOneof("change") == "dag_run" and change.dag_run.run_type == "asset_triggered":
                self.soon(self.reload)
                return

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % REFRESH_EVERY == 0:
            self.soon(self.reload)
