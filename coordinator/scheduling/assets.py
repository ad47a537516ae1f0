"""Assets: events in, asset-triggered runs out.

An asset event comes from a task instance that succeeds with the asset in its outlets (in the
same commit as that success), from a program (`emit_external`, ControlService.EmitAssetEvent)
or from an asset watcher's trigger (`watcher_fired`). Each event is queued for every active,
unpaused DAG whose asset condition names its asset (Airflow's asset_dag_run_queue); when a
DAG's queued assets meet its condition, one run of type "asset_triggered" is created and
consumes every event queued for that DAG, which become its `triggering_asset_events`.
The queue is kept in memory and, through `Changes.assets`, in the metastore, so a restart
carries on with it (`restore_assets`).
"""

from __future__ import annotations

import secrets
from typing import Any

from coordinator.dagspec import DagSpec
from coordinator.records import AssetEvent, Run, TaskInstance
from coordinator.scheduling.base import DagEntry
from coordinator.scheduling.explain import Explain
from coordinator.timetable import RunInfo
from tradewind.assets import condition_uris, evaluate
from tradewind.exceptions import NotFound


class Assets(Explain):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Asset definitions by URI, as the DAGs in memory name them ({"name", "group", "extra"}).
        self.assets: dict[str, dict[str, Any]] = {}
        #: URI -> the DAGs whose asset condition names it.
        self.consumers: dict[str, set[str]] = {}
        #: dag_id -> events queued for it since its last asset-triggered run, oldest first.
        self.asset_queue: dict[str, list[AssetEvent]] = {}
        self.last_asset_event_id = 0
        #: Extras a finishing task set on its outlets (outlet_events[asset].extra), by URI.
        self._reported_extra: dict[str, dict[str, Any]] = {}

    # ---- DAGs -----------------------------------------------------------------------------
    def register_dag(self, spec: DagSpec, paused: bool, last_scheduled_date: Any) -> None:
        super().register_dag(spec, paused, last_scheduled_date)
        self._index_assets(spec)
        self._check_condition(self.dags[spec.dag_id])

    def deactivate(self, dag_ids: tuple[str, ...]) -> None:
        super().deactivate(dag_ids)
        for uris in self.consumers.values():
            uris.difference_update(dag_ids)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        super().set_paused(dag_id, paused)
        if not paused:
            self._check_condition(self.dags[dag_id])

    def _index_assets(self, spec: DagSpec) -> None:
        for uris in self.consumers.values():
            uris.discard(spec.dag_id)
        if spec.asset_condition is not None:
            for uri in condition_uris(spec.asset_condition):
                self.consumers.setdefault(uri, set()).add(spec.dag_id)
        for asset in spec.data.get("assets", ()):
            described = {"name": asset["name"], "group": asset["group"], "extra": asset["extra"]}
            if self.assets.get(asset["uri"]) != described:
                self.assets[asset["uri"]] = described
                self.changes.assets.assets[asset["uri"]] = described

    # ---- events ---------------------------------------------------------------------------
    def emit_external(self, uri: str, extra: dict[str, Any]) -> tuple[AssetEvent, list[Run]]:
        """A program says the asset's data changed (EmitAssetEvent); returns the event and the
        runs it started at once."""
        if uri not in self.assets:
            raise NotFound(f"asset {uri!r} not found: no DAG in the DAG folder names it")
        return self._emit(uri, extra)

    def watcher_fired(self, uri: str, payload: Any) -> tuple[AssetEvent, list[Run]]:
        """An asset watcher's trigger fired: the same path as EmitAssetEvent, with Airflow's extra
        for it ({"from_trigger": True, "payload": the trigger event's payload})."""
        return self.emit_external(uri, {"from_trigger": True, "payload": payload})

    def finished(self, event: Any) -> None:
        self._reported_extra = dict(event.outlet_extra or {})
        try:
            super().finished(event)
        finally:
            self._reported_extra = {}

    def _emit_outlets(self, ti: TaskInstance) -> None:
        for uri in ti.spec.outlets:
            self._emit(
                uri,
                self._reported_extra.get(uri, {}),
                source_dag_id=ti.run.dag_id,
                source_run_id=ti.run.run_id,
                source_task_id=ti.task_id,
                source_map_index=ti.map_index,
            )

    def _emit(self, uri: str, extra: dict[str, Any], **source: Any) -> tuple[AssetEvent, list[Run]]:
        self.last_asset_event_id += 1
        event = AssetEvent(self.last_asset_event_id, uri, extra, self.clock.now(), **source)
        self.changes.assets.events.append(event)
        started = []
        for dag_id in sorted(self.consumers.get(uri, ())):
            entry = self.dags.get(dag_id)
            if entry is None or not entry.active or entry.paused:
                continue
            self.asset_queue.setdefault(dag_id, []).append(event)
            self.changes.assets.queued.append((dag_id, event.id))
            run = self._check_condition(entry)
            if run is not None:
                started.append(run)
        return event, started

    def _check_condition(self, entry: DagEntry) -> Run | None:
        """Start an asset-triggered run when the DAG's queued events meet its condition."""
        condition = entry.spec.asset_condition
        queued = self.asset_queue.get(entry.dag_id)
        if condition is None or not queued or entry.paused or not entry.active:
            return None
        if not evaluate(condition, {event.uri for event in queued}):
            return None
        del self.asset_queue[entry.dag_id]
        self.changes.assets.consumed_events.extend((entry.dag_id, event.id) for event in queued)
        now = self.clock.now()
        run_id = f"asset_triggered__{now.isoformat()}_{secrets.token_hex(4)}"
        run = self._create_run(entry, run_id, "asset_triggered", RunInfo(now, now, now, now), {})
        run.asset_events = tuple(queued)
        self.changes.assets.run_events.extend((run.id, event.id) for event in queued)
        return run

    # ---- restart --------------------------------------------------------------------------
    def restore_assets(
        self, last_event_id: int, queue: dict[str, list[AssetEvent]], run_events: dict[int, list[AssetEvent]]
    ) -> None:
        """After recovery: the metastore's event counter, queue and the live runs' triggering events."""
        self.last_asset_event_id = last_event_id
        for entry in self.dags.values():
            self._index_assets(entry.spec)
        for run_pk, events in run_events.items():
            run = self.runs.get(run_pk)
            if run is not None:
                run.asset_events = tuple(events)
        self.asset_queue = {dag_id: list(events) for dag_id, events in queue.items()}
        for dag_id in list(self.asset_queue):
            queued_for = self.dags.get(dag_id)
            if queued_for is not None:
                self._check_condition(queued_for)

    # ---- reads ----------------------------------------------------------------------------
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
