"""Assets: named data that tasks update (`outlets`) and DAGs are scheduled on (`schedule=[...]`).

An asset is known by its URI. A successful task instance emits one asset event per asset in
its outlets, and any program may emit one through the coordinator (`tradewind assets emit`).
A DAG scheduled on assets runs when its condition over them is met: a list or `a & b` needs an
event of every asset since the DAG's last asset-triggered run, `a | b` any of them; conditions
nest. As JSON (the serialized DAG's "assets"): {"asset": uri} | {"all": [...]} | {"any": [...]}.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, overload

from tradewind import unsupported
from tradewind.exceptions import DagDefinitionError, SerializationError

log = logging.getLogger("tradewind.task")
#: The longest URI (and name) an asset may have, as in Airflow.
URI_LIMIT = 1500


class BaseAsset:
    """What a schedule may hold: an asset or a condition over assets, combined with & and |."""

    def __and__(self, other: Any) -> AssetAll:
        return AssetAll(self, _condition(other, "&"))

    def __or__(self, other: Any) -> AssetAny:
        return AssetAny(self, _condition(other, "|"))

    def as_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def iter_assets(self) -> Iterator[Asset]:
        raise NotImplementedError


class Asset(BaseAsset):
    """Airflow 3's Asset(name, uri, group, extra, watchers). Given one of name and uri, the other
    is the same; events and schedules match assets by URI."""

    def __init__(
        self,
        name: str | None = None,
        uri: str | None = None,
        *,
        group: str = "asset",
        extra: dict[str, Any] | None = None,
        watchers: list[Any] | None = None,
    ) -> None:
        if name is None and uri is None:
            raise DagDefinitionError("Asset() needs a name or a uri")
        self.uri = check_uri(str(uri if uri is not None else name))
        self.name = check_uri(str(name if name is not None else uri), "name")
        self.group = str(group)
        self.extra = dict(extra or {})
        try:
            json.dumps(self.extra)
        except (TypeError, ValueError) as exc:
            raise DagDefinitionError(f"Asset {self.uri!r}: extra is not JSON: {exc}") from None
        self.watchers = list(watchers or [])
        for watcher in self.watchers:
            if not isinstance(watcher, AssetWatcher):
                raise DagDefinitionError(f"Asset {self.uri!r}: watchers must be AssetWatcher, not {watcher!r}")

    def __repr__(self) -> str:
        return f"Asset(name={self.name!r}, uri={self.uri!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Asset) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(("asset", self.uri))

    def as_json(self) -> dict[str, Any]:
        return {"asset": self.uri}

    def iter_assets(self) -> Iterator[Asset]:
        yield self

    def describe(self) -> dict[str, Any]:
        """The asset as the coordinator stores it; "watchers" only when it has some."""
        described: dict[str, Any] = {"uri": self.uri, "name": self.name, "group": self.group, "extra": self.extra}
        if self.watchers:
            described["watchers"] = [w.describe(self.uri) for w in self.watchers]
        return described


class Dataset(Asset):
    """Airflow 2's name: Dataset(uri, extra)."""

    def __init__(self, uri: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(uri=uri, extra=extra)


class _Condition(BaseAsset):
    kind = ""

    def __init__(self, *objects: Any) -> None:
        self.objects = [_condition(o, self.kind) for o in objects]
        if not self.objects:
            raise DagDefinitionError(f"{type(self).__name__}() needs at least one asset")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.objects))})"

    def as_json(self) -> dict[str, Any]:
        return {self.kind: [o.as_json() for o in self.objects]}

    def iter_assets(self) -> Iterator[Asset]:
        for o in self.objects:
            yield from o.iter_assets()


class AssetAll(_Condition):
    """Met when every part is met (`a & b`, and a list given as the schedule)."""

    kind = "all"


class AssetAny(_Condition):
    """Met when any part is met (`a | b`)."""

    kind = "any"


class AssetAlias(BaseAsset):
    """Accepted so a DAG file imports; using one in a schedule or outlets is refused at parse time."""

    def __init__(self, name: str, group: str = "asset") -> None:
        self.name, self.group = str(name), str(group)

    def as_json(self) -> dict[str, Any]:
        unsupported.not_yet("AssetAlias", f"AssetAlias {self.name!r}")

    def iter_assets(self) -> Iterator[Asset]:
        unsupported.not_yet("AssetAlias", f"AssetAlias {self.name!r}")


class AssetWatcher:
    """Airflow's AssetWatcher(name, trigger): its trigger's events become the asset's events. A DAG
    scheduled on an asset with watchers is refused at parse time until the triggerer runs them."""

    def __init__(self, name: str, trigger: Any) -> None:
        self.name, self.trigger = str(name), trigger

    def describe(self, uri: str) -> dict[str, Any]:
        """{"name", "classpath", "kwargs"}: the trigger as Airflow serializes it (`serialize()`)."""
        serialize = getattr(self.trigger, "serialize", None)
        if not callable(serialize):
            raise DagDefinitionError(
                f"Asset {uri!r}: watcher {self.name!r}: its trigger {self.trigger!r} has no serialize()"
            )
        classpath, kwargs = serialize()
        try:
            json.dumps(kwargs)
        except (TypeError, ValueError) as exc:
            raise DagDefinitionError(
                f"Asset {uri!r}: watcher {self.name!r}: trigger kwargs are not JSON: {exc}"
            ) from None
        return {"name": self.name, "classpath": str(classpath), "kwargs": kwargs}


class Metadata:
    """Airflow's Metadata(asset, extra): a task function that yields it sets that extra on its
    outlet's event, as `outlet_events[asset].extra` does (see `collect_metadata`)."""

    def __init__(self, asset: Asset, extra: dict[str, Any], alias: Any = None) -> None:
        if alias is not None:
            unsupported.not_yet("Metadata(alias=...) (asset aliases)", f"Asset {getattr(asset, 'uri', asset)!r}")
        if not isinstance(asset, Asset):
            raise DagDefinitionError(f"Metadata needs an Asset, not {asset!r}")
        self.asset, self.extra = asset, dict(extra)


def collect_metadata(generator: Generator[Any, Any, Any], outlet_events: Any) -> Any:
    """Run a task function that yields, as Airflow does: each Metadata it yields adds to its
    asset's outlet event extra, anything else is logged and ignored; returns what it returns."""
    while True:
        try:
            item = next(generator)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Metadata):
            outlet_events[item.asset].extra.update(item.extra)
        else:
            log.warning("Ignoring unknown data of %r received from task", type(item))


class AssetOrTimeSchedule:
    """Runs on its time schedule and also whenever its asset condition is met. `timetable` is a
    schedule Tradewind reads (cron, preset or timedelta)."""

    def __init__(self, *, timetable: str | timedelta, assets: Any) -> None:
        if not isinstance(timetable, str | timedelta):
            raise DagDefinitionError(
                f"AssetOrTimeSchedule: timetable must be a cron string, a preset or a timedelta, not {timetable!r}"
            )
        self.timetable = timetable
        self.assets = as_condition(assets)


def check_uri(value: str, what: str = "uri") -> str:
    """Airflow's rules that matter here: not empty, ASCII, no whitespace, not the reserved scheme."""
    if not value or len(value) > URI_LIMIT or not value.isascii() or any(c.isspace() for c in value):
        raise DagDefinitionError(
            f"asset {what} {value!r} is not valid: use 1 to {URI_LIMIT} ASCII characters without spaces"
        )
    if value.lower().startswith("airflow://"):
        raise DagDefinitionError(f"asset {what} {value!r} uses the reserved scheme 'airflow'")
    return value


def _condition(value: Any, op: str) -> BaseAsset:
    if isinstance(value, BaseAsset):
        return value
    raise DagDefinitionError(f"an asset condition ({op}) takes assets, not {value!r}")


def as_condition(schedule: Any) -> BaseAsset:
    """A schedule of assets as one condition: a list (or tuple) is all of its items. Assets with
    watchers are refused until the triggerer runs them (the serialized DAG already carries them)."""
    condition = AssetAll(*schedule) if isinstance(schedule, list | tuple) else _condition(schedule, "schedule")
    watched = next((a for a in condition.iter_assets() if a.watchers), None)
    if watched is not None:
        unsupported.not_yet("AssetWatcher", f"Asset {watched.uri!r}")
    return condition


def is_asset_schedule(schedule: Any) -> bool:
    return isinstance(schedule, BaseAsset | AssetOrTimeSchedule) or (
        isinstance(schedule, list | tuple) and bool(schedule) and all(isinstance(s, BaseAsset) for s in schedule)
    )


def check_assets(values: Any, what: str, where: str) -> list[Asset]:
    """A task's outlets or inlets: a list of Asset (one Asset alone is taken as a list of it)."""
    if values is None:
        return []
    if isinstance(values, BaseAsset):
        values = [values]
    if not isinstance(values, list | tuple):
        raise DagDefinitionError(f"{where}: {what} must be a list of assets, not {values!r}")
    out: list[Asset] = []
    for value in values:
        if isinstance(value, AssetAlias):
            unsupported.not_yet("AssetAlias", where)
        if not isinstance(value, Asset):
            raise DagDefinitionError(f"{where}: {what} must hold assets, not {value!r}")
        out.append(value)
    return out


def evaluate(condition: dict[str, Any], present: set[str] | dict[str, Any]) -> bool:
    """Whether a serialized condition is met by the URIs that have queued events."""
    if "asset" in condition:
        return condition["asset"] in present
    if "all" in condition:
        return all(evaluate(c, present) for c in condition["all"])
    return any(evaluate(c, present) for c in condition.get("any", []))


def condition_uris(condition: dict[str, Any]) -> Iterator[str]:
    if "asset" in condition:
        yield condition["asset"]
        return
    for part in condition.get("all", condition.get("any", [])):
        yield from condition_uris(part)


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

    def __repr__(self) -> str:
        return f"AssetEventResult(uri={self.asset.uri!r}, extra={self.extra!r}, timestamp={self.timestamp.isoformat()})"


class TriggeringAssetEvents(Mapping[Any, list[AssetEventResult]]):
    """The context's `triggering_asset_events`: the events that started this asset-triggered run,
    by asset (an Asset or its URI as the key); empty for other runs."""

    def __init__(self, raw: list[dict[str, Any]]) -> None:
        self.raw = raw
        self._by_uri: dict[str, list[AssetEventResult]] = {}
        for item in raw:
            self._by_uri.setdefault(item["uri"], []).append(AssetEventResult(item))

    def __getitem__(self, key: Any) -> list[AssetEventResult]:
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
        unsupported.not_yet("outlet_events[...].add() (asset aliases)", f"asset {self.uri!r}")


class OutletEventAccessors(Mapping[Any, OutletEventAccessor]):
    """The context's `outlet_events`, keyed by an Asset or its URI."""

    def __init__(self) -> None:
        self._by_uri: dict[str, OutletEventAccessor] = {}

    def __getitem__(self, key: Any) -> OutletEventAccessor:
        if isinstance(key, AssetAlias):
            unsupported.not_yet("AssetAlias", f"outlet_events[{key.name!r}]")
        uri = key.uri if isinstance(key, Asset) else str(key)
        return self._by_uri.setdefault(uri, OutletEventAccessor(uri))

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


def describe_condition(condition: dict[str, Any], nested: bool = False) -> str:
    """A serialized condition as people write it: `s3://a & (s3://b | s3://c)`."""
    if "asset" in condition:
        return str(condition["asset"])
    op = " & " if "all" in condition else " | "
    parts = condition.get("all", condition.get("any", []))
    text = op.join(describe_condition(part, True) for part in parts)
    return f"({text})" if nested and len(parts) > 1 else text
