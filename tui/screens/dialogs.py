"""Modal questions: confirm a change, and trigger a DAG with a JSON conf checked before it is sent."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tradewind.exceptions import InvalidArgument
from tradewind.wire import conf_from_json


class ConfirmScreen(ModalScreen[str]):
    """Asks a question; dismisses with the key of the chosen answer, or "" for no."""

    BINDINGS = [Binding("escape,n", "choose('')", "No")]

    def __init__(self, question: str, answers: dict[str, str] | None = None) -> None:
        super().__init__()
        self.question = question
        self.answers = answers or {"y": "yes"}

    def compose(self) -> ComposeResult:
        keys = "   ".join(f"[b]{key}[/b] {label}" for key, label in self.answers.items())
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question", markup=False)
            yield Static(f"{keys}   [b]n[/b] no", classes="answers")

    def on_key(self, event: Any) -> None:
        if event.key in self.answers:
            event.stop()
            self.dismiss(event.key)

    def action_choose(self, key: str) -> None:
        self.dismiss(key)


class TriggerScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with the conf to trigger with, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, dag_id: str) -> None:
        super().__init__()
        self.dag_id = dag_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Trigger DAG [b]{self.dag_id}[/b]", classes="question")
            yield Input(placeholder='conf as a JSON object, e.g. {"day": "2026-11-25"}; empty for none', id="conf")
            yield Static("", id="conf-error")
            yield Static("[b]enter[/b] trigger   [b]escape[/b] cancel", classes="answers")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            conf = conf_from_json(event.value.strip(), "conf")
        except InvalidArgument as exc:
            self.query_one("#conf-error", Static).update(f"[red]{exc}[/red]")
            return
        self.dismiss(conf)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#conf-error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
