"""Airflow's BaseHook: a hook reads its connection by conn_id; `hook_for` picks a connection's hook."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tradewind.connections import Connection
from tradewind.exceptions import TradewindError

if TYPE_CHECKING:
    from tradewind.hooks.dbapi import DbApiHook

__all__ = ["BaseHook", "hook_for"]


class BaseHook:
    """The base of every hook: `get_connection(conn_id)` as in Airflow."""

    conn_name_attr = "conn_id"
    default_conn_name = ""
    conn_type = ""
    hook_name = ""

    def __init__(self, logger_name: str | None = None) -> None:
        self.log = logging.getLogger(logger_name or f"{type(self).__module__}.{type(self).__name__}")

    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        return Connection.get_connection_from_secrets(conn_id)

    @classmethod
    def get_hook(cls, conn_id: str) -> DbApiHook:
        return hook_for(cls.get_connection(conn_id))


def hook_for(connection: Connection) -> DbApiHook:
    """The hook of a connection's conn_type: sqlite, postgres (or postgresql), else the generic
    DB-API hook when the connection's extra names a driver module."""
    from tradewind.hooks.dbapi import GenericDbApiHook
    from tradewind.hooks.postgres import PostgresHook
    from tradewind.hooks.sqlite import SqliteHook

    kind = connection.conn_type
    if kind == "sqlite":
        return SqliteHook(connection=connection)
    if kind in ("postgres", "postgresql"):
        return PostgresHook(connection=connection)
    if kind == "generic" or "driver" in connection.extra_dejson:
        return GenericDbApiHook(connection=connection)
    raise TradewindError(
        f"connection {connection.conn_id!r}: Tradewind has no hook for conn_type {kind!r} "
        '(sqlite, postgres, or generic with a DB-API module in extra\'s "driver")'
    )
