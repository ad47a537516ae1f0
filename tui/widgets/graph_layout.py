"""Where each task and edge of a DAG is drawn: levels as columns left to right, edges as box lines.

A task sits one level right of its deepest upstream task. An edge that skips levels passes
through a placeholder in each level between, so every edge is drawn between neighbouring
columns. Within a column, tasks are ordered by where their upstream tasks are, which keeps most
edges short and uncrossed. The result is a character grid that a widget draws a window of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradewind.v1 import control_pb2

GUTTER = 8
UP, DOWN, LEFT, RIGHT = 1, 2, 4, 8
#: Box-drawing character for each combination of the directions a line leaves a cell in.
LINES = {
    LEFT | RIGHT: "─",
    UP | DOWN: "│",
    DOWN | RIGHT: "┌",
    DOWN | LEFT: "┐",
    UP | RIGHT: "└",
    UP | LEFT: "┘",
    UP | DOWN | RIGHT: "├",
    UP | DOWN | LEFT: "┤",
    LEFT | RIGHT | DOWN: "┬",
    LEFT | RIGHT | UP: "┴",
    UP | DOWN | LEFT | RIGHT: "┼",
    LEFT: "─",
    RIGHT: "─",
    UP: "│",
    DOWN: "│",
}


def levels(tasks: list[control_pb2.Task]) -> dict[str, int]:
    """Each task's depth: 0 for tasks without upstream, else one more than its deepest upstream task."""
    known = {t.task_id for t in tasks}
    pending = {t.task_id: sum(1 for u in t.upstream_task_ids if u in known) for t in tasks}
    downstream = {t.task_id: [d for d in t.downstream_task_ids if d in known] for t in tasks}
    depth = {task_id: 0 for task_id, n in pending.items() if n == 0}
    ready = list(depth)
    while ready:
        task_id = ready.pop()
        for child in downstream[task_id]:
            depth[child] = max(depth.get(child, 0), depth[task_id] + 1)
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    return {t.task_id: depth.get(t.task_id, 0) for t in tasks}


@dataclass
class Node:
    """A task, or (task None) a placeholder that an edge skipping this level passes through."""

    key: str
    level: int
    task: control_pb2.Task | None = None
    slot: int = 0
    x: int = 0
    y: int = 0


@dataclass
class Layout:
    nodes: dict[str, Node] = field(default_factory=dict)
    #: Node keys per level, top to bottom.
    columns: list[list[str]] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)
    #: (x, y) -> direction mask of the lines through that cell.
    lines: dict[tuple[int, int], int] = field(default_factory=dict)
    arrows: set[tuple[int, int]] = field(default_factory=set)
    width: int = 0
    height: int = 0

    def task_at(self, level: int, slot: int) -> Node | None:
        column = self.columns[level] if 0 <= level < len(self.columns) else []
        return self.nodes[column[slot]] if 0 <= slot < len(column) else None


def label_width(task: control_pb2.Task) -> int:
    return len(graph_label(task.task_id, task))


def graph_label(key: str, task: control_pb2.Task) -> str:
    """A task's label in the graph: its state mark, its display name (else its id), and ↑ for a
    setup or ↓ for a teardown (Airflow's marks)."""
    role = " ↑" if task.is_setup else " ↓" if task.is_teardown else ""
    return f"■ {task.display_name or key}{role}"


def lay_out(tasks: list[control_pb2.Task]) -> Layout:
    layout = Layout()
    if not tasks:
        return layout
    depth = levels(tasks)
    by_id = {t.task_id: t for t in tasks}
    order = {t.task_id: i for i, t in enumerate(tasks)}
    count = max(depth.values()) + 1
    members: list[list[str]] = [[] for _ in range(count)]
    preds: dict[str, list[str]] = {}
    segments: list[tuple[str, str]] = []
    for task in tasks:
        layout.nodes[task.task_id] = Node(task.task_id, depth[task.task_id], task)
        members[depth[task.task_id]].append(task.task_id)
    for task in tasks:
        for child in task.downstream_task_ids:
            if child not in by_id:
                continue
            previous = task.task_id
            for level in range(depth[task.task_id] + 1, depth[child]):
                key = f"{task.task_id}\0{child}\0{level}"
                layout.nodes[key] = Node(key, level)
                order[key] = order[task.task_id]
                members[level].append(key)
                segments.append((previous, key))
                preds.setdefault(key, []).append(previous)
                previous = key
            segments.append((previous, child))
            preds.setdefault(child, []).append(previous)
    slots: dict[str, int] = {}
    for level, keys in enumerate(members):
        if level:
            keys.sort(key=lambda k: (sum(slots[p] for p in preds.get(k, [])) / max(len(preds.get(k, [])), 1), order[k]))
        for slot, key in enumerate(keys):
            slots[key] = slot
        layout.columns.append(keys)
        labels = [label_width(layout.nodes[k].task) for k in keys if layout.nodes[k].task is not None]  # type: ignore[arg-type]
        layout.widths.append(max(labels, default=4))
    x = 1
    for level, keys in enumerate(layout.columns):
        for slot, key in enumerate(keys):
            node = layout.nodes[key]
            node.slot, node.x, node.y = slot, x, slot * 2
            if node.task is None:
                for dx in range(layout.widths[level]):
                    _mark(layout, x + dx, node.y, LEFT | RIGHT)
        x += layout.widths[level] + GUTTER
    layout.width = x - GUTTER + 1
    layout.height = max((len(keys) for keys in layout.columns), default=0) * 2
    lanes: dict[str, int] = {}
    for source, target in segments:
        a, b = layout.nodes[source], layout.nodes[target]
        lane_x = a.x + layout.widths[a.level] + 1 + lanes.setdefault(source, len(lanes) % (GUTTER - 4))
        start = a.x + (label_width(a.task) if a.task is not None else layout.widths[a.level])
        for cx in range(start, lane_x):
            _mark(layout, cx, a.y, LEFT | RIGHT)
        if a.y == b.y:
            _mark(layout, lane_x, a.y, LEFT | RIGHT)
        else:
            down = b.y > a.y
            _mark(layout, lane_x, a.y, LEFT | (DOWN if down else UP))
            for cy in range(min(a.y, b.y) + 1, max(a.y, b.y)):
                _mark(layout, lane_x, cy, UP | DOWN)
            _mark(layout, lane_x, b.y, RIGHT | (UP if down else DOWN))
        if b.task is not None:
            for cx in range(lane_x + 1, b.x - 2):
                _mark(layout, cx, b.y, LEFT | RIGHT)
            layout.arrows.add((b.x - 2, b.y))
        else:
            for cx in range(lane_x + 1, b.x):
                _mark(layout, cx, b.y, LEFT | RIGHT)
    return layout


def _mark(layout: Layout, x: int, y: int, mask: int) -> None:
    layout.lines[(x, y)] = layout.lines.get((x, y), 0) | mask
