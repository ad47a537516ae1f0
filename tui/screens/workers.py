"""Workers: where they run, what they serve, their slots, and CPU and memory from their heartbeats."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from tradewind.v1 import control_pb2
from tui import actions
from tui.screens.base import LiveScreen
from tui.text import ago, size, sparkline

COLUMNS = [
    ("name", "Worker"),
    ("state", "State"),
    ("host", "Host"),
    ("queues", "Queues"),
    ("slots", "Slots used/free"),
    ("cpu", "CPU"),
    ("memory", "Memory"),
    ("rss", "RSS"),
    ("heartbeat", "Last heartbeat"),
    ("reason", "Note"),
]
STATE_STYLES = {"active": "green", "draining": "yellow", "lost": "red", "disconnected": "red"}


def worker_cells(worker: control_pb2.Worker, now: object) -> dict[str, object]:
    lost = worker.state == "lost"
    free = max(worker.slots - worker.running, 0) if worker.state == "active" else 0
    return {
        "name": Text(worker.name, style="bold"),
        "state": Text(worker.state, style=STATE_STYLES.get(worker.state, "")),
        "host": f"{worker.host} pid {worker.pid}" if worker.pid else worker.host,
        "queues": ", ".join(worker.queues),
        "slots": f"{worker.running} / {free}" if not lost else "-",
        "cpu": "-" if lost else Text.assemble((sparkline(worker.cpu_history), "cyan"), f" {worker.cpu_percent:5.1f}%"),
        "memory": "-"
        if lost
        else Text.assemble((sparkline(worker.memory_history), "magenta"), f" {worker.memory_percent:5.1f}%"),
        "rss": size(worker.rss_bytes) if worker.rss_bytes and not lost else "-",
        "heartbeat": ago(worker.last_heartbeat_at, now),  # type: ignore[arg-type]
        "reason": worker.reason,
    }


def triggerer_summary(triggerers: Iterable[control_pb2.Triggerer]) -> str:
    """The triggerers, after the workers' summary: each with the triggers it runs; empty without."""
    parts = [f"{t.name} {t.triggers}/{t.capacity} triggers, {size(t.rss_bytes)}" for t in triggerers]
    return f" · triggerers: {'; '.join(parts)}" if parts else ""


class WorkersScreen(LiveScreen):
    PLACE = "Workers"
    AUTO_FOCUS = "#workers"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("d", "drain", "Drain"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.known: dict[str, control_pb2.Worker] = {}
        self.triggerers: list[control_pb2.Triggerer] = []

    def body(self) -> Iterable[Widget]:
        yield Static(id="summary")
        table: DataTable[object] = DataTable(id="workers", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#workers", DataTable)

    async def reload(self) -> None:
        response = await self.tw.call(self.tw.client.list_workers, quiet=True)
        if response is None:
            return
        self.known = {w.name: w for w in response.workers}
        self.triggerers = list(response.triggerers)
        self.table.clear()
        for worker in response.workers:
            self._show(worker)

    def _show(self, worker: control_pb2.Worker) -> None:
        self.known[worker.name] = worker
        cells = worker_cells(worker, self.tw.now())
        table = self.table
        if worker.name in table.rows:
            for key, _ in COLUMNS:
                table.update_cell(worker.name, key, cells[key], update_width=True)
        else:
            table.add_row(*(cells[key] for key, _ in COLUMNS), key=worker.name)
        self._summary()

    def _summary(self) -> None:
        active = [w for w in self.known.values() if w.state == "active"]
        slots = sum(w.slots for w in active)
        used = sum(w.running for w in active)
        self.query_one("#summary", Static).update(
            f" {len(active)} active of {len(self.known)} workers · {used} of {slots} slots in use"
            + triggerer_summary(self.triggerers)
        )

    def apply(self, changes: list[control_pb2.WatchResponse]) -> None:
        latest: dict[str, control_pb2.Worker] = {}
        for change in changes:
            if change.WhichOneof("change") == "worker":
                latest[change.worker.name] = change.worker
        for worker in latest.values():
            self._show(worker)

    def tick(self) -> None:
        now = self.tw.now()
        for name, worker in self.known.items():
            self.table.update_cell(name, "heartbeat", ago(worker.last_heartbeat_at, now))

    @work(group="action")
    async def action_drain(self) -> None:
        table = self.table
        if table.row_count == 0:
            return
        name = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not name:
            return
        worker = await actions.drain_worker(self, name)
        if worker is not None:
            self._show(worker)
