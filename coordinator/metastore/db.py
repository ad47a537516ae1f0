"""Open the metastore: SQLite (WAL) by default, PostgreSQL for several machines.

The schema version is recorded in the `meta` table; an older metastore is migrated
(migrations.py), one written by a newer Tradewind is refused rather than risked.
Each thread gets its own connection (peewee keeps connection state per thread): the group
commit runs on a writer thread while ControlService reads run on a pool. A PostgreSQL
connection that the server dropped is opened again on next use instead of failing forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import peewee
from playhouse.shortcuts import ReconnectMixin

from coordinator.metastore import migrations
from coordinator.metastore.models import ALL_MODELS, Meta, database
from tradewind.exceptions import MetastoreError, SchemaVersionError

SCHEMA_VERSION = migrations.SCHEMA_VERSION


#: Every error a database or its driver raises (peewee's InterfaceError is no DatabaseError).
DATABASE_ERRORS = (peewee.DatabaseError, peewee.InterfaceError)
#: Error texts (lower case) that say the connection itself is gone, not the statement.
CONNECTION_LOST = (
    "server closed the connection",
    "connection already closed",
    "terminating connection",
    "the connection is closed",
    "connection not open",
    "could not connect",
    "connection refused",
    "could not receive data",
    "could not send data",
    "ssl connection has been closed",
)


class _RollbackKeepsTheCause:
    """A rollback with nothing left to roll back must not hide the error that called for it.

    SQLite ends a transaction itself when a commit fails with "database or disk is full", and
    peewee's rollback then says "cannot rollback - no transaction is active" instead; a
    connection the server ended has rolled back too.
    """

    def rollback(self) -> None:
        try:
            super().rollback()  # type: ignore[misc]
        except DATABASE_ERRORS as exc:
            if not (connection_lost(exc) or "no transaction is active" in str(exc)):
                raise


class SqliteDatabase(_RollbackKeepsTheCause, peewee.SqliteDatabase):
    pass


class PostgresqlDatabase(_RollbackKeepsTheCause, ReconnectMixin, peewee.PostgresqlDatabase):
    reconnect_errors = tuple(
        (error, text) for error in (peewee.OperationalError, peewee.InterfaceError) for text in CONNECTION_LOST
    )


DISK_FULL = ("database or disk is full", "no space left on device", "disk full")


def disk_full(exc: BaseException) -> bool:
    """The metastore's disk is full: waiting does not help, a person must free space."""
    return any(text in str(exc).lower() for text in DISK_FULL)


def connection_lost(exc: BaseException) -> bool:
    return isinstance(exc, peewee.OperationalError | peewee.InterfaceError) and any(
        text in str(exc).lower() for text in CONNECTION_LOST
    )


def one_line(exc: BaseException) -> str:
    """The part of a driver's message a person needs, on one line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0].replace("FATAL:", "").replace("ERROR:", "")
    if " failed: " in first:
        first = first.split(" failed: ", 1)[1]
    first = " ".join(first.split())
    return first[0].lower() + first[1:] if first[:2].istitle() else first


def connect(url: str) -> peewee.Database:
    """Open the database named by `url`, create, migrate or check the schema, and bind the models."""
    db = _database_for(url)
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        _ensure_schema(db, url)
    except DATABASE_ERRORS as exc:
        raise MetastoreError(f"cannot open metastore {redact(url)}: {one_line(exc)}") from exc
    return db


def _database_for(url: str) -> peewee.Database:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
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
        try:
            port = parts.port
        except ValueError as exc:
            raise MetastoreError(f"cannot open metastore {redact(url)}: {exc}") from exc
        options: dict[str, Any] = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 10}
        return PostgresqlDatabase(
            parts.path.lstrip("/") or "postgres",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=port,
            **options,
        )
    raise MetastoreError(f"metastore URL must start with sqlite:/// or postgresql://, not {redact(url)!r}")


def _ensure_schema(db: peewee.Database, url: str) -> None:
    found = _schema_version(db)
    if found is None:
        with db.atomic():
            db.create_tables(ALL_MODELS, safe=True)
            Meta.insert(key="schema_version", value=str(SCHEMA_VERSION)).on_conflict_ignore().execute()
        return
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"metastore {redact(url)} has schema version {found}, newer than this Tradewind's "
            f"{SCHEMA_VERSION}; upgrade Tradewind to open it"
        )
    if found < SCHEMA_VERSION:
        migrations.upgrade(db, found)
    with db.atomic():
        db.create_tables(ALL_MODELS, safe=True)


def _schema_version(db: peewee.Database) -> int | None:
    if not db.table_exists(Meta._meta.table_name):
        return None
    row = Meta.get_or_none(Meta.key == "schema_version")
    return int(row.value) if row is not None else None


def redact(url: str) -> str:
    try:
        password = urlparse(url).password
    except ValueError:
        return url
    if password:
        return url.replace(f":{password}@", ":***@")
    return url
