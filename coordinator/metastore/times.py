"""Times at the metastore's boundary: naive UTC in the database, aware everywhere else."""

from __future__ import annotations

from datetime import UTC, datetime


def naive(value: datetime | None) -> datetime | None:
    """Aware -> naive UTC for the database."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def aware(value: datetime | str | None) -> datetime | None:
    """Naive UTC from the database -> aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
