"""The metastore's asset tables: definitions, events, the per-DAG queue and the runs events started.

`Store` inherits these methods; like store.py this module is the only one touching its tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import peewee

from coordinator.metastore import models as m
from coordinator.metastore.times import aware, naive
from coordinator.records import AssetChanges, AssetEvent

_CHUNK = 500


def _naive(value: datetime) -> datetime:
    result = naive(value)
    assert result is not None
    return result


def event_record(row: m.AssetEvent) -> AssetEvent:
    timestamp = aware(row.timestamp)
    assert timestamp is not None
    return AssetEvent(
        id=row.id,
        uri=row.uri,
        extra=json.loads(row.extra),
        timestamp=timestamp,
        source_dag_id=row.source_dag_id,
        source_run_id=row.source_run_id,
        source_task_id=row.source_task_id,
        source_map_index=row.source_map_index,
        source_aliases=tuple(json.loads(row.source_aliases)),
    )


def _event_row(event: AssetEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "uri": event.uri,
        "extra": json.dumps(event.extra),
        "source_dag_id": event.source_dag_id,
        "source_run_id": event.source_run_id,
        "source_task_id": event.source_task_id,
        "source_map_index": event.source_map_index,
        "source_aliases": json.dumps(list(event.source_aliases)),
        "timestamp": _naive(event.timestamp),
    }


class AssetStore:
    # ---- writes, in the group commit ------------------------------------------------------
    def asset_writes(self, changes: AssetChanges) -> list[tuple[str, list[Any], list[Any], Any]]:
        """(kind, ids, rows, apply) per kind of asset row, for Store.commit. A queue entry made
        and consumed in the same batch is neither inserted nor deleted."""
        queued, consumed = set(changes.queued), set(changes.consumed_events)
        added = [pair for pair in changes.queued if pair not in consumed]
        removed = [pair for pair in changes.consumed_events if pair not in queued]
        return [
            ("asset", list(changes.assets), list(changes.assets.items()), self._upsert_assets),
            ("asset_event", [e.id for e in changes.events], changes.events, self._insert_events),
            ("asset_queue", added, added, self._queue),
            ("asset_queue", removed, removed, self._dequeue),
            ("asset_run", changes.run_events, changes.run_events, self._link_runs),
            ("asset_alias", changes.aliases, changes.aliases, self._resolve_aliases),
        ]

    def _upsert_assets(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        for uri, values in items:
            row = {"name": values["name"], "group": values["group"], "extra": json.dumps(values["extra"])}
            m.Asset.insert(uri=uri, **row).on_conflict(
                conflict_target=[m.Asset.uri],
                update={m.Asset.name: row["name"], m.Asset.group: row["group"], m.Asset.extra: row["extra"]},
            ).execute()

    def _insert_events(self, events: list[AssetEvent]) -> None:
        for start in range(0, len(events), _CHUNK):
            m.AssetEvent.insert_many([_event_row(e) for e in events[start : start + _CHUNK]]).execute()

    def _queue(self, pairs: list[tuple[str, int]]) -> None:
        rows = [{"dag_id": dag_id, "event_id": event_id} for dag_id, event_id in pairs]
        for start in range(0, len(rows), _CHUNK):
            m.AssetDagQueue.insert_many(rows[start : start + _CHUNK]).on_conflict_ignore().execute()

    def _dequeue(self, pairs: list[tuple[str, int]]) -> None:
        q = m.AssetDagQueue
        for dag_id, event_id in pairs:
            q.delete().where((q.dag_id == dag_id) & (q.event_id == event_id)).execute()

    def _link_runs(self, pairs: list[tuple[int, int]]) -> None:
        rows = [{"dag_run_id": run_pk, "event_id": event_id} for run_pk, event_id in pairs]
        for start in range(0, len(rows), _CHUNK):
            m.DagRunAssetEvent.insert_many(rows[start : start + _CHUNK]).on_conflict_ignore().execute()

    def _resolve_aliases(self, pairs: list[tuple[str, str]]) -> None:
        rows = [{"alias": alias, "uri": uri} for alias, uri in pairs]
        for start in range(0, len(rows), _CHUNK):
            m.AssetAliasAsset.insert_many(rows[start : start + _CHUNK]).on_conflict_ignore().execute()

    # ---- recovery ---------------------------------------------------------------------------
    def asset_aliases(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Each alias's assets: URI -> {"name", "group", "extra"}; one query."""
        link, a = m.AssetAliasAsset, m.Asset
        rows: Iterable[tuple[str, str, str, str, str]] = (
            link.select(link.alias, a.uri, a.name, a.group, a.extra).join(a, on=(a.uri == link.uri)).tuples()  # type: ignore[assignment]
        )
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for alias, uri, name, group, extra in rows:
            out.setdefault(alias, {})[uri] = {"name": name, "group": group, "extra": json.loads(extra)}
        return out

    def max_asset_event_id(self) -> int:
        return m.AssetEvent.select(peewee.fn.MAX(m.AssetEvent.id)).scalar() or 0

    def asset_queue(self) -> dict[str, list[AssetEvent]]:
        """Each DAG's queued events, oldest first."""
        q, e = m.AssetDagQueue, m.AssetEvent
        rows = e.select(e, q.dag_id.alias("queued_for")).join(q, on=(q.event_id == e.id)).order_by(e.id).objects()
        out: dict[str, list[AssetEvent]] = {}
        for row in rows:
            dag_id: str = row.queued_for  # type: ignore[attr-defined]
            out.setdefault(dag_id, []).append(event_record(row))
        return out

    def run_asset_events(self, run_pks: Sequence[int]) -> dict[int, list[AssetEvent]]:
        """The events that started each of these runs, oldest first."""
        link, e = m.DagRunAssetEvent, m.AssetEvent
        out: dict[int, list[AssetEvent]] = {}
        for chunk in _chunks(list(run_pks)):
            rows = (
                e.select(e, link.dag_run_id.alias("run_pk"))
                .join(link, on=(link.event_id == e.id))
                .where(link.dag_run_id.in_(chunk))
                .order_by(e.id)
                .objects()
            )
            for row in rows:
                run_pk: int = row.run_pk  # type: ignore[attr-defined]
                out.setdefault(run_pk, []).append(event_record(row))
        return out

    def recent_asset_events(self, per_uri: int) -> dict[str, tuple[int, list[AssetEvent]]]:
        """Each asset's event count and its newest `per_uri` events, oldest first; two queries."""
        e = m.AssetEvent
        counts: Iterable[tuple[str, int]] = e.select(e.uri, peewee.fn.COUNT(e.id)).group_by(e.uri).tuples()  # type: ignore[assignment]
        ranked = e.select(
            e, peewee.fn.ROW_NUMBER().over(partition_by=[e.uri], order_by=[e.id.desc()]).alias("rn")
        ).alias("ranked")
        newest = e.select(ranked.c.id).from_(ranked).where(ranked.c.rn <= per_uri)
        out: dict[str, tuple[int, list[AssetEvent]]] = {uri: (count, []) for uri, count in counts}
        for row in e.select().where(e.id.in_(newest)).order_by(e.id):
            out[row.uri][1].append(event_record(row))
        return out

    # ---- reads for ControlService -------------------------------------------------------------
    def list_assets(self, contains: str = "") -> list[tuple[m.Asset, datetime | None]]:
        """Assets by URI with their newest event's time, in two queries."""
        query = m.Asset.select().order_by(m.Asset.uri)
        if contains:
            query = query.where(m.Asset.uri.contains(contains))
        assets = list(query)
        latest: dict[str, datetime] = {}
        e = m.AssetEvent
        for chunk in _chunks([a.uri for a in assets]):
            grouped = e.select(e.uri, peewee.fn.MAX(e.timestamp)).where(e.uri.in_(chunk)).group_by(e.uri)
            latest.update(grouped.tuples())  # type: ignore[arg-type]
        return [(a, aware(latest.get(a.uri))) for a in assets]

    def list_asset_events(
        self, uri: str = "", limit: int = 100, before_id: int | None = None
    ) -> list[tuple[AssetEvent, list[tuple[str, str]]]]:
        """Events newest first, each with the (dag_id, run_id) of the runs it started; two queries."""
        e = m.AssetEvent
        query = e.select().order_by(e.id.desc()).limit(limit)
        if uri:
            query = query.where(e.uri == uri)
        if before_id is not None:
            query = query.where(e.id < before_id)
        events = [event_record(row) for row in query]
        runs: dict[int, list[tuple[str, str]]] = {}
        link, r = m.DagRunAssetEvent, m.DagRun
        for chunk in _chunks([ev.id for ev in events]):
            rows: Iterable[tuple[int, str, str]] = (
                link.select(link.event_id, r.dag_id, r.run_id)
                .join(r, on=(r.id == link.dag_run_id))
                .where(link.event_id.in_(chunk))
                .order_by(r.id)
                .tuples()  # type: ignore[assignment]
            )
            for event_id, dag_id, run_id in rows:
                runs.setdefault(event_id, []).append((dag_id, run_id))
        return [(ev, runs.get(ev.id, [])) for ev in events]


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
