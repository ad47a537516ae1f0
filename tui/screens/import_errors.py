"""DAG files that failed to import, each with its traceback."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tradewind.v1 import control_pb2
from tui.screens.base import LiveScreen
from tui.text import clock


class ImportErrorsScreen(LiveScreen):
    PLACE = "Import errors"
    AUTO_FOCUS = "#files"
    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[str, control_pb2.ImportError] = {}

    def body(self) -> Iterable[Widget]:
        with Horizontal():
            yield OptionList(id="files")
            with VerticalScroll(id="traceback-box"):
                yield Static(id="traceback")

    async def reload(self) -> None:
        response = await self.tw.call(self.tw.client.list_import_errors, quiet=True)
        if response is None:
            return
        self.errors = {e.fileloc: e for e in response.import_errors}
        self._show()

    def _show(self) -> None:
        files = self.query_one("#files", OptionList)
        current = files.highlighted_option.id if files.highlighted_option is not None else None
        files.clear_options()
        for fileloc in sorted(self.errors):
            files.add_option(Option(fileloc, id=fileloc))
        if not self.errors:
            self.query_one("#traceback", Static).update(Text("Every DAG file imports.", style="green"))
            return
        names = sorted(self.errors)
        files.highlighted = names.index(current) if current in names else 0

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        error = self.errors.get(event.option.id or "")
        if error is None:
            return
        text = Text()
        text.append(f"{error.fileloc}", style="bold")
        text.append(f"  failed at {clock(error.timestamp)} UTC\n\n", style="dim")
        text.append(error.traceback, style="red")
        self.query_one("#traceback", Static).update(text)

    def apply(self, changes: list[control_pb2.WatchResponse]) -> None:
        touched = False
        for change in changes:
            if change.WhichOneof("change") == "import_error":
                error = change.import_error
                if error.traceback:
                    self.errors[error.fileloc] = error
                else:
                    self.errors.pop(error.fileloc, None)
                touched = True
        if touched:
            self._show()
