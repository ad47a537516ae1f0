"""Airflow's SqliteHook: the connection's host (or schema) is the database file."""

from __future__ import annotations

import sqlite3
from typing import Any

from tradewind.connections import Connection
from tradewind.hooks.dbapi import DbApiHook

__all__ = ["SqliteHook"]


class SqliteHook(DbApiHook):
    conn_name_attr = "sqlite_conn_id"
    default_conn_name = "sqlite_default"
    conn_type = "sqlite"
    hook_name = "Sqlite"
    placeholder = "?"

    def connect(self, connection: Connection) -> Any:
        path = connection.host or connection.schema
        if not path:
            raise ValueError("the connection names no database file (host)")
        uri = path.startswith("file:")
        return sqlite3.connect(path, uri=uri, timeout=30)

    def set_autocommit(self, conn: Any, autocommit: bool) -> None:
        conn.isolation_level = None if autocommit else ""

    def get_autocommit(self, conn: Any) -> bool:
        return conn.isolation_level is None

    def get_uri(self) -> str:
        return f"sqlite:///{self.connection.host or self.connection.schema}"
