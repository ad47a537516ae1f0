"""How times, durations, sizes and histories read on screen. Times are shown in UTC, as Airflow does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from tradewind.wire import from_timestamp

SPARKS = "▁▂▃▄▅▆▇█"


def clock(stamp: Timestamp) -> str:
    """A time stamp as "2026-11-25 14:03:10", or "-" when unset."""
    moment = from_timestamp(stamp)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def duration(seconds: float | None) -> str:
    """Seconds as "850ms", "12.3s", "4m 05s" or "2h 03m"."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def span(start: Timestamp, end: Timestamp, now: datetime) -> str:
    """How long something ran: until `end`, or until now while it still runs."""
    began = from_timestamp(start)
    if began is None:
        return "-"
    return duration(((from_timestamp(end) or now) - began).total_seconds())


def ago(stamp: Timestamp, now: datetime) -> str:
    moment = from_timestamp(stamp)
    if moment is None:
        return "-"
    return duration(max((now - moment).total_seconds(), 0.0)) + " ago"


def size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"


def sparkline(values: Sequence[float], width: int = 12, top: float = 100.0) -> str:
    """The last `width` values (0..top) as block characters, oldest first."""
    tail = list(values)[-width:]
    return "".join(SPARKS[min(int(v / top * len(SPARKS)), len(SPARKS) - 1)] if v > 0 else " " for v in tail)
