"""The graph: tasks laid out by dependency level (a task sits one level below its deepest upstream),
each with its edges to the next tasks, coloured by the selected run's states.

Only the lines on screen are drawn, so a DAG of thousands of tasks scrolls like a short one.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tradewind.v1 import common_pb2, control_pb2
from tui.widgets.state_badge import ABSENT, TASK_COLORS

_LEVEL = Style(dim=True, bold=True)
_EDGE = Style(dim=True)
_UP = Style(color="#5fafff")
_DOWN = Style(color="#d7af5f")
_CURSOR = Style(reverse=True, bold=True)


def levels(tasks: list[control_pb2.Task]) -> dict[str, int]:
    """Each task's depth: 0 for tasks without upstream, else one more than its deepest upstream task."""
    upstream = {t.task_id: [u for u in t.upstream_task_ids] for t in tasks}
    depth: dict[str, int] = {}
    pending = {t: len(ups) for t, ups in upstream.items()}
    downstream: dict[str, list[str]] = {t.task_id: list(t.downstream_task_ids) for t in tasks}
    ready = [t for t, n in pending.items() if n == 0]
    for task_id in ready:
        depth[task_id] = 0
    while ready:
        task_id = ready.pop()
        for child in downstream.get(task_id, []):
            if child not in pending:
                continue
            depth[child] = max(depth.get(child, 0), depth[task_id] + 1)
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    return {t: depth.get(t, 0) for t in upstream}


@dataclass
class Line:
    level: int
    task: control_pb2.Task | None = None


class DagGraph(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-20)", show=False),
        Binding("pagedown", "move(20)", show=False),
        Binding("enter", "select", "Open task instance"),
    ]

    cursor: reactive[int] = reactive(0, repaint=False)

    class Moved(Message):
        def __init__(self, graph: DagGraph) -> None:
            super().__init__()
            self.graph = graph

    class Selected(Message):
        def __init__(self, graph: DagGraph) -> None:
            super().__init__()
            self.graph = graph

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Line] = []
        self.task_rows: list[int] = []
        self.states: dict[str, int] = {}
        self.upstream: set[str] = set()
        self.downstream: set[str] = set()

    def show_tasks(self, tasks: list[control_pb2.Task]) -> None:
        depth = levels(tasks)
        by_level: dict[int, list[control_pb2.Task]] = {}
        for task in tasks:
            by_level.setdefault(depth[task.task_id], []).append(task)
        self.lines = []
        for level in sorted(by_level):
            self.lines.append(Line(level))
            self.lines.extend(Line(level, task) for task in by_level[level])
        self.task_rows = [i for i, line in enumerate(self.lines) if line.task is not None]
        width = max((len(line.task.task_id) + 40 for line in self.lines if line.task), default=20)
        self.virtual_size = Size(width, len(self.lines))
        self.cursor = min(self.cursor, max(len(self.task_rows) - 1, 0))
        self._focus_edges()
        self.refresh()

    def show_states(self, states: dict[str, int]) -> None:
        self.states = states
        self.refresh()

    @property
    def task_id(self) -> str | None:
        if not self.task_rows:
            return None
        task = self.lines[self.task_rows[self.cursor]].task
        return task.task_id if task else None

    def move_to(self, task_id: str | None) -> None:
        for i, row in enumerate(self.task_rows):
            task = self.lines[row].task
            if task is not None and task.task_id == task_id:
                self.cursor = i
                self._focus_edges()
                self._keep_cursor_visible()
                self.refresh()
                return

    def action_move(self, delta: int) -> None:
        if not self.task_rows:
            return
        new = max(0, min(self.cursor + delta, len(self.task_rows) - 1))
        if new != self.cursor:
            self.cursor = new
            self._focus_edges()
            self._keep_cursor_visible()
            self.refresh()
            self.post_message(self.Moved(self))

    def action_select(self) -> None:
        if self.task_id is not None:
            self.post_message(self.Selected(self))

    def _focus_edges(self) -> None:
        if not self.task_rows:
            self.upstream, self.downstream = set(), set()
            return
        task = self.lines[self.task_rows[self.cursor]].task
        assert task is not None
        self.upstream, self.downstream = set(task.upstream_task_ids), set(task.downstream_task_ids)

    def _keep_cursor_visible(self) -> None:
        row = self.task_rows[self.cursor]
        top, height = self.scroll_offset.y, max(self.size.height, 1)
        if row - 1 < top:
            self.scroll_to(y=max(row - 1, 0), animate=False)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = self.scroll_offset.y + y
        if index >= len(self.lines):
            return Strip.blank(width)
        line = self.lines[index]
        if line.task is None:
            return Strip([Segment(f"── level {line.level} ", _LEVEL)]).extend_cell_length(width)
        task = line.task
        state = self.states.get(task.task_id, common_pb2.TASK_STATE_UNSPECIFIED)
        color = Style(color=TASK_COLORS.get(state, ABSENT))
        on_cursor = self.task_rows and index == self.task_rows[self.cursor]
        mark = "↑" if task.task_id in self.upstream else "↓" if task.task_id in self.downstream else " "
        mark_style = _UP if mark == "↑" else _DOWN if mark == "↓" else _EDGE
        segments = [
            Segment(f" {mark} ", mark_style),
            Segment("■ ", color),
            Segment(task.task_id, _CURSOR if on_cursor else Style(bold=True)),
            Segment(f"  {task.operator}", _EDGE),
        ]
        if task.downstream_task_ids:
            segments.append(Segment("  ──▶ ", _EDGE))
            segments.append(Segment(", ".join(task.downstream_task_ids), _DOWN if on_cursor else _EDGE))
        return Strip(segments).crop(self.scroll_offset.x, self.scroll_offset.x + width).extend_cell_length(width)
