"""Open the metastore: SQLite (WAL) by default, PostgreSQL for several machines.

The schema version is recorded in the `meta` table; opening a metastore written by a newer
Tradewind is refused rather than risked.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import peewee

from coordinator.metastore.models import ALL_MODELS, Meta, database
from tradewind.exceptions import MetastoreError, SchemaVersionError

SCHEMA_VERSION = 1


def connect(url: str) -> peewee.Database:
    """Open the database named by `url`, create or check the schema, and bind the models."""
    db = _database_for(url)
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        _ensure_schema(db, url)
    except peewee.OperationalError as exc:
        raise MetastoreError(f"cannot open metastore {redact(url)}: {exc}") from exc
    return db


def _database_for(url: str) -> peewee.Database:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(
            str(path),
            pragmas={
                "journal_mode": "wal",
                "synchronous": "normal",
                "foreign_keys": 1,
                "busy_timeout": 5000,
                "cache_size": -16000,
            },
            check_same_thread=False,
        )
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg2  # noqa: F401
        except ImportError as exc:
            raise MetastoreError("a PostgreSQL metastore needs psycopg2: pip install 'tradewind[postgres]'") from exc
        parts = urlparse(url)
        return peewee.PostgresqlDatabase(
            parts.path.lstrip("/") or "postgres",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=parts.port,
        )
    raise MetastoreError(f"metastore URL must start with sqlite:/// or postgresql://, not {url!r}")


def _ensure_schema(db: peewee.Database, url: str) -> None:
    with db.atomic():
        db.create_tables(ALL_MODELS, safe=True)
        row = Meta.get_or_none(Meta.key == "schema_version")
        if row is None:
            Meta.create(key="schema_version", value=str(SCHEMA_VERSION))
            return
    found = int(row.value)
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"metastore {redact(url)} has schema version {found}, newer than this Tradewind's "
            f"{SCHEMA_VERSION}; upgrade Tradewind to open it"
        )


def redact(url: str) -> str:
    parts = urlparse(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
