"""The grid: tasks as rows, runs as columns (oldest left, newest right), each cell a task instance's state.

Task groups are rows too, collapsed at first, their cells summarising their tasks' states; enter
or space on a group expands or collapses it (see tui.widgets.task_tree). It draws only the rows
on screen (Textual's line API), so a DAG of thousands of tasks costs what a screenful costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tradewind.v1 import common_pb2, control_pb2
from tui.widgets.state_badge import ABSENT, RUN_COLORS, TASK_COLORS
from tui.widgets.task_tree import Row, TaskTree, group_key, summary_state

LABEL_MAX = 32
CELL = 2
_STYLES = {state: Style(color=color) for state, color in TASK_COLORS.items()}
_RUN_STYLES = {state: Style(color=color) for state, color in RUN_COLORS.items()}
_ABSENT = Style(color=ABSENT)
_LABEL = Style()
_LABEL_CURSOR = Style(bold=True, reverse=True)
_HEADER = Style(dim=True)
_CURSOR = Style(bgcolor="#5f5f87", bold=True)


@dataclass
class GridData:
    """One page of runs; `runs[i]` owns `states[i]` and `tries[i]`, aligned with `task_ids`.
    `mapped[i]` holds, for the cells of mapped tasks, (instances, finished instances)."""

    task_ids: list[str]
    runs: list[control_pb2.DagRun]
    states: list[list[int]]
    tries: list[list[int]]
    mapped: list[dict[int, tuple[int, int]]] = field(default_factory=list)

    @classmethod
    def from_response(cls, response: control_pb2.GetDagGridResponse) -> GridData:
        """The response is newest first; the grid reads oldest first, left to right, as Airflow's does."""
        columns = list(reversed(response.columns))
        return cls(
            task_ids=list(response.task_ids),
            runs=list(reversed(response.dag_runs)),
            states=[list(c.states) for c in columns],
            tries=[list(c.try_numbers) for c in columns],
            mapped=[
                {i: (n, done) for i, (n, done) in enumerate(zip(c.mapped_counts, c.mapped_finished, strict=True)) if n}
                for c in columns
            ],
        )

    @classmethod
    def empty(cls) -> GridData:
        return cls([], [], [], [], [])

    def run_index(self, run_id: str) -> int | None:
        for i, run in enumerate(self.runs):
            if run.run_id == run_id:
                return i
        return None


class RunGrid(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Older run", show=False),
        Binding("right", "move(1, 0)", "Newer run", show=False),
        Binding("pageup", "move(0, -20)", show=False),
        Binding("pagedown", "move(0, 20)", show=False),
        Binding("home", "move(0, -1000000)", show=False),
        Binding("end", "move(0, 1000000)", show=False),
        Binding("enter", "select", "Open task instance"),
    ]

    cursor_row: reactive[int] = reactive(0, repaint=False)
    cursor_col: reactive[int] = reactive(0, repaint=False)

    class Moved(Message):
        """The cursor is on another cell."""

        def __init__(self, grid: RunGrid) -> None:
            super().__init__()
            self.grid = grid

    class Selected(Message):
        """Enter was pressed on a task's cell."""

        def __init__(self, grid: RunGrid) -> None:
            super().__init__()
            self.grid = grid

    class Toggled(Message):
        """A group was expanded or collapsed."""

        def __init__(self, grid: RunGrid) -> None:
            super().__init__()
            self.grid = grid

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data = GridData.empty()
        self.task_tree = TaskTree()
        self.rows: list[Row] = []
        self._row_of: dict[str, int] = {}
        #: Task id -> its index in `data.task_ids`, and so in every column's states.
        self._index_of: dict[str, int] = {}
        self.label_width = 8

    # ---- data ---------------------------------------------------------------------------
    def show(self, data: GridData, keep_run_id: str | None = None, keep_key: str | None = None) -> None:
        self.data = data
        self._index_of = {task_id: i for i, task_id in enumerate(data.task_ids)}
        col = data.run_index(keep_run_id) if keep_run_id else None
        self.cursor_col = col if col is not None else max(len(data.runs) - 1, 0)
        self.relayout(keep_key)

    def relayout(self, keep_key: str | None = None) -> None:
        """Rows again from the tree (after a group was expanded or collapsed), the cursor on `keep_key`."""
        self.rows = self.task_tree.rows(self.data.task_ids)
        self._row_of = {row.key: i for i, row in enumerate(self.rows)}
        widest = max((2 * r.depth + len(r.label) + (2 if r.group else 0) for r in self.rows), default=4)
        self.label_width = min(widest, LABEL_MAX) + 1
        self.virtual_size = Size(self.label_width + CELL * len(self.data.runs), len(self.rows) + 1)
        row = self._row_of.get(self.task_tree.shown_as(keep_key) if keep_key else "")
        self.cursor_row = row if row is not None else min(self.cursor_row, max(len(self.rows) - 1, 0))
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Moved(self))

    def set_cell(self, run_id: str, task_id: str, state: int, try_number: int) -> bool:
        """Update one cell; False when the run is not on this page (the caller decides whether to reload)."""
        col = self.data.run_index(run_id)
        index = self._index_of.get(task_id)
        if col is None or index is None:
            return False
        self.data.states[col][index] = state
        self.data.tries[col][index] = try_number
        row = self._row_of.get(self.task_tree.shown_as(task_id))
        if row is not None:
            self.refresh_line(row + 1 - self.scroll_offset.y)
            if (row, col) == (self.cursor_row, self.cursor_col):
                self.post_message(self.Moved(self))
        return True

    def set_run(self, run: control_pb2.DagRun) -> bool:
        col = self.data.run_index(run.run_id)
        if col is None:
            return False
        self.data.runs[col] = run
        self.refresh_line(0)
        if col == self.cursor_col:
            self.post_message(self.Moved(self))
        return True

    @property
    def run(self) -> control_pb2.DagRun | None:
        runs = self.data.runs
        return runs[self.cursor_col] if 0 <= self.cursor_col < len(runs) else None

    @property
    def row(self) -> Row | None:
        return self.rows[self.cursor_row] if 0 <= self.cursor_row < len(self.rows) else None

    @property
    def key(self) -> str | None:
        """The task id or group key under the cursor."""
        return self.row.key if self.row is not None else None

    @property
    def task_id(self) -> str | None:
        """The task under the cursor; None on a group's row."""
        row = self.row
        return row.key if row is not None and row.group is None else None

    @property
    def group(self) -> str | None:
        """The path of the group under the cursor; None on a task's row."""
        return self.row.group if self.row is not None else None

    def cell(self) -> tuple[int, int]:
        """(state, try number) under the cursor; a group's summary state, and no try, on a group."""
        row = self.row
        if self.run is None or row is None:
            return common_pb2.TASK_STATE_UNSPECIFIED, 0
        return self._state(self.cursor_col, row), self._try(self.cursor_col, row)

    def _state(self, col: int, row: Row) -> int:
        states = self.data.states[col]
        if row.group is None:
            return states[self._index_of[row.key]]
        return summary_state(states[self._index_of[t]] for t in row.members)

    def _try(self, col: int, row: Row) -> int:
        return self.data.tries[col][self._index_of[row.key]] if row.group is None else 0

    def instances(self) -> tuple[int, int] | None:
        """(task instances, finished ones) of the mapped task under the cursor; None when it is not one."""
        row, col = self.row, self.cursor_col
        if row is None or row.group is not None or not 0 <= col < len(self.data.mapped):
            return None
        return self.data.mapped[col].get(self._index_of[row.key])

    # ---- keys ---------------------------------------------------------------------------
    def action_move(self, dx: int, dy: int) -> None:
        if not self.rows:
            return
        old = (self.cursor_row, self.cursor_col)
        self.cursor_col = max(0, min(self.cursor_col + dx, len(self.data.runs) - 1))
        self.cursor_row = max(0, min(self.cursor_row + dy, len(self.rows) - 1))
        if old != (self.cursor_row, self.cursor_col):
            self._keep_cursor_visible()
            self.refresh()
            self.post_message(self.Moved(self))

    def move_to(self, run_id: str | None = None, key: str | None = None) -> None:
        """Put the cursor on a run and a task or group key; a task in a collapsed group finds the group."""
        col = self.data.run_index(run_id) if run_id else None
        if col is not None:
            self.cursor_col = col
        row = self._row_of.get(self.task_tree.shown_as(key)) if key else None
        if row is not None:
            self.cursor_row = row
        self._keep_cursor_visible()
        self.refresh()
        self.post_message(self.Moved(self))

    def action_select(self) -> None:
        if self.group is not None:
            self.action_toggle_group()
        elif self.run is not None and self.task_id is not None:
            self.post_message(self.Selected(self))

    def action_toggle_group(self) -> None:
        """On a group, expand or collapse it; on a task in a group, collapse the task's group."""
        row = self.row
        path = None if row is None else row.group or self.task_tree.path_of.get(row.key)
        if path:
            self.task_tree.toggle(path)
            self.relayout(group_key(path))
            self.post_message(self.Toggled(self))

    def _keep_cursor_visible(self) -> None:
        rows = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + rows:
            self.scroll_to(y=self.cursor_row - rows + 1, animate=False)

    # ---- drawing ------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        data = self.data
        if y == 0:
            segments = [Segment("task".ljust(self.label_width)[: self.label_width], _HEADER)]
            for col, run in enumerate(data.runs):
                style = _RUN_STYLES.get(run.state, _ABSENT)
                segments.append(Segment("▼ ", style + _CURSOR if col == self.cursor_col else style))
            return Strip(segments).crop(0, width).extend_cell_length(width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width)
        row = self.rows[index]
        marker = ("▾ " if row.group in self.task_tree.expanded else "▸ ") if row.group is not None else ""
        label = "  " * row.depth + marker + row.label
        if len(label) >= self.label_width:
            label = label[: self.label_width - 2] + "…"
        on_row = index == self.cursor_row
        segments = [Segment(label.ljust(self.label_width), _LABEL_CURSOR if on_row else _LABEL)]
        for col in range(len(data.runs)):
            state = self._state(col, row)
            style = _STYLES.get(state, _ABSENT)
            glyph = "■" if state != common_pb2.TASK_STATE_NONE else "□"
            if row.group is None and col < len(data.mapped) and self._index_of[row.key] in data.mapped[col]:
                glyph = "▦"  # a mapped task: the cell summarises its instances
            if on_row and col == self.cursor_col:
                segments.append(Segment(f"{glyph} ", style + _CURSOR))
            else:
                segments.append(Segment(f"{glyph} ", style))
        return Strip(segments).crop(0, width).extend_cell_length(width)
