"""What every full screen shares: the connection bar, the footer, and how live changes reach it."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from tradewind.v1 import control_pb2
from tui.widgets.connection_bar import ConnectionBar

if TYPE_CHECKING:
    from tui.app import TradewindApp


class LiveScreen(Screen[None]):
    """A screen kept current by the Watch stream.

    Only the screen on top applies changes as they come; a covered screen is marked stale and
    reads a fresh snapshot when it is shown again, which costs one call instead of thousands of
    updates nobody sees.
    """

    PLACE = ""

    def __init__(self) -> None:
        super().__init__()
        self.stale = False
        #: True once the first snapshot was read (or tried) and until the screen is removed.
        self.loaded = False
        self._loading: set[str] = set()
        self._again: set[str] = set()

    @property
    def tw(self) -> TradewindApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield ConnectionBar(self.PLACE)
        yield from self.body()
        yield Footer()

    def body(self) -> Iterable[Widget]:
        return ()

    async def reload(self) -> None:
        """Read a fresh snapshot of everything shown."""

    def apply(self, changes: list[control_pb2.WatchResponse]) -> None:
        """Show committed changes; called with every change in arrival order."""

    def action_back(self) -> None:
        self.app.pop_screen()

    def tick(self) -> None:
        """Once a second: refresh what is relative to now (ages, running durations)."""

    def in_flight(self, name: str) -> bool:
        return name in self._loading

    def soon(self, load: Callable[[], Awaitable[None]]) -> None:
        """Run `load` now, or once more after the run in flight: loads are never dropped nor doubled."""
        key = load.__name__
        if key in self._loading:
            self._again.add(key)
            return
        self._loading.add(key)

        async def run() -> None:
            try:
                while True:
                    self._again.discard(key)
                    await load()
                    if key not in self._again:
                        return
            finally:
                self._loading.discard(key)

        self.run_worker(run(), group=key)

    async def on_mount(self) -> None:
        await self.reload()
        self.loaded = True
        if self.stale:  # changes arrived while the first snapshot loaded
            self.stale = False
            await self.reload()
        # A screen's widgets and snapshot live as long as it does. Moving them out of the cyclic
        # collector's view keeps its full collections short: with a DAG of 1,000 tasks on
        # screen they took 80-110 ms, a keypress's whole budget; frozen, under 30 ms.
        gc.freeze()

    def on_unmount(self) -> None:
        self.loaded = False
        gc.unfreeze()

    async def on_screen_resume(self) -> None:
        if self.stale:
            self.stale = False
            await self.reload()
