"""Asset watchers: triggers kept running in a triggerer, whose every event is an asset event.

A DAG scheduled on an asset with `watchers=[AssetWatcher(name, trigger)]` wants that trigger
running while the DAG is active and unpaused. Watchers are keyed by (asset URI, watcher name):
several DAGs naming the same watcher share one trigger, built from the first such DAG (by id).
Each wanted watcher runs on one live triggerer (assigned and moved with the deferred tasks'
triggers, see triggerers), and stops when no live DAG wants it any more, or starts afresh when
its class, arguments or (for a class from the DAG bundle) bundle change. The triggerer re-arms
it after every event; each event, de-duplicated by its event id, goes to `watcher_fired`.
Watchers live in memory only: after a restart `restore_watchers` derives them from the DAGs
recovered, with new trigger ids.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import datetime
from typing import Any

from coordinator.dagspec import DagSpec
from coordinator.events import TriggerFired
from coordinator.records import WatcherTrigger
from coordinator.scheduling.assets import Assets
from coordinator.scheduling.base import log
from coordinator.scheduling.effects import CancelTrigger, FiredAck
from tradewind.assets import condition_uris

#: How many asset watcher event ids are remembered to drop a resent event.
SEEN_EVENT_IDS = 10_000

WatcherKey = tuple[str, str]
#: classpath, JSON of the keyword arguments, bundle hash ("" for a class built in).
WatcherDefinition = tuple[str, str, str]


class Watchers(Assets):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: dag_id -> the watchers its newest version wants, whether or not it is live.
        self.dag_watchers: dict[str, dict[WatcherKey, WatcherDefinition]] = {}
        #: The running (or waiting for a triggerer) watcher trigger of each wanted watcher.
        self.watchers_by_key: dict[WatcherKey, WatcherTrigger] = {}
        self._seen_event_ids: OrderedDict[str, None] = OrderedDict()

    def register_dag(self, spec: DagSpec, paused: bool, last_scheduled_date: datetime | None) -> None:
        super().register_dag(spec, paused, last_scheduled_date)
        wanted = _wanted_watchers(spec)
        old = self.dag_watchers.pop(spec.dag_id, {})
        if wanted:
            self.dag_watchers[spec.dag_id] = wanted
        self._sync_watchers(old.keys() | wanted.keys())

    def deactivate(self, dag_ids: tuple[str, ...]) -> None:
        super().deactivate(dag_ids)
        self._sync_watchers({key for dag_id in dag_ids for key in self.dag_watchers.get(dag_id, ())})

    def set_paused(self, dag_id: str, paused: bool) -> None:
        super().set_paused(dag_id, paused)
        self._sync_watchers(set(self.dag_watchers.get(dag_id, ())))

    def restore_watchers(self) -> None:
        """After recovery: the watchers of the DAGs recovered, waiting for triggerers to join."""
        for dag_id, entry in self.dags.items():
            wanted = _wanted_watchers(entry.spec)
            if wanted:
                self.dag_watchers[dag_id] = wanted
        self._sync_watchers({key for wanted in self.dag_watchers.values() for key in wanted})

    def _sync_watchers(self, keys: set[WatcherKey]) -> None:
        """Start, restart or stop the watchers named by `keys` to match the live DAGs."""
        for key in sorted(keys):
            wanted = self._wanted_definition(key)
            current = self.watchers_by_key.get(key)
            if current is not None and (current.classpath, current.kwargs_json, current.bundle_hash) != wanted:
                self._stop_watcher(current)
                current = None
            if current is None and wanted is not None:
                self.last_trigger_id += 1
                watcher = WatcherTrigger(self.last_trigger_id, key[0], key[1], *wanted)
                self.watchers_by_key[key] = watcher
                self.watcher_triggers[watcher.id] = watcher
                self.unassigned_triggers.add(watcher.id)
                log.info("asset watcher %s of %s starts as trigger %d", key[1], key[0], watcher.id)
        self._assign_triggers()

    def _wanted_definition(self, key: WatcherKey) -> WatcherDefinition | None:
        for dag_id in sorted(self.dag_watchers):
            entry = self.dags.get(dag_id)
            if entry is not None and entry.active and not entry.paused and key in self.dag_watchers[dag_id]:
                return self.dag_watchers[dag_id][key]
        return None

    def watchers_by_uri(self) -> dict[str, list[WatcherTrigger]]:
        """URI -> the watchers kept running for it, by name (for ListAssets)."""
        out: dict[str, list[WatcherTrigger]] = {}
        for (uri, _), watcher in sorted(self.watchers_by_key.items()):
            out.setdefault(uri, []).append(watcher)
        return out

    def _stop_watcher(self, watcher: WatcherTrigger) -> None:
        del self.watchers_by_key[(watcher.uri, watcher.name)]
        del self.watcher_triggers[watcher.id]
        self.unassigned_triggers.discard(watcher.id)
        session = self.triggerers.get(watcher.triggerer)
        if session is not None and watcher.id in session.triggers:
            session.triggers.discard(watcher.id)
            self.effects.append(CancelTrigger(session.name, watcher.id))
        log.info("asset watcher %s of %s (trigger %d) stops", watcher.name, watcher.uri, watcher.id)

    def trigger_fired(self, event: TriggerFired) -> None:
        """An asset watcher's event becomes an asset event once per event id; its failure is
        logged (the triggerer starts it again). A deferred task's trigger goes to deferral."""
        if event.asset_watcher is None:
            super().trigger_fired(event)
            return
        uri, name = event.asset_watcher
        if event.event_id:
            self.effects.append(FiredAck(event.triggerer, event.trigger_id, event.event_id))
        if event.error:
            log.warning("asset watcher %s of %s failed on triggerer %s: %s", name, uri, event.triggerer, event.error)
            return
        if event.event_id in self._seen_event_ids:
            return
        self._seen_event_ids[event.event_id] = None
        if len(self._seen_event_ids) > SEEN_EVENT_IDS:
            self._seen_event_ids.popitem(last=False)
        if uri not in self.assets:
            log.warning("asset watcher %s fired for %s, which no DAG names any more; dropped", name, uri)
            return
        try:
            payload = json.loads(event.event_json) if event.event_json else None
        except ValueError:
            log.warning("asset watcher %s of %s sent an event that is not JSON; dropped", name, uri)
            return
        self.watcher_fired(uri, payload)


def _wanted_watchers(spec: DagSpec) -> dict[WatcherKey, WatcherDefinition]:
    """The watchers of the assets the DAG's schedule names (not of its tasks' outlets)."""
    if spec.asset_condition is None:
        return {}
    scheduled = set(condition_uris(spec.asset_condition))
    wanted: dict[WatcherKey, WatcherDefinition] = {}
    for asset in spec.data.get("assets", ()):
        if asset["uri"] not in scheduled:
            continue
        for watcher in asset.get("watchers", ()):
            classpath = watcher["classpath"]
            bundle = "" if classpath.startswith("tradewind.") else spec.bundle_hash
            wanted[(asset["uri"], watcher["name"])] = (classpath, json.dumps(watcher["kwargs"], sort_keys=True), bundle)
    return wanted
