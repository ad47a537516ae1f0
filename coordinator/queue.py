"""The priority queue of task instances waiting for a worker slot.

Ordered by effective priority weight (highest first), then by the time they entered the
queue. Entries are grouped by (queue name, task kind, DAG, pool), so picking for a worker
skips a whole group when its DAG or pool is full instead of scanning every entry.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection
from typing import NamedTuple

from coordinator.records import TaskInstance
from tradewind.states import TaskState


class GroupKey(NamedTuple):
    queue: str
    kind: str
    dag_id: str
    pool: str


_Entry = tuple[int, int, int, TaskInstance]  # (-priority, seq, ti id, ti)


class ReadyQueue:
    def __init__(self) -> None:
        self._groups: dict[GroupKey, list[_Entry]] = {}
        self._by_queue: dict[str, set[GroupKey]] = {}
        self._seq = 0
        self._size = 0

    def push(self, ti: TaskInstance) -> None:
        """Add a SCHEDULED task instance; a task instance pushed again replaces its old entry."""
        spec = ti.spec
        self._seq += 1
        ti.seq = self._seq
        key = GroupKey(spec.queue, spec.kind, ti.run.dag_id, spec.pool)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = []
            self._by_queue.setdefault(spec.queue, set()).add(key)
        heapq.heappush(group, (-spec.priority, self._seq, ti.id, ti))
        self._size += 1

    def pop_for(
        self,
        queues: Collection[str],
        kinds: Collection[str],
        allowed: Callable[[GroupKey, TaskInstance], bool],
        refused: Callable[[TaskInstance], bool] | None = None,
    ) -> TaskInstance | None:
        """The best task instance a worker serving `queues` and `kinds` may take now, removed.

        `allowed` judges a group by its head (DAG, pool); `refused` skips single task instances
        this worker refused, so one of them does not hold back the rest of its group.
        """
        best: tuple[_Entry, GroupKey] | None = None
        for queue in queues:
            for key in list(self._by_queue.get(queue, ())):
                if key.kind not in kinds:
                    continue
                head = self._head(key)
                if head is None or not allowed(key, head[3]):
                    continue
                if refused is not None and refused(head[3]):
                    head = self._best_not_refused(key, refused)
                    if head is None:
                        continue
                if best is None or head[:2] < best[0][:2]:
                    best = (head, key)
        if best is None:
            return None
        entry, key = best
        group = self._groups[key]
        if group[0] is entry:
            heapq.heappop(group)
        else:
            group.remove(entry)
            heapq.heapify(group)
        self._size -= 1
        self._drop_if_empty(key)
        return entry[3]

    def _best_not_refused(self, key: GroupKey, refused: Callable[[TaskInstance], bool]) -> _Entry | None:
        """Scans the group: refusals are rare, and only then is the head passed over."""
        live = (
            e for e in self._groups[key] if e[3].state is TaskState.SCHEDULED and e[3].seq == e[1] and not refused(e[3])
        )
        return min(live, default=None, key=lambda e: e[:2])

    def _head(self, key: GroupKey) -> _Entry | None:
        group = self._groups[key]
        while group:
            entry = group[0]
            ti = entry[3]
            if ti.state is TaskState.SCHEDULED and ti.seq == entry[1]:
                return entry
            heapq.heappop(group)
            self._size -= 1
        self._drop_if_empty(key)
        return None

    def _drop_if_empty(self, key: GroupKey) -> None:
        if not self._groups.get(key, True):
            del self._groups[key]
            self._by_queue[key.queue].discard(key)

    def waiting_by_pool(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for key, group in self._groups.items():
            live = sum(1 for e in group if e[3].state is TaskState.SCHEDULED and e[3].seq == e[1])
            counts[key.pool] = counts.get(key.pool, 0) + live
        return counts

    def ahead_of(self, ti: TaskInstance) -> int:
        """How many live entries of its queue come before it (for explain; not on the hot path)."""
        spec = ti.spec
        mine = (-spec.priority, ti.seq)
        return sum(
            1
            for key in self._by_queue.get(spec.queue, ())
            for e in self._groups[key]
            if e[3].state is TaskState.SCHEDULED and e[3].seq == e[1] and e[:2] < mine
        )

    def __len__(self) -> int:
        return self._size
