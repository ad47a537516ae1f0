"""One task instance: its state, every try with its timings, worker, command and resource use, and logs."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tradewind.v1 import common_pb2, control_pb2
from tradewind.wire import from_timestamp
from tui import actions
from tui.screens.base import LiveScreen
from tui.text import clock, duration, size, span
from tui.widgets.log_view import LogView
from tui.widgets.state_badge import task_badge

LIVE = {
    common_pb2.TASK_STATE_SCHEDULED,
    common_pb2.TASK_STATE_QUEUED,
    common_pb2.TASK_STATE_RUNNING,
}
#: States in which a task instance waits for something; the screen says what.
WAITING = {
    common_pb2.TASK_STATE_NONE,
    common_pb2.TASK_STATE_SCHEDULED,
    common_pb2.TASK_STATE_QUEUED,
    common_pb2.TASK_STATE_UP_FOR_RETRY,
    common_pb2.TASK_STATE_UP_FOR_RESCHEDULE,
    common_pb2.TASK_STATE_DEFERRED,
}


def hop(attempt: control_pb2.TaskAttempt, start: str, end: str) -> str:
    began, ended = from_timestamp(getattr(attempt, start)), from_timestamp(getattr(attempt, end))
    if began is None or ended is None:
        return "-"
    return duration((ended - began).total_seconds())


class TaskInstanceScreen(LiveScreen):
    AUTO_FOCUS = "#log"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "clear", "Clear"),
        Binding("s", "mark('success')", "Mark success"),
        Binding("f", "mark('failed')", "Mark failed"),
        Binding("left_square_bracket", "try_step(-1)", "Earlier try"),
        Binding("right_square_bracket", "try_step(1)", "Later try"),
        Binding("less_than_sign", "instance_step(-1)", "Previous instance", show=False),
        Binding("greater_than_sign", "instance_step(1)", "Next instance", show=False),
    ]

    def __init__(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> None:
        super().__init__()
        self.dag_id, self.run_id, self.task_id = dag_id, run_id, task_id
        #: The instance shown, of a mapped task; -1 for a task that is not mapped.
        self.map_index = map_index
        self.PLACE = f"{dag_id} › {run_id} › {task_id}"
        #: Every instance of the mapped task, in map-index order (empty for a task that is not mapped).
        self.instances: list[control_pb2.TaskInstance] = []
        self.ti: control_pb2.TaskInstance | None = None
        self.attempts: list[control_pb2.TaskAttempt] = []
        #: What holds it back, while it waits.
        self.conditions: list[control_pb2.WaitCondition] = []
        #: The try whose details and log are shown; 0 follows the latest.
        self.viewing = 0

    def body(self) -> Iterable[Widget]:
        with Horizontal():
            with Vertical(id="ti-side"):
                with VerticalScroll(id="ti-details-box"):
                    yield Static(id="ti-details")
                yield OptionList(id="tries")
                yield OptionList(id="instances")
            with Vertical(id="ti-log-box"):
                yield Static(id="log-title")
                yield LogView(id="log")

    @property
    def log_view(self) -> LogView:
        return self.query_one(LogView)

    # ---- loading ------------------------------------------------------------------------
    async def reload(self) -> None:
        await self._fetch(restart_log=True)

    async def _fetch(self, restart_log: bool = False) -> None:
        where = (self.dag_id, self.run_id, self.task_id)
        response = await self.tw.call(
            self.tw.client.get_task_instance, *where, self.map_index, quiet=self.ti is not None
        )
        if response is None:
            return
        if self.map_index >= 0:
            listed = await self.tw.call(self.tw.client.list_task_instances, self.dag_id, self.run_id, quiet=True)
            if listed is not None:
                found = [t for t in listed.task_instances if t.task_id == self.task_id and t.map_index >= 0]
                self.instances = sorted(found, key=lambda t: t.map_index)
        old_try = self.ti.try_number if self.ti is not None else -1
        self.ti, self.attempts = response.task_instance, list(response.attempts)
        self.conditions = []
        if self.ti.state in WAITING:
            explained = await self.tw.call(
                self.tw.client.explain_task_instance, *where, self.map_index, quiet=True
            )
            if explained is not None:
                self.conditions = [c for c in explained.conditions if c.reason != control_pb2.WAIT_REASON_NOT_WAITING]
        self._show()
        shown = self.shown_try()
        new_try = self.ti.try_number != old_try and self.viewing == 0
        if restart_log or new_try or self.log_view.key is None or self.log_view.key[3] != shown:
            self._read_log()

    def shown_try(self) -> int:
        if self.viewing:
            return self.viewing
        return self.ti.try_number if self.ti is not None else 0

    def _read_log(self) -> None:
        shown = self.shown_try()
        title = self.query_one("#log-title", Static)
        if shown == 0:
            self.log_view.stop()
            self.log_view.clear()
            title.update(Text(" No try yet: the log starts when the task does.", style="dim"), layout=False)
            return
        latest = self.ti is not None and shown == self.ti.try_number
        live = latest and self.ti is not None and self.ti.state in LIVE
        title.update(
            Text.assemble((f" Log of try {shown}", "bold"), (" · following live" if live else "", "green")),
            layout=False,
        )
        self.log_view.read(
            self.tw.client, self.dag_id, self.run_id, self.task_id, shown, follow=latest, map_index=self.map_index
        )

    def _attempt(self, try_number: int) -> control_pb2.TaskAttempt | None:
        for attempt in self.attempts:
            if attempt.try_number == try_number:
                return attempt
        return None

    def _show(self) -> None:
        ti = self.ti
        if ti is None:
            return
        now = self.tw.now()
        text = Text()
        mapped = f" [{ti.map_index}] {ti.rendered_map_index}".rstrip() if ti.map_index >= 0 else ""
        text.append(f"{ti.task_id}{mapped}\n", style="bold")
        text.append_text(task_badge(ti.state))
        text.append(f" · try {ti.try_number} of {ti.max_tries}\n\n")
        rows = [
            ("operator", ti.operator),
            ("run", ti.run_id),
            ("worker", ti.worker or "-"),
            ("queue", ti.queue),
            ("pool", ti.pool),
            ("priority", str(ti.priority_weight)),
            ("started", clock(ti.start_date)),
            ("ended", clock(ti.end_date)),
            ("duration", span(ti.start_date, ti.end_date, now)),
        ]
        if ti.HasField("next_retry_at"):
            rows.append(("next retry", clock(ti.next_retry_at)))
        for name, value in rows:
            text.append(f"{name:<10}", style="dim")
            text.append(f"{value}\n")
        if self.conditions:
            text.append("\nWaiting because\n", style="bold underline")
            for condition in self.conditions:
                text.append(f"• {condition.message}\n", style="yellow")
        attempt = self._attempt(self.shown_try())
        if attempt is not None:
            text.append(f"\nTry {attempt.try_number}\n", style="bold underline")
            text.append_text(task_badge(attempt.state))
            text.append(f" on {attempt.worker or '-'}\n")
            hops = [
                ("queued", clock(attempt.queued_at)),
                ("sent", f"+{hop(attempt, 'queued_at', 'sent_at')}"),
                ("acked", f"+{hop(attempt, 'sent_at', 'acked_at')}"),
                ("started", clock(attempt.started_at)),
                ("ended", clock(attempt.ended_at)),
                ("ran", span(attempt.started_at, attempt.ended_at, now)),
            ]
            if attempt.HasField("exit_code"):
                hops.append(("exit code", str(attempt.exit_code)))
            if attempt.HasField("usage"):
                usage = attempt.usage
                hops.append(("cpu", f"{usage.cpu_user_seconds:.2f}s user, {usage.cpu_system_seconds:.2f}s sys"))
                hops.append(("max rss", size(usage.max_rss_bytes)))
            for name, value in hops:
                text.append(f"{name:<10}", style="dim")
                text.append(f"{value}\n")
            if attempt.error:
                text.append("error     ", style="dim")
                text.append(f"{attempt.error}\n", style="red")
            if attempt.rendered:
                text.append("\nrendered\n", style="dim")
                text.append(f"{attempt.rendered}\n", style="cyan")
        self.query_one("#ti-details", Static).update(text)
        tries = self.query_one("#tries", OptionList)
        tries.clear_options()
        for attempt in self.attempts:
            number = attempt.try_number
            label = Text.assemble(
                (f"try {number} ", "bold" if number == self.shown_try() else ""),
                task_badge(attempt.state),
                f" {span(attempt.started_at, attempt.ended_at, now)}",
            )
            tries.add_option(Option(label, id=str(number)))
        instances = self.query_one("#instances", OptionList)
        instances.display = bool(self.instances)
        instances.clear_options()
        for other in self.instances:
            mark = "bold" if other.map_index == self.map_index else ""
            label = Text.assemble(
                (f"[{other.map_index}] ", mark), task_badge(other.state), f" {other.rendered_map_index}"
            )
            instances.add_option(Option(label, id=f"map-{other.map_index}"))

    def tick(self) -> None:
        if self.ti is not None and self.ti.state in LIVE:
            self._show()

    # ---- live ---------------------------------------------------------------------------
    def apply(self, changes: list[control_pb2.WatchResponse]) -> None:
        if self.ti is not None and self.ti.state in WAITING and changes:
            # What holds it back may be anything else: upstream tasks, pools, workers.
            self.soon(self._fetch)
            return
        for change in changes:
            if change.WhichOneof("change") == "task_instance":
                ti = change.task_instance
                if (ti.dag_id, ti.run_id, ti.task_id) == (self.dag_id, self.run_id, self.task_id):
                    self.soon(self._fetch)
                    return

    # ---- actions ------------------------------------------------------------------------
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id and event.option.id.startswith("map-"):
            self._view_instance(int(event.option.id.removeprefix("map-")))
        elif event.option.id:
            self._view_try(int(event.option.id))

    def action_instance_step(self, step: int) -> None:
        indexes = [t.map_index for t in self.instances]
        if self.map_index in indexes:
            position = max(0, min(indexes.index(self.map_index) + step, len(indexes) - 1))
            self._view_instance(indexes[position])

    def _view_instance(self, map_index: int) -> None:
        """Show another instance of the mapped task: its tries and its log."""
        if map_index == self.map_index:
            return
        self.map_index, self.viewing, self.ti = map_index, 0, None
        self.soon(self.reload)

    def action_try_step(self, step: int) -> None:
        if self.ti is None or not self.ti.try_number:
            return
        shown = max(1, min(self.shown_try() + step, self.ti.try_number))
        self._view_try(shown)

    def _view_try(self, number: int) -> None:
        latest = self.ti is not None and number == self.ti.try_number
        self.viewing = 0 if latest else number
        self._show()
        self._read_log()

    @work(group="action")
    async def action_clear(self) -> None:
        if await actions.clear_task(self, self.dag_id, self.run_id, self.task_id):
            self.viewing = 0

    @work(group="action")
    async def action_mark(self, state: str) -> None:
        await actions.mark_task(self, self.dag_id, self.run_id, self.task_id, state, self.map_index)
