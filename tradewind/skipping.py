"""Which downstream tasks run after a task that chooses (Airflow's SkipMixin).

A branch, a short-circuit or a latest-only task decides inside its task process; the decision
travels with its result (worker.proto TaskFinished.follow) and the coordinator skips the task
instances not chosen, so skips follow the same trigger rules whichever worker ran the task.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradewind.exceptions import TaskFailed

if TYPE_CHECKING:
    from tradewind.baseoperator import BaseOperator


@dataclass(frozen=True)
class FollowTasks:
    """Direct downstream task ids to follow (others are skipped), or skip everything downstream."""

    task_ids: tuple[str, ...] = ()
    skip_all_downstream: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"task_ids": list(self.task_ids), "skip_all_downstream": self.skip_all_downstream}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FollowTasks:
        return cls(tuple(data.get("task_ids") or ()), bool(data.get("skip_all_downstream", False)))


#: The decision of the task this process runs; a task process runs one task.
_decided: FollowTasks | None = None


def follow_only(task: BaseOperator, chosen: Any) -> list[str]:
    """Follow only `chosen` (a task id, an iterable of them, or None for none) of the task's
    direct downstream tasks; a task group's id stands for its root tasks, as in Airflow. An id
    that is neither fails the task, naming it."""
    if chosen is None:
        ids: list[str] = []
    elif isinstance(chosen, str):
        ids = [chosen]
    elif isinstance(chosen, Iterable) and all(isinstance(item, str) for item in chosen):
        ids = list(dict.fromkeys(chosen))
    else:
        raise TaskFailed(
            f"{task.where}: a branch must return None, a task id or a list of task ids, not {chosen!r}"
        )
    ids = _expand_groups(task, ids)
    strangers = [task_id for task_id in ids if task_id not in task.downstream_task_ids]
    if strangers:
        direct = ", ".join(sorted(task.downstream_task_ids)) or "none"
        raise TaskFailed(
            f"{task.where}: chose task {strangers[0]!r}, which is not a direct downstream task "
            f"(its direct downstream tasks: {direct})"
        )
    _decide(FollowTasks(tuple(ids)))
    return ids


def _expand_groups(task: BaseOperator, ids: list[str]) -> list[str]:
    groups = task.dag.task_group_dict if task.dag is not None else {}
    expanded: dict[str, None] = {}
    for task_id in ids:
        for one in [root.task_id for root in groups[task_id].roots] if task_id in groups else [task_id]:
            expanded[one] = None
    return list(expanded)


def skip_all_downstream() -> None:
    """Skip every task downstream at any depth, whatever its trigger rule."""
    _decide(FollowTasks(skip_all_downstream=True))


def take_decision() -> FollowTasks | None:
    """The decision made by the task that ran in this process (and forget it)."""
    global _decided
    decision, _decided = _decided, None
    return decision


def _decide(decision: FollowTasks) -> None:
    global _decided
    _decided = decision
