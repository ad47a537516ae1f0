"""PostgresListenTrigger: fires on each NOTIFY on a PostgreSQL LISTEN channel.

It holds one connection (psycopg 3, async: `pip install 'tradewind[postgres]'`) that LISTENs on
the channel, so no notification is missed while it runs. For a deferred task it fires on the
first notification; for an asset watcher on every one, each an asset event. Its payload is
{"channel", "payload" (the NOTIFY's text, "" without one), "pid" (the notifying backend)}.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tradewind.connections import Connection
from tradewind.exceptions import DagDefinitionError, TradewindError
from tradewind.triggers.base import BaseTrigger, TriggerEvent

#: PostgreSQL's longest identifier, in bytes.
MAX_CHANNEL_BYTES = 63


class PostgresListenTrigger(BaseTrigger):
    """Listens on `channel` of the database named by `conn_id` (a connection, as PostgresHook
    reads it) or by `dsn` (a libpq connection string or postgresql:// URL): give one of them."""

    def __init__(self, channel: str, conn_id: str | None = None, dsn: str | None = None, **kwargs: Any) -> None:
        super().__init__()
        if (conn_id is None) == (dsn is None):
            raise DagDefinitionError(
                f"PostgresListenTrigger({channel!r}): give either conn_id or dsn, not both or neither"
            )
        if not isinstance(channel, str) or not 1 <= len(channel.encode()) <= MAX_CHANNEL_BYTES:
            raise DagDefinitionError(
                f"PostgresListenTrigger: channel must be 1 to {MAX_CHANNEL_BYTES} bytes of text, not {channel!r}"
            )
        self.channel, self.conn_id, self.dsn = channel, conn_id, dsn

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "tradewind.triggers.postgres.PostgresListenTrigger",
            {"channel": self.channel, "conn_id": self.conn_id, "dsn": self.dsn},
        )

    def _dsn(self) -> str:
        if self.dsn is not None:
            return self.dsn
        uri = Connection.get_connection_from_secrets(str(self.conn_id)).get_uri()
        return uri.replace("postgres://", "postgresql://", 1)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            import psycopg
            from psycopg import sql
        except ImportError:
            raise TradewindError("PostgresListenTrigger needs psycopg 3: pip install 'tradewind[postgres]'") from None
        async with await psycopg.AsyncConnection.connect(self._dsn(), autocommit=True) as connection:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            async for notify in connection.notifies():
                yield TriggerEvent({"channel": notify.channel, "payload": notify.payload, "pid": notify.pid})
                if not self.watching:
                    return
