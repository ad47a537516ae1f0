"""The command palette (ctrl+p): open, trigger, pause or unpause any DAG by name, and go to any screen."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import TradewindApp


class TradewindCommands(Provider):
    @property
    def tw(self) -> TradewindApp:
        return self.app  # type: ignore[return-value]

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.tw
        commands: list[tuple[str, Callable[[], object], str]] = [
            ("Workers", app.action_workers, "workers, their slots, CPU and memory"),
            ("Import errors", app.action_import_errors, "DAG files that failed to import"),
            ("DAGs", app.action_dags, "the DAG list"),
            ("Assets", app.action_assets, "assets, their events and the runs they started"),
        ]
        for dag_id in sorted(app.dags):
            commands.append((f"Open DAG {dag_id}", partial(app.open_dag, dag_id), "grid, graph and runs"))
            commands.append((f"Trigger DAG {dag_id}", partial(app.trigger_from_palette, dag_id), "create a run now"))
            paused = app.dags[dag_id].paused
            verb = "Unpause" if paused else "Pause"
            commands.append((f"{verb} DAG {dag_id}", partial(app.pause_from_palette, dag_id), ""))
        return commands

    async def discover(self) -> Hits:
        for name, command, help in self._commands()[:3]:
            yield DiscoveryHit(name, command, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, command, help in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, help=help)
