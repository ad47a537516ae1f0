"""The graph: the DAG drawn left to right by dependency level, with its edges as lines and arrows,
each task coloured by the selected run's state.

Only the window on screen is drawn (Textual's line API), so a DAG of a thousand tasks scrolls
like a small one. The selected task's upstream tasks are shown in blue, its downstream in gold.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tradewind.v1 import common_pb2, control_pb2
from tui.widgets.graph_layout import LINES, Layout, Node, graph_label, label_width, lay_out
from tui.widgets.state_badge import ABSENT, TASK_COLORS

_EDGE = Style(color="#6c6c6c")
_LABEL = Style(bold=True)
_UP = Style(color="#5fafff", bold=True)
_DOWN = Style(color="#d7af5f", bold=True)
_CURSOR = Style(reverse=True, bold=True)
_STATES = {state: Style(color=color) for state, color in TASK_COLORS.items()}
_NO_STATE = Style(color=ABSENT)


class DagGraph(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Upstream level", show=False),
        Binding("right", "move(1, 0)", "Downstream level", show=False),
        Binding("enter", "select", "Open task instance"),
    ]

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
        self.drawing = Layout()
        self.states: dict[str, int] = {}
        self.cursor: Node | None = None
        self.upstream: set[str] = set()
        self.downstream: set[str] = set()
        #: Canvas row -> the tasks whose labels are on it.
        self._rows: dict[int, list[Node]] = {}

    # ---- data ---------------------------------------------------------------------------
    def show_tasks(self, tasks: list[control_pb2.Task]) -> None:
        keep = self.task_id
        self.drawing = layout = lay_out(tasks)
        self._rows = {}
        for node in layout.nodes.values():
            if node.task is not None:
                self._rows.setdefault(node.y, []).append(node)
        self.virtual_size = Size(layout.width, layout.height)
        self.cursor = None
        first = next((layout.nodes[k] for column in layout.columns for k in column if layout.nodes[k].task), None)
        target = layout.nodes.get(keep or "")
        self._put(target if target is not None and target.task is not None else first)

    def show_states(self, states: dict[str, int]) -> None:
        self.states = states
        self.refresh()

    @property
    def task_id(self) -> str | None:
        return self.cursor.key if self.cursor is not None else None

    def move_to(self, task_id: str | None) -> None:
        node = self.drawing.nodes.get(task_id or "")
        if node is not None and node.task is not None and node is not self.cursor:
            self._put(node)

    def _put(self, node: Node | None) -> None:
        self.cursor = node
        task = node.task if node is not None else None
        self.upstream = set(task.upstream_task_ids) if task is not None else set()
        self.downstream = set(task.downstream_task_ids) if task is not None else set()
        if node is not None and node.task is not None:
            width = label_width(node.task)
            self.scroll_to_region(Region(node.x - 2, node.y, width + 4, 1), animate=False, immediate=True)
        self.refresh()

    # ---- keys ---------------------------------------------------------------------------
    def action_move(self, dx: int, dy: int) -> None:
        node = self.cursor
        if node is None:
            return
        layout = self.drawing
        found: Node | None = None
        if dy:
            slot = node.slot + dy
            while found is None and 0 <= slot < len(layout.columns[node.level]):
                candidate = layout.task_at(node.level, slot)
                found = candidate if candidate is not None and candidate.task is not None else None
                slot += dy
        else:
            level = node.level + dx
            while found is None and 0 <= level < len(layout.columns):
                tasks = [layout.nodes[k] for k in layout.columns[level] if layout.nodes[k].task is not None]
                found = min(tasks, key=lambda n: abs(n.y - node.y), default=None)
                level += dx
        if found is not None:
            self._put(found)
            self.post_message(self.Moved(self))

    def action_select(self) -> None:
        if self.cursor is not None:
            self.post_message(self.Selected(self))

    # ---- drawing ------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        left = self.scroll_offset.x
        row = self.scroll_offset.y + y
        layout = self.drawing
        chars = [" "] * width
        styles: list[Style | None] = [None] * width
        for x in range(left, left + width):
            mask = layout.lines.get((x, row))
            if (x, row) in layout.arrows:
                chars[x - left], styles[x - left] = "▶", _EDGE
            elif mask:
                chars[x - left], styles[x - left] = LINES[mask], _EDGE
        for node in self._rows.get(row, ()):
            assert node.task is not None
            key = node.key
            label = graph_label(key, node.task)
            state = self.states.get(key, common_pb2.TASK_STATE_UNSPECIFIED)
            text_style = (
                _CURSOR
                if node is self.cursor
                else _UP
                if key in self.upstream
                else _DOWN
                if key in self.downstream
                else _LABEL
            )
            for i, char in enumerate(label):
                at = node.x + i - left
                if 0 <= at < width:
                    chars[at] = char
                    styles[at] = _STATES.get(state, _NO_STATE) if i == 0 else text_style
        segments: list[Segment] = []
        start = 0
        for i in range(1, width + 1):
            if i == width or styles[i] != styles[start]:
                segments.append(Segment("".join(chars[start:i]), styles[start]))
                start = i
        return Strip(segments, width)
