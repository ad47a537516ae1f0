"""A stored DAG version as the scheduler sees it: tasks, edges and effective priorities.

Built once per DAG version from the serialized JSON (tradewind.serialization) and shared by
every run pinned to that version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coordinator import mapspec
from coordinator.mapspec import MapSpec
from tradewind.trigger_rules import TriggerRule


@dataclass(frozen=True, slots=True)
class TaskSpec:
    task_id: str
    index: int
    operator: str
    kind: str
    upstream: tuple[str, ...]
    trigger_rule: TriggerRule
    retries: int
    retry_delay: float
    retry_exponential_backoff: bool
    max_retry_delay: float | None
    queue: str
    pool: str
    pool_slots: int
    priority: int
    execution_timeout: float | None
    do_xcom_push: bool
    bash: dict[str, Any] | None
    python: dict[str, Any] | None
    params: dict[str, Any] = field(default_factory=dict)
    param_schemas: dict[str, Any] = field(default_factory=dict)
    #: What the task is mapped over; None for a task that is not mapped.
    mapping: MapSpec | None = None
    #: Names each mapped instance for people; None for none.
    map_index_template: str | None = None


@dataclass(slots=True)
class DagSpec:
    version_id: int
    dag_id: str
    fileloc: str
    bundle_hash: str
    data: dict[str, Any]
    tasks: dict[str, TaskSpec]
    downstream: dict[str, tuple[str, ...]]
    leaves: frozenset[str]
    max_active_tasks: int = 16
    params: dict[str, Any] = field(default_factory=dict)
    param_schemas: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, version_id: int, data: dict[str, Any], bundle_hash: str) -> DagSpec:
        raw_tasks = data["tasks"]
        downstream: dict[str, list[str]] = {t["task_id"]: [] for t in raw_tasks}
        for t in raw_tasks:
            for up in t["upstream"]:
                downstream[up].append(t["task_id"])
        priorities = _effective_priorities(raw_tasks, downstream)
        tasks = {
            t["task_id"]: TaskSpec(
                task_id=t["task_id"],
                index=i,
                operator=t.get("operator", ""),
                kind=t["kind"],
                upstream=tuple(t["upstream"]),
                trigger_rule=TriggerRule(t.get("trigger_rule", "all_success")),
                retries=int(t.get("retries", 0)),
                retry_delay=float(t.get("retry_delay", 300.0)),
                retry_exponential_backoff=bool(t.get("retry_exponential_backoff", False)),
                max_retry_delay=t.get("max_retry_delay"),
                queue=t.get("queue", "default"),
                pool=t.get("pool", "default_pool"),
                pool_slots=int(t.get("pool_slots", 1)),
                priority=priorities[t["task_id"]],
                execution_timeout=t.get("execution_timeout"),
                do_xcom_push=bool(t.get("do_xcom_push", True)),
                bash=t.get("bash"),
                python=t.get("python"),
                params=t.get("params") or {},
                param_schemas=t.get("param_schemas") or {},
                mapping=mapspec.parse(t.get("mapping")),
                map_index_template=t.get("map_index_template"),
            )
            for i, t in enumerate(raw_tasks)
        }
        return cls(
            version_id=version_id,
            dag_id=data["dag_id"],
            fileloc=data.get("fileloc", ""),
            bundle_hash=bundle_hash,
            data=data,
            tasks=tasks,
            downstream={k: tuple(v) for k, v in downstream.items()},
            leaves=frozenset(k for k, v in downstream.items() if not v),
            max_active_tasks=int(data.get("max_active_tasks", 16)),
            params=data.get("params") or {},
            param_schemas=data.get("param_schemas") or {},
        )

    def retry_delay(self, task_id: str, try_number: int) -> float:
        """Seconds to wait before try `try_number + 1`, with Airflow's exponential backoff."""
        spec = self.tasks[task_id]
        delay = spec.retry_delay
        if spec.retry_exponential_backoff:
            delay = delay * (2 ** max(try_number - 1, 0))
            if spec.max_retry_delay is not None:
                delay = min(delay, float(spec.max_retry_delay))
        return max(delay, 0.0)


def _effective_priorities(raw_tasks: list[dict[str, Any]], downstream: dict[str, list[str]]) -> dict[str, int]:
    """Airflow's weight rules: downstream (own + every descendant), upstream, absolute."""
    weights = {t["task_id"]: int(t.get("priority_weight", 1)) for t in raw_tasks}
    rules = {t["task_id"]: t.get("weight_rule", "downstream") for t in raw_tasks}
    if all(rule == "absolute" for rule in rules.values()):
        return weights
    order = [t["task_id"] for t in raw_tasks]
    bit = {task_id: 1 << i for i, task_id in enumerate(order)}
    upstream = {t["task_id"]: t["upstream"] for t in raw_tasks}
    topo = _topological(order, upstream)
    below: dict[str, int] = {}
    for task_id in reversed(topo):
        mask = 0
        for child in downstream[task_id]:
            mask |= bit[child] | below[child]
        below[task_id] = mask
    above: dict[str, int] = {}
    for task_id in topo:
        mask = 0
        for parent in upstream[task_id]:
            mask |= bit[parent] | above[parent]
        above[task_id] = mask
    uniform = len(set(weights.values())) == 1
    result = {}
    for task_id in order:
        rule = rules[task_id]
        if rule == "absolute":
            result[task_id] = weights[task_id]
            continue
        mask = below[task_id] if rule == "downstream" else above[task_id]
        if uniform:
            result[task_id] = weights[task_id] * (1 + mask.bit_count())
        else:
            result[task_id] = weights[task_id] + sum(weights[order[j]] for j in _bits(mask))
    return result


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _topological(order: list[str], upstream: dict[str, list[str]]) -> list[str]:
    indegree = {t: len(upstream[t]) for t in order}
    children: dict[str, list[str]] = {t: [] for t in order}
    for t in order:
        for up in upstream[t]:
            children[up].append(t)
    ready = [t for t in order if indegree[t] == 0]
    out = []
    while ready:
        t = ready.pop()
        out.append(t)
        for c in children[t]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    return out
