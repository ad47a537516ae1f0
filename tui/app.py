"""TradewindApp: the connection to the coordinator, the live feed, and the keys that work everywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen

from tradewind.client import Client
from tradewind.credentials import Credentials
from tradewind.exceptions import ApiError, Unavailable
from tradewind.v1 import control_pb2
from tui.actions import toggle_pause, trigger_dag
from tui.commands import TradewindCommands
from tui.feed import Connected, Disconnected, Feed, Resync, Wake
from tui.screens.assets import AssetsScreen
from tui.screens.backfills import BackfillsScreen
from tui.screens.base import LiveScreen
from tui.screens.connections import ConnectionsScreen
from tui.screens.dag import DagScreen
from tui.screens.dags import DagsScreen
from tui.screens.import_errors import ImportErrorsScreen
from tui.screens.task_instance import TaskInstanceScreen
from tui.screens.workers import WorkersScreen

R = TypeVar("R")


class TradewindApp(App[None]):
    CSS_PATH = "tradewind.tcss"
    TITLE = "Tradewind"
    BINDINGS = [
        Binding("question_mark", "keys", "Keys"),
        Binding("d", "dags", "DAGs"),
        Binding("w", "workers", "Workers"),
        Binding("e", "import_errors", "Import errors"),
        Binding("n", "connections", "Connections", show=False),
        Binding("b", "backfills", "Backfills", show=False),
        Binding("a", "assets", "Assets", show=False),
        Binding("q", "quit", "Quit"),
    ]

    COMMANDS = App.COMMANDS | {TradewindCommands}
    #: "connecting", "connected", or why the coordinator cannot be reached.
    link: reactive[str] = reactive("connecting")

    def __init__(
        self, host: str, *, now: Callable[[], datetime] | None = None, credentials: Credentials | None = None
    ) -> None:
        super().__init__()
        self.host = host
        self.client = Client(host, timeout=10.0, connect_timeout=3.0, credentials=credentials)
        self.feed = Feed(self.client, self.post_message)
        self._fixed_now = now
        self._skew = timedelta(0)
        #: Every active DAG as last seen, kept current by the feed: the DAG list and the palette read it.
        self.dags: dict[str, control_pb2.Dag] = {}
        self.lost_at: datetime | None = None

    # ---- time and calls -----------------------------------------------------------------
    def now(self) -> datetime:
        """The coordinator's clock, as near as we know it: ages and durations are measured against it."""
        if self._fixed_now is not None:
            return self._fixed_now()
        return datetime.now(UTC) + self._skew

    async def call(self, method: Callable[..., R], *args: Any, quiet: bool = False, **kwargs: Any) -> R | None:
        """Run one blocking client call off the event loop; an error becomes a notification and None."""
        try:
            return await asyncio.to_thread(method, *args, **kwargs)
        except Unavailable as exc:
            if not quiet and self.link == "connected":
                self.notify(str(exc), title="Coordinator unreachable", severity="error")
            return None
        except ApiError as exc:
            if not quiet:
                self.notify(str(exc), title="Refused", severity="error", timeout=8)
            return None

    # ---- lifecycle ----------------------------------------------------------------------
    def on_mount(self) -> None:
        self.push_screen(DagsScreen())
        self.run_worker(self.feed.run, thread=True, name="watch feed", group="feed")
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        self.feed.stop()
        self.client.close()

    def live_screens(self) -> list[LiveScreen]:
        return [s for s in self.screen_stack if isinstance(s, LiveScreen)]

    def top_live_screen(self) -> LiveScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, LiveScreen):
                return screen
            if not isinstance(screen, ModalScreen):
                return None
        return None

    # ---- the feed -----------------------------------------------------------------------
    async def on_connected(self, message: Connected) -> None:
        if message.server_time is not None and self._fixed_now is None:
            self._skew = message.server_time - datetime.now(UTC)
        was = self.link
        self.link = "connected"
        self.lost_at = None
        if was not in ("connected", "connecting"):
            self.notify(f"Connected to the coordinator at {self.host} again.", title="Reconnected")
        await self._reread()

    async def on_resync(self, message: Resync) -> None:
        await self._reread()

    async def _reread(self) -> None:
        """Changes may have been missed: the top screen reads a fresh snapshot, the others when shown."""
        top = self.top_live_screen()
        for screen in self.live_screens():
            screen.stale = screen is not top
        if top is None:
            return
        if not top.loaded:  # its first snapshot is still loading: it reads again once that is done
            top.stale = True
            return
        try:
            await top.reload()
        except NoMatches:  # its widgets are being built or taken down: it reads again shortly
            top.stale = True
            self.set_timer(0.2, self._reread_stale_top)

    async def _reread_stale_top(self) -> None:
        top = self.top_live_screen()
        if top is not None and top.stale:
            await self._reread()

    def on_disconnected(self, message: Disconnected) -> None:
        if self.lost_at is None:
            self.lost_at = datetime.now(UTC)
        since = self.lost_at.strftime("%H:%M:%S")
        self.link = f"coordinator at {self.host} unreachable since {since} UTC: showing the last state, reconnecting"

    def on_wake(self, message: Wake) -> None:
        changes = self.feed.take()
        if not changes:
            return
        for change in changes:
            if change.WhichOneof("change") == "dag":
                self.record_dag(change.dag)
        top = self.top_live_screen()
        for screen in self.live_screens():
            if screen is top and screen.loaded:
                try:
                    screen.apply(changes)
                except NoMatches:  # its widgets are being built or taken down: it reads again shortly
                    screen.stale = True
                    self.set_timer(0.2, self._reread_stale_top)
            else:
                screen.stale = True

    def record_dag(self, dag: control_pb2.Dag) -> None:
        if dag.active:
            self.dags[dag.dag_id] = dag
        else:
            self.dags.pop(dag.dag_id, None)

    def _tick(self) -> None:
        top = self.top_live_screen()
        if top is not None and top.loaded:
            top.tick()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own commands, and every action of the screen the palette was opened on."""
        yield from super().get_system_commands(screen)
        seen = {"Keys", "Quit"}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.description in seen or not active.enabled:
                continue
            seen.add(binding.description)
            node, action = active.node, binding.action
            yield SystemCommand(
                binding.description,
                f"{binding.key_display or key} on this screen",
                partial(self._run_bound, node, action),
            )

    def _run_bound(self, node: DOMNode, action: str) -> None:
        self.call_later(self.run_action, action, node)

    # ---- actions available everywhere ---------------------------------------------------
    def action_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_dags(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def action_workers(self) -> None:
        if not isinstance(self.screen, WorkersScreen):
            self.push_screen(WorkersScreen())

    def action_backfills(self) -> None:
        if not isinstance(self.screen, BackfillsScreen):
            self.push_screen(BackfillsScreen())

    def action_import_errors(self) -> None:
        if not isinstance(self.screen, ImportErrorsScreen):
            self.push_screen(ImportErrorsScreen())

    def action_connections(self) -> None:
        if not isinstance(self.screen, ConnectionsScreen):
            self.push_screen(ConnectionsScreen())

    def action_assets(self) -> None:
        if not isinstance(self.screen, AssetsScreen):
            self.push_screen(AssetsScreen())

    @work(group="palette")
    async def trigger_from_palette(self, dag_id: str) -> None:
        screen = self.top_live_screen()
        if screen is not None:
            await trigger_dag(screen, dag_id)

    @work(group="palette")
    async def pause_from_palette(self, dag_id: str) -> None:
        screen, dag = self.top_live_screen(), self.dags.get(dag_id)
        if screen is not None and dag is not None:
            await toggle_pause(screen, dag)

    def open_dag(self, dag_id: str) -> None:
        self.push_screen(DagScreen(dag_id))

    def open_task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> None:
        self.push_screen(TaskInstanceScreen(dag_id, run_id, task_id, map_index))


def run(host: str, credentials: Credentials | None = None) -> None:
    TradewindApp(host, credentials=credentials).run()
