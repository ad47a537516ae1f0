"""What a running task sees of asset events: `triggering_asset_events`, `outlet_events` (and
yielded `Metadata`) and `inlet_events`, built from the JSON its context carries
(tradewind.templates)."""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, overload

from tradewind import unsupported
from tradewind.assets import Asset, AssetAlias
from tradewind.exceptions import DagDefinitionError, SerializationError

log = logging.getLogger("tradewind.task")


class Metadata:
    """Airflow's Metadata(asset, extra, alias): a task function that yields it sets that extra on
    its outlet's event, as `outlet_events[asset].extra` does, or with an alias adds the event
    through it, as `outlet_events[alias].add(asset, extra)` does (see `collect_metadata`)."""

    def __init__(self, asset: Asset, extra: dict[str, Any], alias: AssetAlias | None = None) -> None:
        if not isinstance(asset, Asset):
            raise DagDefinitionError(f"Metadata needs an Asset, not {asset!r}")
        if alias is not None and not isinstance(alias, AssetAlias):
            raise DagDefinitionError(f"Metadata: alias must be an AssetAlias, not {alias!r}")
        self.asset, self.extra, self.alias = asset, dict(extra), alias


def collect_metadata(generator: Generator[Any, Any, Any], outlet_events: Any) -> Any:
    """Run a task function that yields, as Airflow does: each Metadata it yields adds to its
    asset's outlet event extra, anything else is logged and ignored; returns what it returns."""
    while True:
        try:
            item = next(generator)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Metadata) and item.alias is not None:
            outlet_events[item.alias].add(item.asset, extra=item.extra)
        elif isinstance(item, Metadata):
            outlet_events[item.asset].extra.update(item.extra)
        else:
            log.warning("Ignoring unknown data of %r received from task", type(item))


class AssetEventResult:
    """One asset event as a task sees it (Airflow's AssetEventResult): asset, extra, timestamp
    and the task instance that made it (source_* empty for an event a program emitted)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.id: int = data["id"]
        self.asset = Asset(name=data.get("name") or data["uri"], uri=data["uri"])
        self.extra: dict[str, Any] = data.get("extra") or {}
        self.timestamp = datetime.fromisoformat(data["timestamp"])
        self.source_dag_id: str = data.get("source_dag_id", "")
        self.source_run_id: str = data.get("source_run_id", "")
        self.source_task_id: str = data.get("source_task_id", "")
        self.source_map_index: int = data.get("source_map_index", -1)
        self.source_aliases: list[str] = list(data.get("source_aliases", ()))

    def __repr__(self) -> str:
        return f"AssetEventResult(uri={self.asset.uri!r}, extra={self.extra!r}, timestamp={self.timestamp.isoformat()})"


class TriggeringAssetEvents(Mapping[Any, list[AssetEventResult]]):
    """The context's `triggering_asset_events`: the events that started this asset-triggered run,
    by asset (an Asset or its URI as the key), or by an AssetAlias (the events added through it);
    empty for other runs."""

    def __init__(self, raw: list[dict[str, Any]]) -> None:
        self.raw = raw
        self._by_uri: dict[str, list[AssetEventResult]] = {}
        for item in raw:
            self._by_uri.setdefault(item["uri"], []).append(AssetEventResult(item))

    def __getitem__(self, key: Any) -> list[AssetEventResult]:
        if isinstance(key, AssetAlias):
            found = [e for events in self._by_uri.values() for e in events if key.name in e.source_aliases]
            if not found:
                raise KeyError(key)
            return found
        return self._by_uri[key.uri if isinstance(key, Asset) else str(key)]

    def __iter__(self) -> Iterator[Asset]:
        return iter(events[0].asset for events in self._by_uri.values())

    def __len__(self) -> int:
        return len(self._by_uri)

    def __repr__(self) -> str:
        return f"TriggeringAssetEvents({self._by_uri!r})"


class OutletEventAccessor:
    """`outlet_events[asset]`: set `.extra` to attach a JSON object to the asset's event."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.extra: dict[str, Any] = {}

    def add(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"outlet_events[{self.uri!r}] is an asset's; add() is for an AssetAlias's")


class OutletAliasAccessor:
    """`outlet_events[alias]`: `add(asset, extra=None)` makes an event of `asset` through the alias
    when the task succeeds (the alias must be in the task's outlets)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.added: list[dict[str, Any]] = []

    def add(self, asset: Asset, extra: dict[str, Any] | None = None) -> None:
        if not isinstance(asset, Asset):
            raise TypeError(f"outlet_events[AssetAlias({self.name!r})].add() takes an Asset, not {asset!r}")
        self.added.append(
            {"alias": self.name, "uri": asset.uri, "name": asset.name, "group": asset.group, "extra": dict(extra or {})}
        )


class OutletEventAccessors(Mapping[Any, "OutletEventAccessor | OutletAliasAccessor"]):
    """The context's `outlet_events`, keyed by an Asset (or its URI) or an AssetAlias."""

    def __init__(self) -> None:
        self._by_uri: dict[str, OutletEventAccessor] = {}
        self._by_alias: dict[str, OutletAliasAccessor] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, AssetAlias):
            return self._by_alias.setdefault(key.name, OutletAliasAccessor(key.name))
        uri = key.uri if isinstance(key, Asset) else str(key)
        return self._by_uri.setdefault(uri, OutletEventAccessor(uri))

    def alias_events_json(self) -> str:
        """JSON of the events added through aliases, in order; empty when none was."""
        added = [item for accessor in self._by_alias.values() for item in accessor.added]
        if not added:
            return ""
        try:
            return json.dumps(added, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"outlet_events: an extra added through an alias is not JSON: {exc}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_uri)

    def __len__(self) -> int:
        return len(self._by_uri)

    def extras_json(self) -> str:
        """JSON of the extras set, by URI; empty when none was. SerializationError when one is not JSON."""
        extras = {uri: a.extra for uri, a in self._by_uri.items() if a.extra}
        if not extras:
            return ""
        try:
            return json.dumps(extras, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"outlet_events: an extra is not a JSON object: {exc}") from None


class InletEvents(Sequence[AssetEventResult]):
    """`inlet_events[asset]`: the asset's events, oldest first, as Airflow gives them. Tradewind
    sends a task the newest of them (up to 100, and 1 MiB); reading an older one is an error
    saying so, never a different event."""

    def __init__(self, uri: str, count: int, events: list[dict[str, Any]]) -> None:
        self.uri, self.total = uri, count
        self._newest = [AssetEventResult(e) for e in events]

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> AssetEventResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[AssetEventResult]: ...
    def __getitem__(self, index: int | slice) -> AssetEventResult | list[AssetEventResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.total))]
        position = index + self.total if index < 0 else index
        if not 0 <= position < self.total:
            raise IndexError(f"inlet_events[{self.uri!r}]: index {index} is out of range ({self.total} events)")
        offset = position - (self.total - len(self._newest))
        if offset < 0:
            unsupported.not_yet(
                f"reading more than the newest {len(self._newest)} events of an inlet", f"asset {self.uri!r}"
            )
        return self._newest[offset]

    def __repr__(self) -> str:
        return f"InletEvents({self.uri!r}, {self.total} events)"


class InletEventAccessors(Mapping[Any, InletEvents]):
    """The context's `inlet_events`, keyed by an Asset of the task's inlets or its URI."""

    def __init__(self, raw: dict[str, dict[str, Any]]) -> None:
        self.raw = raw
        self._by_uri = {uri: InletEvents(uri, v["count"], v["events"]) for uri, v in raw.items()}

    def __getitem__(self, key: Any) -> InletEvents:
        uri = key.uri if isinstance(key, Asset) else str(key)
        if uri not in self._by_uri:
            raise KeyError(f"asset {uri!r} is not one of the task's inlets")
        return self._by_uri[uri]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_uri)

    def __len__(self) -> int:
        return len(self._by_uri)
