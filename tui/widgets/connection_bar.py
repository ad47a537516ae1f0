"""The top line of every screen: where the coordinator is, whether it answers, and where we are."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ConnectionBar(Static):
    def __init__(self, place: str) -> None:
        super().__init__(id="connection-bar")
        self.place = place

    def on_mount(self) -> None:
        self.watch(self.app, "link", self._show)

    def _show(self, link: str) -> None:
        host = getattr(self.app, "host", "")
        text = Text()
        text.append(" Tradewind ", style="bold reverse")
        text.append(f" {self.place}  ")
        if link == "connected":
            text.append(f"● {host}", style="bold green")
            self.remove_class("lost")
        elif link == "connecting":
            text.append(f"◌ connecting to {host}…", style="yellow")
        else:
            text.append(f"✕ {link}", style="bold")
            self.add_class("lost")
        self.update(text, layout=False)
