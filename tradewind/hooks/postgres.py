"""Airflow's PostgresHook, on psycopg 3 (`pip install 'tradewind[postgres]'`)."""

from __future__ import annotations

from typing import Any

from tradewind.connections import Connection
from tradewind.exceptions import TradewindError
from tradewind.hooks.dbapi import DbApiHook

__all__ = ["PostgresHook"]

#: Seconds to wait for the server before the connection counts as unreachable.
CONNECT_TIMEOUT = 10


class PostgresHook(DbApiHook):
    conn_name_attr = "postgres_conn_id"
    default_conn_name = "postgres_default"
    conn_type = "postgres"
    hook_name = "Postgres"
    placeholder = "%s"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.database = kwargs.pop("database", None)
        self.options = kwargs.pop("options", None)
        super().__init__(*args, **kwargs)

    def connect(self, connection: Connection) -> Any:
        try:
            import psycopg
        except ImportError:
            raise TradewindError("PostgresHook needs psycopg 3: pip install 'tradewind[postgres]'") from None
        extra = connection.extra_dejson
        arguments: dict[str, Any] = {
            "host": connection.host or None,
            "port": connection.port,
            "user": connection.login or None,
            "password": connection.password or None,
            "dbname": self.database or self.schema or connection.schema or None,
            "connect_timeout": int(extra.get("connect_timeout", CONNECT_TIMEOUT)),
        }
        for name in ("sslmode", "sslcert", "sslkey", "sslrootcert", "application_name"):
            if name in extra:
                arguments[name] = extra[name]
        if self.options:
            arguments["options"] = self.options
        return psycopg.connect(**{k: v for k, v in arguments.items() if v is not None})

    def get_uri(self) -> str:
        return self.connection.get_uri().replace("postgres://", "postgresql://", 1)
