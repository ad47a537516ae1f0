"""Airflow's DbApiHook: SQL through any DB-API 2 driver, with Airflow's `run` semantics.

A statement that fails raises SqlStatementError with the database's message and the statement
(secrets masked); a connection that cannot be opened raises ConnectionFailed naming the conn_id
and host. Rows come back as lists of values an XCom can hold (dates and decimals included).
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from typing import Any

from tradewind.connections import Connection
from tradewind.exceptions import ConnectionFailed, SqlStatementError, TradewindError
from tradewind.hooks.base import BaseHook
from tradewind.hooks.statements import split_statements as split_sql

__all__ = [
    "ConnectionFailed",
    "DbApiHook",
    "GenericDbApiHook",
    "SqlStatementError",
    "fetch_all_handler",
    "fetch_one_handler",
    "return_single_query_results",
]

Handler = Callable[[Any], Any]
#: How much of a failing statement its error shows.
STATEMENT_LIMIT = 500


def fetch_all_handler(cursor: Any) -> list[Any] | None:
    """Every row of the statement's result; None for a statement that returns no rows."""
    return cursor.fetchall() if cursor.description is not None else None


def fetch_one_handler(cursor: Any) -> Any:
    return cursor.fetchone() if cursor.description is not None else None


def return_single_query_results(sql: str | Iterable[str], return_last: bool, split_statements: bool | None) -> bool:
    """Airflow's rule: one result (not a list of them) for one SQL string, unless it is split
    into statements and every result is asked for."""
    return isinstance(sql, str) and (return_last or not split_statements)


def serializable(value: Any) -> Any:
    """A value from a driver as an XCom can hold it: rows as lists, bytes as text."""
    if isinstance(value, list | tuple):
        return [serializable(v) for v in value]
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class DbApiHook(BaseHook):
    """The base of SQL hooks. A subclass says how to open a DB-API connection (`connect`)."""

    conn_name_attr = "conn_id"
    default_conn_name = "default_conn_id"
    supports_autocommit = True
    placeholder = "%s"

    def __init__(
        self,
        *args: Any,
        connection: Connection | None = None,
        schema: str | None = None,
        log_sql: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        conn_id = kwargs.pop(self.conn_name_attr, None) or (args[0] if args else None)
        self.conn_id: str = connection.conn_id if connection is not None else (conn_id or self.default_conn_name)
        setattr(self, self.conn_name_attr, self.conn_id)
        self._connection = connection
        self.schema = schema
        self.log_sql = log_sql
        self.descriptions: list[Sequence[Sequence[Any]] | None] = []

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.get_connection(self.conn_id)
        return self._connection

    @property
    def last_description(self) -> Sequence[Sequence[Any]] | None:
        return self.descriptions[-1] if self.descriptions else None

    def connect(self, connection: Connection) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not say how to connect")

    def get_conn(self) -> Any:
        """A new DB-API connection; ConnectionFailed names the conn_id and host when it fails."""
        connection = self.connection
        try:
            return self.connect(connection)
        except Exception as exc:  # noqa: BLE001 - every driver has its own errors
            where = connection.host or connection.schema or "(no host)"
            raise ConnectionFailed(
                f"cannot connect with connection {connection.conn_id!r} to {where}: {_first_line(exc)}"
            ) from exc

    def set_autocommit(self, conn: Any, autocommit: bool) -> None:
        """A driver without the `autocommit` attribute keeps its own default (and is committed
        after the statements run)."""
        try:
            conn.autocommit = autocommit
        except AttributeError:
            if autocommit:
                self.log.warning("connection %r: its driver has no autocommit; committing at the end", self.conn_id)

    def get_autocommit(self, conn: Any) -> bool:
        return bool(getattr(conn, "autocommit", False))

    def run(
        self,
        sql: str | Iterable[str],
        autocommit: bool = False,
        parameters: Iterable[Any] | dict[str, Any] | None = None,
        handler: Handler | None = None,
        split_statements: bool = False,
        return_last: bool = True,
    ) -> Any:
        """Run one or more statements in one connection; with a handler, its result per
        statement (only the last one's for one SQL string, Airflow's return_last rule)."""
        pieces = (split_sql(sql) if split_statements else [sql]) if isinstance(sql, str) else list(sql)
        statements = [s for s in pieces if s.strip()]
        if not statements:
            raise TradewindError(f"connection {self.conn_id!r}: there is no SQL statement to run")
        results = []
        self.descriptions = []
        with closing(self.get_conn()) as conn:
            if self.supports_autocommit:
                self.set_autocommit(conn, autocommit)
            with closing(conn.cursor()) as cursor:
                for statement in statements:
                    self._run_command(cursor, statement, parameters)
                    if handler is not None:
                        results.append(serializable(handler(cursor)))
                    self.descriptions.append(cursor.description)
            if not self.get_autocommit(conn):
                conn.commit()
        if handler is None:
            return None
        if return_single_query_results(sql, return_last, split_statements):
            return results[-1]
        return results

    def _run_command(self, cursor: Any, statement: str, parameters: Any) -> None:
        if self.log_sql:
            self.log.info("Running statement: %s, parameters: %s", statement, parameters)
        try:
            if parameters:
                cursor.execute(statement, parameters)
            else:
                cursor.execute(statement)
        except Exception as exc:  # noqa: BLE001 - the database's message is the error
            shown = statement.strip()
            if len(shown) > STATEMENT_LIMIT:
                shown = shown[: STATEMENT_LIMIT - 3] + "..."
            raise SqlStatementError(
                f"{type(exc).__name__}: {_first_line(exc)} (connection {self.conn_id!r}, statement: {shown!r})"
            ) from exc
        if cursor.rowcount >= 0 and cursor.description is None:
            self.log.info("Rows affected: %s", cursor.rowcount)

    def get_records(self, sql: str | Iterable[str], parameters: Any = None) -> Any:
        return self.run(sql=sql, parameters=parameters, handler=fetch_all_handler)

    def get_first(self, sql: str | Iterable[str], parameters: Any = None) -> Any:
        return self.run(sql=sql, parameters=parameters, handler=fetch_one_handler)

    def get_pandas_df(self, sql: str, parameters: Any = None, **kwargs: Any) -> Any:
        """A pandas DataFrame of the query's rows; needs pandas installed."""
        try:
            import pandas
        except ImportError:
            raise TradewindError("get_pandas_df needs pandas: pip install pandas") from None
        with closing(self.get_conn()) as conn:
            return pandas.read_sql(sql, con=conn, params=parameters, **kwargs)

    def insert_rows(
        self,
        table: str,
        rows: Iterable[Sequence[Any]],
        target_fields: Sequence[str] | None = None,
        commit_every: int = 1000,
        replace: bool = False,
        **_ignored: Any,
    ) -> int:
        """Insert `rows` in batches of `commit_every` (one commit each); returns the row count."""
        columns = f" ({', '.join(target_fields)})" if target_fields else ""
        verb = "REPLACE INTO" if replace else "INSERT INTO"
        count = 0
        with closing(self.get_conn()) as conn:
            if self.supports_autocommit:
                self.set_autocommit(conn, False)
            with closing(conn.cursor()) as cursor:
                batch: list[Sequence[Any]] = []
                for row in rows:
                    batch.append(tuple(row))
                    if len(batch) >= max(commit_every, 1):
                        count += self._insert_batch(conn, cursor, verb, table, columns, batch)
                        batch = []
                if batch:
                    count += self._insert_batch(conn, cursor, verb, table, columns, batch)
        self.log.info("Done loading. Loaded a total of %s rows into %s", count, table)
        return count

    def _insert_batch(self, conn: Any, cursor: Any, verb: str, table: str, columns: str, batch: list[Any]) -> int:
        marks = ", ".join([self.placeholder] * len(batch[0]))
        statement = f"{verb} {table}{columns} VALUES ({marks})"
        try:
            cursor.executemany(statement, batch)
        except Exception as exc:  # noqa: BLE001 - the database's message is the error
            raise SqlStatementError(
                f"{type(exc).__name__}: {_first_line(exc)} (connection {self.conn_id!r}, statement: {statement!r})"
            ) from exc
        conn.commit()
        self.log.info("Loaded %s rows into %s", len(batch), table)
        return len(batch)

    def test_connection(self) -> tuple[bool, str]:
        """Open the connection and run `SELECT 1`."""
        try:
            self.get_first("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - the driver's error is the answer
            return False, str(exc)
        return True, "Connection successfully tested"


class GenericDbApiHook(DbApiHook):
    """Any DB-API 2 driver: the connection's extra names its module ("driver": "pymysql") and
    may add keyword arguments for its connect() ("connect_args": {...})."""

    def connect(self, connection: Connection) -> Any:
        extra = connection.extra_dejson
        name = extra.get("driver")
        if not name:
            raise TradewindError(f'connection {connection.conn_id!r} names no DB-API module in extra\'s "driver"')
        module = importlib.import_module(name)
        self.placeholder = "?" if getattr(module, "paramstyle", "") == "qmark" else "%s"
        arguments = {
            "host": connection.host,
            "port": connection.port,
            "user": connection.login,
            "password": connection.password,
            "database": connection.schema,
        }
        arguments = {k: v for k, v in arguments.items() if v}
        return module.connect(**arguments, **extra.get("connect_args", {}))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


logging.getLogger(__name__).addHandler(logging.NullHandler())
