"""Modal questions: confirm a change, and trigger a DAG with a JSON conf checked before it is sent."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


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
            yield Label(self.question, classes="question")
            yield Static(f"{keys}   [b]n[/b] no", classes="answers")

    def on_key(self, event: Any) -> None:
        if event.key in self.answers:
            event.stop()
            self.dismiss(event.key)

    def action_choose(self, key: str) -> None:
        self.dismiss(key)


def parse_conf(text: str) -> dict[str, Any]:
    """The conf a person typed: empty is {}; anything but a JSON object raises ValueError saying why."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise ValueError(f'conf must be a JSON object like {{"key": 1}}, not {type(value).__name__}')
    return value


class TriggerScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with the conf to trigger with, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, dag_id: str) -> None:
        super().__init__()
        self.dag_id = dag_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Trigger DAG [b]{self.dag_id}[/b]", classes="question")
            yield Input(placeholder='conf as a JSON object, e.g. {"day": "2026-11-25"}; empty for none', id="conf")
            yield Static("", id="conf-error")
            yield Static("[b]enter[/b] trigger   [b]escape[/b] cancel", classes="answers")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            conf = parse_conf(event.value)
        except ValueError as exc:
            self.query_one("#conf-error", Static).update(f"[red]{exc}[/red]")
            return
        self.dismiss(conf)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#conf-error", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)
