"""Assets: events in, asset-triggered runs out.

An asset event comes from a task instance that succeeds with the asset in its outlets (in the
same commit as that success), from a program (`emit_external`, ControlService.EmitAssetEvent)
or from an asset watcher's trigger (`watcher_fired`). Each event is queued for every active,
unpaused DAG whose asset condition names its asset (Airflow's asset_dag_run_queue); once per
turn (`check_assets`), each DAG whose queued assets now meet its condition gets one run of type
"asset_triggered", which consumes every event queued for that DAG: its `triggering_asset_events`.
The queue is kept in memory and, through `Changes.assets`, in the metastore, so a restart
carries on with it (`restore_assets`).
"""

from __future__ import annotations

import json
import secrets
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from coordinator.dagspec import DagSpec
from coordinator.events import AliasAdded, Finished
from coordinator.payloads import INLET_BYTES
from coordinator.records import AssetEvent, Changes, Run, TaskInstance
from coordinator.scheduling.backfills import Backfills
from coordinator.scheduling.base import DagEntry
from coordinator.scheduling.effects import Effect
from coordinator.timetable import RunInfo
from tradewind.assets import condition_aliases, condition_uris, evaluate
from tradewind.exceptions import NotFound

#: How many of an asset's newest events a task's `inlet_events` can read.
INLET_WINDOW = 100


class Assets(Backfills):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Asset definitions by URI, as the DAGs in memory name them ({"name", "group", "extra"}).
        self.assets: dict[str, dict[str, Any]] = {}
        #: URI -> the DAGs whose asset condition names it (or an alias that resolves to it).
        self.consumers: dict[str, set[str]] = {}
        #: Alias name -> the URIs it resolves to, and the DAGs whose condition names it.
        self.alias_assets: dict[str, set[str]] = {}
        self.alias_consumers: dict[str, set[str]] = {}
        #: dag_id -> events queued for it since its last asset-triggered run, oldest first.
        self.asset_queue: dict[str, list[AssetEvent]] = {}
        self.last_asset_event_id = 0
        #: DAGs whose queue or condition changed, checked once per turn by `check_assets`.
        self._asset_due: set[str] = set()
        #: Event id -> the runs it started, for the events a program emitted in this batch.
        self._started_by: dict[int, list[Run]] = {}
        #: Extras a finishing task set on its outlets (outlet_events[asset].extra), by URI, and the
        #: events it added through its outlets' aliases.
        self._reported_extra: dict[str, dict[str, Any]] = {}
        self._reported_aliases: tuple[AliasAdded, ...] = ()
        #: URI -> its newest events with the size of their extras (at most INLET_WINDOW of them and
        #: INLET_BYTES of extras, so memory stays bounded) and how many it has had, for inlet_events.
        self.recent_events: dict[str, deque[tuple[AssetEvent, int]]] = {}
        self._recent_bytes: dict[str, int] = {}
        self.event_counts: dict[str, int] = {}

    # ---- DAGs -----------------------------------------------------------------------------
    def register_dag(self, spec: DagSpec, paused: bool, last_scheduled_date: datetime | None) -> None:
        super().register_dag(spec, paused, last_scheduled_date)
        self._index_assets(spec)
        self._asset_due.add(spec.dag_id)

    def deactivate(self, dag_ids: tuple[str, ...]) -> None:
        super().deactivate(dag_ids)
        for dags in (*self.consumers.values(), *self.alias_consumers.values()):
            dags.difference_update(dag_ids)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        super().set_paused(dag_id, paused)
        if not paused:
            self._asset_due.add(dag_id)

    def _index_assets(self, spec: DagSpec) -> None:
        for dags in (*self.consumers.values(), *self.alias_consumers.values()):
            dags.discard(spec.dag_id)
        if spec.asset_condition is not None:
            for uri in condition_uris(spec.asset_condition):
                self.consumers.setdefault(uri, set()).add(spec.dag_id)
            for alias in condition_aliases(spec.asset_condition):
                self.alias_consumers.setdefault(alias, set()).add(spec.dag_id)
                for uri in self.alias_assets.get(alias, ()):
                    self.consumers.setdefault(uri, set()).add(spec.dag_id)
        for asset in spec.data.get("assets", ()):
            described = {"name": asset["name"], "group": asset["group"], "extra": asset["extra"]}
            if self.assets.get(asset["uri"]) != described:
                self.assets[asset["uri"]] = described
                self.changes.assets.assets[asset["uri"]] = described

    # ---- events ---------------------------------------------------------------------------
    def emit_external(self, uri: str, extra: dict[str, Any]) -> tuple[AssetEvent, list[Run]]:
        """A program says the asset's data changed (EmitAssetEvent). Returns the event and the
        list of runs it starts, filled by `check_assets` later in the same turn."""
        if uri not in self.assets:
            raise NotFound(f"asset {uri!r} not found: no DAG in the DAG folder names it")
        event = self._emit(uri, extra)
        started = self._started_by[event.id] = []
        return event, started

    def watcher_fired(self, uri: str, payload: Any) -> tuple[AssetEvent, list[Run]]:
        """An asset watcher's trigger fired: the same path as EmitAssetEvent, with Airflow's extra
        for it ({"from_trigger": True, "payload": the trigger event's payload})."""
        return self.emit_external(uri, {"from_trigger": True, "payload": payload})

    def finished(self, event: Finished) -> None:
        self._reported_extra = event.outlet_extra or {}
        self._reported_aliases = event.alias_events
        try:
            super().finished(event)
        finally:
            self._reported_extra, self._reported_aliases = {}, ()

    def _emit_outlets(self, ti: TaskInstance) -> None:
        if not ti.spec.outlets and not ti.spec.outlet_aliases:
            return
        source = {
            "source_dag_id": ti.run.dag_id,
            "source_run_id": ti.run.run_id,
            "source_task_id": ti.task_id,
            "source_map_index": ti.map_index,
        }
        for uri in ti.spec.outlets:
            self._emit(uri, self._reported_extra.get(uri, {}), **source)
        for added in self._reported_aliases:
            if added.alias in ti.spec.outlet_aliases:
                self._resolve_alias(added)
                self._emit(added.uri, added.extra, **source, source_aliases=(added.alias,))

    def _resolve_alias(self, added: AliasAdded) -> None:
        """The alias now resolves to the asset too (defined here if no DAG names it): the DAGs
        scheduled on the alias are from now on scheduled on it."""
        if added.uri not in self.assets:
            self.assets[added.uri] = {"name": added.name, "group": added.group, "extra": {}}
            self.changes.assets.assets[added.uri] = self.assets[added.uri]
        resolved = self.alias_assets.setdefault(added.alias, set())
        if added.uri not in resolved:
            resolved.add(added.uri)
            self.changes.assets.aliases.append((added.alias, added.uri))
            self.consumers.setdefault(added.uri, set()).update(self.alias_consumers.get(added.alias, ()))

    def _emit(self, uri: str, extra: dict[str, Any], **source: Any) -> AssetEvent:
        """Record an event and queue it for the DAGs scheduled on its asset; their conditions are
        checked at the end of the turn, so a run that updates its own DAG's asset cannot loop
        within one turn."""
        self.last_asset_event_id += 1
        event = AssetEvent(self.last_asset_event_id, uri, extra, self.clock.now(), **source)
        self.changes.assets.events.append(event)
        self._keep_recent(event)
        self.event_counts[uri] = self.event_counts.get(uri, 0) + 1
        for dag_id in self.consumers.get(uri, ()):
            entry = self.dags.get(dag_id)
            if entry is None or not entry.active or entry.paused:
                continue
            self.asset_queue.setdefault(dag_id, []).append(event)
            self.changes.assets.queued.append((dag_id, event.id))
            self._asset_due.add(dag_id)
        return event

    def _keep_recent(self, event: AssetEvent) -> None:
        kept = self.recent_events.setdefault(event.uri, deque())
        size = len(json.dumps(event.extra))
        kept.append((event, size))
        total = self._recent_bytes.get(event.uri, 0) + size
        while len(kept) > INLET_WINDOW or (total > INLET_BYTES and len(kept) > 1):
            total -= kept.popleft()[1]
        self._recent_bytes[event.uri] = total

    def check_assets(self, on_error: Callable[[str, Exception], None] | None = None) -> None:
        """Once per turn: start a run of each DAG whose queued events now meet its condition. DAGs
        that become due meanwhile wait for the next turn (`next_timer_delay` is then 0)."""
        due, self._asset_due = self._asset_due, set()
        for dag_id in sorted(due):
            entry = self.dags.get(dag_id)
            if entry is None:
                continue
            try:
                self._check_condition(entry)
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(dag_id, exc)

    def next_timer_delay(self) -> float | None:
        return 0.0 if self._asset_due else super().next_timer_delay()

    def take(self) -> tuple[Changes, list[Effect]]:
        self._started_by.clear()
        return super().take()

    def _check_condition(self, entry: DagEntry) -> None:
        condition = entry.spec.asset_condition
        queued = self.asset_queue.get(entry.dag_id)
        if condition is None or not queued or entry.paused or not entry.active:
            return
        if not evaluate(condition, {event.uri for event in queued}, self.alias_assets):
            return
        del self.asset_queue[entry.dag_id]
        self.changes.assets.consumed_events.extend((entry.dag_id, event.id) for event in queued)
        now = self.clock.now()
        run_id = f"asset_triggered__{now.isoformat()}_{secrets.token_hex(4)}"
        run = self._create_run(entry, run_id, "asset_triggered", RunInfo(now, now, now, now), {})
        run.asset_events = tuple(queued)
        self.changes.assets.run_events.extend((run.id, event.id) for event in queued)
        for event in queued:
            self._started_by.get(event.id, []).append(run)

    # ---- restart --------------------------------------------------------------------------
    def restore_assets(
        self,
        last_event_id: int,
        queue: dict[str, list[AssetEvent]],
        run_events: dict[int, list[AssetEvent]],
        recent: dict[str, tuple[int, list[AssetEvent]]],
        aliases: dict[str, dict[str, dict[str, Any]]],
    ) -> None:
        """After recovery: the metastore's event counter, queue, the live runs' triggering events,
        each asset's recent events and what each alias resolves to."""
        self.last_asset_event_id = last_event_id
        self.alias_assets = {alias: set(assets) for alias, assets in aliases.items()}
        for assets in aliases.values():
            for uri, described in assets.items():
                self.assets.setdefault(uri, described)
        for uri, (count, events) in recent.items():
            self.event_counts[uri] = count
            for event in events:
                self._keep_recent(event)
        for entry in self.dags.values():
            self._index_assets(entry.spec)
        for run_pk, events in run_events.items():
            run = self.runs.get(run_pk)
            if run is not None:
                run.asset_events = tuple(events)
        self.asset_queue = {dag_id: list(events) for dag_id, events in queue.items()}
        self._asset_due.update(self.asset_queue)

    # ---- reads ----------------------------------------------------------------------------
    def _inlet_events(self, ti: TaskInstance) -> dict[str, tuple[int, list[Any]]] | None:
        inlets = ti.spec.inlets
        if not inlets:
            return None
        return {
            uri: (self.event_counts.get(uri, 0), [event for event, _ in self.recent_events.get(uri, ())])
            for uri in inlets
        }

    def consumers_of(self, uri: str) -> list[str]:
        """The active DAGs scheduled on the asset, sorted."""
        return sorted(d for d in self.consumers.get(uri, ()) if d in self.dags and self.dags[d].active)

    def producers(self) -> dict[str, list[str]]:
        """URI -> "dag_id.task_id" of the active DAGs' tasks with it in their outlets, sorted."""
        out: dict[str, list[str]] = {}
        for entry in self.dags.values():
            if entry.active:
                for task in entry.spec.tasks.values():
                    for uri in task.outlets:
                        out.setdefault(uri, []).append(f"{entry.dag_id}.{task.task_id}")
        return {uri: sorted(tasks) for uri, tasks in out.items()}
