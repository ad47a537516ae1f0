"""Assets: named data that tasks update (`outlets`) and DAGs are scheduled on (`schedule=[...]`).

An asset is known by its URI. A successful task instance emits one asset event per asset in
its outlets, and any program may emit one through the coordinator (`tradewind assets emit`).
A DAG scheduled on assets runs when its condition over them is met: a list or `a & b` needs an
event of every asset since the DAG's last asset-triggered run, `a | b` any of them; conditions
nest. As JSON (the serialized DAG's "asset_condition"): {"asset": uri} | {"alias": name} | {"all": [...]}
| {"any": [...]}.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from tradewind import unsupported
from tradewind.exceptions import DagDefinitionError

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
    """A name for assets a task decides on as it runs: in its outlets, the task adds events with
    `outlet_events[alias].add(Asset(...), extra={...})`; each asset added is from then on one the
    alias resolves to, and a DAG scheduled on the alias runs on the events of those assets."""

    def __init__(self, name: str, group: str = "asset") -> None:
        self.name, self.group = check_uri(str(name), "alias name"), str(group)

    def __repr__(self) -> str:
        return f"AssetAlias(name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetAlias) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("alias", self.name))

    def as_json(self) -> dict[str, Any]:
        return {"alias": self.name}

    def iter_assets(self) -> Iterator[Asset]:
        return iter(())


class AssetWatcher:
    """Airflow's AssetWatcher(name, trigger): its trigger's events become the asset's events. While
    an active, unpaused DAG is scheduled on the asset, a triggerer runs the trigger, started again
    after every event (coordinator.scheduling.watchers)."""

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
    """A schedule of assets as one condition: a list (or tuple) is all of its items."""
    return AssetAll(*schedule) if isinstance(schedule, list | tuple) else _condition(schedule, "schedule")


def is_asset_schedule(schedule: Any) -> bool:
    return isinstance(schedule, BaseAsset | AssetOrTimeSchedule) or (
        isinstance(schedule, list | tuple) and bool(schedule) and all(isinstance(s, BaseAsset) for s in schedule)
    )


def check_assets(values: Any, what: str, where: str) -> list[Asset | AssetAlias]:
    """A task's outlets or inlets: a list of Asset or AssetAlias (one alone is taken as a list of
    it); an alias in inlets is refused (inlet_events of an alias is not supported yet)."""
    if values is None:
        return []
    if isinstance(values, BaseAsset):
        values = [values]
    if not isinstance(values, list | tuple):
        raise DagDefinitionError(f"{where}: {what} must be a list of assets, not {values!r}")
    out: list[Asset | AssetAlias] = []
    for value in values:
        if isinstance(value, AssetAlias) and what == "inlets":
            unsupported.not_yet("an AssetAlias in inlets", where)
        if not isinstance(value, Asset | AssetAlias):
            raise DagDefinitionError(f"{where}: {what} must hold assets, not {value!r}")
        out.append(value)
    return out


def evaluate(
    condition: dict[str, Any], present: set[str] | dict[str, Any], aliases: dict[str, set[str]] | None = None
) -> bool:
    """Whether a serialized condition is met by the URIs that have queued events; an alias is met
    by any of the URIs it resolves to (`aliases`)."""
    if "asset" in condition:
        return condition["asset"] in present
    if "alias" in condition:
        return any(uri in present for uri in (aliases or {}).get(condition["alias"], ()))
    if "all" in condition:
        return all(evaluate(c, present, aliases) for c in condition["all"])
    return any(evaluate(c, present, aliases) for c in condition.get("any", []))


def condition_uris(condition: dict[str, Any]) -> Iterator[str]:
    if "asset" in condition:
        yield condition["asset"]
        return
    for part in condition.get("all", condition.get("any", [])):
        yield from condition_uris(part)


def condition_aliases(condition: dict[str, Any]) -> Iterator[str]:
    if "alias" in condition:
        yield condition["alias"]
        return
    for part in condition.get("all", condition.get("any", [])):
        yield from condition_aliases(part)


def describe_condition(condition: dict[str, Any], nested: bool = False) -> str:
    """A serialized condition as people write it: `s3://a & (s3://b | s3://c)`."""
    if "asset" in condition:
        return str(condition["asset"])
    if "alias" in condition:
        return f"alias:{condition['alias']}"
    op = " & " if "all" in condition else " | "
    parts = condition.get("all", condition.get("any", []))
    text = op.join(describe_condition(part, True) for part in parts)
    return f"({text})" if nested and len(parts) > 1 else text
