"""The metastore lease: exactly one coordinator owns a metastore at a time.

Two coordinators on one metastore both take ids from MAX(id) and rewrite each other's task
instances, so the lease is taken before anything reads or writes state, and held for the
coordinator's whole life. On PostgreSQL it is a session-level advisory lock held on a
dedicated connection (the server drops it when that connection ends, however the owner
died); on SQLite it is an exclusive flock on a file beside the database (the kernel drops it
when the owner's process ends). The owner's host, pid, address and start time are recorded in
the metastore's `meta` table, so a refused coordinator can say who holds the lease.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

from coordinator.metastore.db import redact
from coordinator.metastore.models import Meta
from tradewind.exceptions import MetastoreError

OWNER_KEY = "coordinator_owner"
#: Any fixed 64-bit number; advisory locks are per database, so one key per metastore suffices.
_ADVISORY_KEY = 0x7472_6164_6577_6E64


class LeaseHeld(MetastoreError):
    """Another coordinator owns the metastore."""


class LeaseLost(MetastoreError):
    """The owner's hold on the lease ended while it was running."""


class Lease:
    """Try to take the lease with `acquire()`; once taken, `check()` says whether it still holds."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.held = False
        self._file: BinaryIO | None = None
        self._conn: Any = None

    def acquire(self) -> bool:
        """Take the lease if it is free; False when another coordinator holds it."""
        if self.held:
            return True
        if self.url.startswith("sqlite:///"):
            self.held = self._acquire_sqlite()
        else:
            self.held = self._acquire_postgres()
        return self.held

    def _acquire_sqlite(self) -> bool:
        path = _sqlite_path(self.url)
        if path is None:
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "ab")  # noqa: SIM115 - held for the lease's life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def _acquire_postgres(self) -> bool:
        if self._conn is None:
            self._conn = _postgres_connection(self.url)
        try:
            with self._conn.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (_ADVISORY_KEY,))
                taken = bool(cursor.fetchone()[0])
        except Exception as exc:  # noqa: BLE001 - any driver error means the connection is unusable
            self._drop_connection()
            raise MetastoreError(f"cannot take the lease of metastore {redact(self.url)}: {_first_line(exc)}") from exc
        return taken

    @property
    def shared(self) -> bool:
        """The lease can end while its owner lives on (a PostgreSQL connection), not only when it dies."""
        return not self.url.startswith("sqlite:///")

    def check(self) -> None:
        """Raise LeaseLost when the lease no longer holds (PostgreSQL: its connection ended)."""
        if not self.held or self._conn is None:
            return
        try:
            with self._conn.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:  # noqa: BLE001 - the lock went with the connection
            self.held = False
            self._drop_connection()
            raise LeaseLost(
                f"lost the lease of metastore {redact(self.url)} (its connection ended: {_first_line(exc)}); "
                "another coordinator may own it now, so this one stops"
            ) from exc

    def record_owner(self, address: str) -> None:
        """Write who owns the metastore into its meta table (call once the schema exists)."""
        owner = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "address": address,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        Meta.insert(key=OWNER_KEY, value=json.dumps(owner)).on_conflict(
            conflict_target=[Meta.key], update={Meta.value: json.dumps(owner)}
        ).execute()

    def owner(self) -> str:
        """Who holds the lease, as recorded in the metastore, for a one-line refusal."""
        try:
            value = self._read_owner()
        except Exception:  # noqa: BLE001 - an unreadable record still leaves a useful message
            value = None
        if not value:
            return "another coordinator"
        try:
            owner = json.loads(value)
            return (
                f"the coordinator on host {owner['host']} pid {owner['pid']} "
                f"(listening on {owner['address']} since {owner['since']})"
            )
        except (ValueError, KeyError, TypeError):
            return "another coordinator"

    def _read_owner(self) -> str | None:
        query = "SELECT value FROM meta WHERE key = "
        if self.url.startswith("sqlite:///"):
            path = _sqlite_path(self.url)
            if path is None or not path.exists():
                return None
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)) as db:
                row = db.execute(query + "?", (OWNER_KEY,)).fetchone()
        else:
            if self._conn is None:
                self._conn = _postgres_connection(self.url)
            with self._conn.cursor() as cursor:
                cursor.execute(query + "%s", (OWNER_KEY,))
                row = cursor.fetchone()
        return str(row[0]) if row else None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._drop_connection()
        self.held = False

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def _sqlite_path(url: str) -> Path | None:
    path = url.removeprefix("sqlite:///")
    return None if path == ":memory:" else Path(path).resolve()


def _postgres_connection(url: str) -> Any:
    try:
        import psycopg2
    except ImportError as exc:
        raise MetastoreError("a PostgreSQL metastore needs psycopg2: pip install 'tradewind[postgres]'") from exc

    parts = urlparse(url)
    try:
        conn = psycopg2.connect(
            dbname=parts.path.lstrip("/") or "postgres",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=parts.port,
            connect_timeout=5,
            application_name="tradewind coordinator lease",
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=1,
            keepalives_count=3,
        )
    except (psycopg2.Error, ValueError) as exc:
        raise MetastoreError(f"cannot open metastore {redact(url)}: {_first_line(exc)}") from exc
    conn.autocommit = True
    return conn


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
