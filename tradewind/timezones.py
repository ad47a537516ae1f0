"""Time zones by name: how a DAG's zone is recorded in its serialized form and read back.

A DAG's zone is its start_date's, as in Airflow: a pendulum or zoneinfo zone keeps its IANA
name ("America/New_York"), a fixed offset becomes "+05:30", and UTC is "UTC".
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def zone_name(zone: tzinfo | None) -> str:
    """The name `zone_named` reads back; ValueError for a zone that has neither a name nor a fixed offset."""
    if zone is None:
        return "UTC"
    key = getattr(zone, "key", None) or getattr(zone, "zone", None)  # zoneinfo and pendulum; pytz
    if isinstance(key, str) and key:
        return "UTC" if key in ("UTC", "Etc/UTC") else key
    offset = zone.utcoffset(None)
    if offset is None:
        raise ValueError(f"time zone {zone!r} has no IANA name and no fixed offset")
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_named(name: str | None) -> tzinfo:
    """The zone `zone_name` gave `name` for; ValueError naming an unknown one."""
    if not name or name == "UTC":
        return UTC
    fixed = _OFFSET.match(name)
    if fixed:
        sign, hours, minutes = fixed.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-offset if sign == "-" else offset)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
