"""A stored DAG version as the scheduler sees it: tasks, edges and effective priorities.

Built once per DAG version from the serialized JSON (tradewind.serialization) and shared by
every run pinned to that version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
    #: URIs of the assets a success of this task updates.
    outlets: tuple[str, ...] = ()
    #: URIs of the assets whose recent events the task reads (`inlet_events`).
    inlets: tuple[str, ...] = ()
    #: Names of the asset aliases in its outlets (events added through them at run time).
    outlet_aliases: tuple[str, ...] = ()
    is_setup: bool = False
    is_teardown: bool = False
    on_failure_fail_dagrun: bool = False
    #: Direct upstream setup tasks (counted apart by the teardown trigger rule).
    upstream_setups: tuple[str, ...] = ()
    #: Setups upstream at any depth whose scope includes this task (see setup_scopes).
    setup_scope: tuple[str, ...] = ()
    depends_on_past: bool = False
    wait_for_downstream: bool = False
    ignore_first_depends_on_past: bool = True
    #: The callbacks the task has (on_success_callback, ...), run by the worker in the task process.
    callbacks: tuple[str, ...] = ()
    #: The task's own date range: a run whose logical date is outside it gets no task instance.
    start_date: datetime | None = None
    end_date: datetime | None = None

    def covers(self, logical_date: datetime) -> bool:
        """Whether a run of this logical date has an instance of the task (Airflow's task filter)."""
        if self.start_date is not None and logical_date < self.start_date:
            return False
        return self.end_date is None or logical_date <= self.end_date
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
    #: The tasks whose states decide the run's: leaves, not counting teardowns (see state_leaves).
    leaves: frozenset[str]
    max_active_tasks: int = 16
    params: dict[str, Any] = field(default_factory=dict)
    param_schemas: dict[str, Any] = field(default_factory=dict)
    #: The condition over assets that starts a run (tradewind.assets); None when not scheduled on assets.
    asset_condition: dict[str, Any] | None = None
    #: Some task depends on the previous run (depends_on_past): the scheduler tracks runs by date.
    uses_past: bool = False
    catchup: bool = False
    #: Seconds a run may run before it fails and its unfinished task instances are skipped.
    dagrun_timeout: float | None = None
    #: The DAG run callbacks the DAG has (on_success_callback, on_failure_callback).
    callbacks: tuple[str, ...] = ()
    #: Pause the DAG after this many runs failed in a row; 0: never.
    max_consecutive_failed_dag_runs: int = 0

    @classmethod
    def build(cls, version_id: int, data: dict[str, Any], bundle_hash: str) -> DagSpec:
        raw_tasks = data["tasks"]
        downstream: dict[str, list[str]] = {t["task_id"]: [] for t in raw_tasks}
        for t in raw_tasks:
            for up in t["upstream"]:
                downstream[up].append(t["task_id"])
        priorities = _effective_priorities(raw_tasks, downstream)
        setups = {t["task_id"] for t in raw_tasks if t.get("is_setup")}
        scopes = setup_scopes(raw_tasks, downstream) if setups else {}
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
                outlets=tuple(t.get("outlets") or ()),
                inlets=tuple(t.get("inlets") or ()),
                outlet_aliases=tuple(t.get("outlet_aliases") or ()),
                is_setup=bool(t.get("is_setup")),
                is_teardown=bool(t.get("is_teardown")),
                on_failure_fail_dagrun=bool(t.get("on_failure_fail_dagrun")),
                upstream_setups=tuple(up for up in t["upstream"] if up in setups),
                setup_scope=scopes.get(t["task_id"], ()),
                depends_on_past=bool(t.get("depends_on_past") or t.get("wait_for_downstream")),
                wait_for_downstream=bool(t.get("wait_for_downstream")),
                ignore_first_depends_on_past=bool(t.get("ignore_first_depends_on_past", True)),
                callbacks=tuple(t.get("callbacks") or ()),
                start_date=_date(t.get("start_date")),
                end_date=_date(t.get("end_date")),
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
            leaves=state_leaves(raw_tasks, downstream),
            max_active_tasks=int(data.get("max_active_tasks", 16)),
            params=data.get("params") or {},
            param_schemas=data.get("param_schemas") or {},
            asset_condition=data.get("asset_condition"),
            uses_past=any(t.get("depends_on_past") or t.get("wait_for_downstream") for t in raw_tasks),
            catchup=bool(data.get("catchup")),
            dagrun_timeout=data.get("dagrun_timeout"),
            callbacks=tuple(data.get("callbacks") or ()),
            max_consecutive_failed_dag_runs=int(data.get("max_consecutive_failed_dag_runs") or 0),
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


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def state_leaves(raw_tasks: list[dict[str, Any]], downstream: dict[str, list[str]]) -> frozenset[str]:
    """Airflow's leaves for a run's state: a teardown (unless on_failure_fail_dagrun) is ignored,
    so a task whose every downstream task is ignorable counts as a leaf; with none, the plain leaves."""
    ignorable = {t["task_id"] for t in raw_tasks if t.get("is_teardown") and not t.get("on_failure_fail_dagrun")}
    leaves = frozenset(
        task_id
        for task_id, children in downstream.items()
        if task_id not in ignorable and all(child in ignorable for child in children)
    )
    return leaves or frozenset(k for k, v in downstream.items() if not v)


def setup_scopes(raw_tasks: list[dict[str, Any]], downstream: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """For each task, Airflow's relevant setups: setups upstream of it at any depth that have no
    teardown, or have a teardown downstream of it. A task waits for them (the setup constraint),
    and clearing the task clears them and their teardowns."""
    teardown = {t["task_id"] for t in raw_tasks if t.get("is_teardown")}
    upstream = {t["task_id"]: t["upstream"] for t in raw_tasks}
    scopes: dict[str, list[str]] = {}
    for t in raw_tasks:
        if not t.get("is_setup"):
            continue
        setup = t["task_id"]
        below = _reach(setup, downstream)
        ends = [child for child in downstream[setup] if child in teardown]
        if ends:
            above_ends: set[str] = set()
            for end in ends:
                above_ends |= _reach(end, upstream)
            below &= above_ends
        for task_id in below:
            scopes.setdefault(task_id, []).append(setup)
    return {task_id: tuple(setups) for task_id, setups in scopes.items()}


def _reach(start: str, edges: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    work = list(edges[start])
    while work:
        task_id = work.pop()
        if task_id not in seen:
            seen.add(task_id)
            work.extend(edges[task_id])
    return seen


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
