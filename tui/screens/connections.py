"""Connections: what hooks connect to, read-only, passwords hidden (the list never carries them)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from tradewind.v1 import common_pb2
from tui.screens.base import LiveScreen

COLUMNS = [
    ("conn_id", "Conn id"),
    ("conn_type", "Type"),
    ("host", "Host"),
    ("port", "Port"),
    ("schema", "Schema"),
    ("login", "Login"),
    ("password", "Password"),
    ("description", "Description"),
]


def connection_cells(connection: common_pb2.Connection) -> list[object]:
    return [
        Text(connection.conn_id, style="bold"),
        connection.conn_type,
        connection.host,
        str(connection.port) if connection.port else "",
        connection.schema,
        connection.login,
        "***" if connection.password else "",
        connection.description,
    ]


class ConnectionsScreen(LiveScreen):
    PLACE = "Connections"
    AUTO_FOCUS = "#connections"
    BINDINGS = [Binding("escape", "back", "Back")]

    def body(self) -> Iterable[Widget]:
        yield Static(id="summary")
        table: DataTable[object] = DataTable(id="connections", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    async def reload(self) -> None:
        response = await self.tw.call(self.tw.client.list_connections, quiet=True)
        if response is None:
            return
        table = self.query_one("#connections", DataTable)
        table.clear()
        for connection in response.connections:
            table.add_row(*connection_cells(connection), key=connection.conn_id)
        count = len(response.connections)
        self.query_one("#summary", Static).update(
            f" {count} connection{'s' if count != 1 else ''} in the metastore · "
            "manage them with `tradewind connections`"
        )
