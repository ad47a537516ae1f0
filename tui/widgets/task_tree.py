"""Task groups as the monitor shows them: the DAG's tasks under their groups, collapsed by default.

The grid shows a row per group and per task of an expanded group; a group's cell is the most
relevant state of its tasks, in the order Airflow's grid uses. The graph shows a collapsed group
as one node carrying the edges of its tasks. Groups come from each task's `group_id` path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tradewind.states import SUMMARY_ORDER
from tradewind.v1 import common_pb2, control_pb2
from tradewind.wire import task_state_to_pb

S = common_pb2
#: Airflow's grid summarises a group by the first of these states that any of its tasks has.
STATE_PRIORITY = tuple(task_state_to_pb(state) for state in SUMMARY_ORDER)
_RANK: dict[int, int] = {state: i for i, state in enumerate(STATE_PRIORITY)}


def summary_state(states: Iterable[int]) -> int:
    """A group's state: its tasks' most relevant one; unspecified when the run has none of them."""
    present = [s for s in states if s in _RANK]
    return min(present, key=lambda state: _RANK[state], default=S.TASK_STATE_UNSPECIFIED)


def group_key(path: str) -> str:
    """The row and node key of a group; a space is never in a task id, so it cannot clash with one."""
    return f"▸ {path}"


def _ancestors(path: str) -> list[str]:
    """The path and every path above it: "a.b.c" gives a, a.b and a.b.c."""
    parts = path.split(".") if path else []
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass(frozen=True)
class Row:
    """One grid row: a task (`group` None) or a group with every task beneath it in `members`."""

    key: str
    label: str
    depth: int
    group: str | None
    members: tuple[str, ...]


class TaskTree:
    """Which groups hold which tasks, and which groups are expanded (none at first)."""

    def __init__(self, tasks: Iterable[control_pb2.Task] = ()) -> None:
        tasks = list(tasks)
        self.path_of = {t.task_id: t.group_id for t in tasks if t.group_id}
        #: task_display_name by task id, for the tasks that have one: their row shows it, as Airflow's grid.
        self.display = {t.task_id: t.display_name for t in tasks if t.display_name}
        self.expanded: set[str] = set()

    def toggle(self, path: str) -> None:
        self.expanded ^= {path}

    def keep_expanded(self, previous: TaskTree) -> None:
        """After a reload, groups that still exist stay as they were."""
        paths = {a for p in self.path_of.values() for a in _ancestors(p)}
        self.expanded = previous.expanded & paths

    def shown_as(self, task_id: str) -> str:
        """The key the task is shown under: its outermost collapsed group, or itself."""
        for path in _ancestors(self.path_of.get(task_id, "")):
            if path not in self.expanded:
                return group_key(path)
        return task_id

    def rows(self, task_ids: list[str]) -> list[Row]:
        """Rows in task order; a group sits where its first task is."""
        members: dict[str, list[str]] = {}
        for task_id in task_ids:
            for path in _ancestors(self.path_of.get(task_id, "")):
                members.setdefault(path, []).append(task_id)
        out: list[Row] = []
        placed: set[str] = set()
        for task_id in task_ids:
            path = self.path_of.get(task_id, "")
            chain = _ancestors(path)
            for depth, ancestor in enumerate(chain):
                if ancestor not in placed:
                    placed.add(ancestor)
                    label = ancestor.rsplit(".", 1)[-1]
                    out.append(Row(group_key(ancestor), label, depth, ancestor, tuple(members[ancestor])))
                if ancestor not in self.expanded:
                    break
            else:
                label = self.display.get(task_id) or _label(task_id, path)
                out.append(Row(task_id, label, len(chain), None, (task_id,)))
        return out

    def with_groups(self, states: dict[str, int]) -> dict[str, int]:
        """Task states plus each group's summary under its key, for the graph."""
        members: dict[str, list[int]] = {}
        for task_id, path in self.path_of.items():
            for ancestor in _ancestors(path):
                members.setdefault(group_key(ancestor), []).append(states.get(task_id, S.TASK_STATE_UNSPECIFIED))
        return {**states, **{key: summary_state(found) for key, found in members.items()}}

    def graph_tasks(self, tasks: list[control_pb2.Task]) -> list[control_pb2.Task]:
        """The tasks the graph draws: each collapsed group as one node with its tasks' outside edges."""
        nodes: dict[str, control_pb2.Task] = {}
        ups: dict[str, dict[str, None]] = {}
        downs: dict[str, dict[str, None]] = {}
        for task in tasks:
            key = self.shown_as(task.task_id)
            if key not in nodes:
                nodes[key] = task if key == task.task_id else control_pb2.Task(task_id=key, operator="TaskGroup")
                ups[key], downs[key] = {}, {}
            for other, edges in ((task.upstream_task_ids, ups[key]), (task.downstream_task_ids, downs[key])):
                for task_id in other:
                    shown = self.shown_as(task_id)
                    if shown != key:
                        edges[shown] = None
        out = []
        for key, node in nodes.items():
            drawn = control_pb2.Task()
            drawn.CopyFrom(node)
            drawn.ClearField("upstream_task_ids")
            drawn.ClearField("downstream_task_ids")
            drawn.upstream_task_ids.extend(ups[key])
            drawn.downstream_task_ids.extend(downs[key])
            out.append(drawn)
        return out


def _label(task_id: str, path: str) -> str:
    """The task id without the prefix its groups gave it, as Airflow's grid labels a task."""
    parts = path.split(".")
    for start in range(len(parts)):
        prefix = ".".join(parts[start:]) + "."
        if task_id.startswith(prefix) and len(task_id) > len(prefix):
            return task_id[len(prefix) :]
    return task_id
