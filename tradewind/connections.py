"""Airflow's Connection: where a hook connects to, and how it is found by its conn_id.

A connection is looked up in this order (Airflow's secrets backends order): the environment
where the lookup runs (`TRADEWIND_CONN_<CONN_ID>`, then `AIRFLOW_CONN_<CONN_ID>`, each in
Airflow's URI form or its JSON form), then the metastore (a running task asks its coordinator
through the task runtime channel), then Tradewind's defaults (`sqlite_default`, a SQLite file
in the temp folder as in Airflow). A task runs where its worker runs, so the worker's
environment comes first for tasks; templates rendered on the coordinator see the coordinator's.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tradewind import runtime
from tradewind.exceptions import ConnectionNotFound, TradewindError
from tradewind.secrets_masker import mask_secret
from tradewind.v1 import common_pb2

__all__ = ["Connection", "ConnectionNotFound", "default_connections", "env_connection", "from_pb", "to_pb"]

ENV_PREFIXES = ("TRADEWIND_CONN_", "AIRFLOW_CONN_")
FIELDS = ("conn_type", "host", "login", "password", "schema", "port", "extra", "description")


class Connection:
    """One connection, with Airflow's attributes; `extra` is JSON text, `extra_dejson` its dict."""

    def __init__(
        self,
        conn_id: str | None = None,
        conn_type: str | None = None,
        description: str | None = None,
        host: str | None = None,
        login: str | None = None,
        password: str | None = None,
        schema: str | None = None,
        port: int | None = None,
        extra: str | dict[str, Any] | None = None,
        uri: str | None = None,
    ) -> None:
        self.conn_id = conn_id or ""
        self.conn_type = conn_type or ""
        self.description = description or ""
        self.host = host or ""
        self.login = login or ""
        self.password = password or ""
        self.schema = schema or ""
        self.port = int(port) if port not in (None, "", 0) else None
        self.extra = json.dumps(extra) if isinstance(extra, dict) else (extra or "")
        if uri:
            self._parse_uri(uri)
        if self.extra:
            try:
                parsed = json.loads(self.extra)
            except ValueError:
                raise TradewindError(f"connection {self.conn_id!r}: extra is not JSON: {self.extra[:80]!r}") from None
            if not isinstance(parsed, dict):
                raise TradewindError(
                    f"connection {self.conn_id!r}: extra must be a JSON object, not {self.extra[:80]!r}"
                )
        mask_secret(self.password)
        mask_secret(self.extra_dejson, "extra")

    def _parse_uri(self, uri: str) -> None:
        parts = urlsplit(uri)
        if not parts.scheme:
            raise TradewindError(f"connection {self.conn_id!r}: {uri.split('@')[-1]!r} is not a connection URI")
        self.conn_type = parts.scheme.replace("-", "_")
        self.host = unquote(parts.hostname or "")
        self.login = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        try:
            self.port = parts.port
        except ValueError:
            raise TradewindError(f"connection {self.conn_id!r}: the port of its URI is not a number") from None
        path = parts.path
        self.schema = unquote(path[1:] if path.startswith("/") else path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if "__extra__" in query:
            self.extra = query["__extra__"]
        elif query:
            self.extra = json.dumps(query)

    @classmethod
    def from_json(cls, value: str, conn_id: str | None = None) -> Connection:
        """Airflow's JSON form: {"conn_type": ..., "host": ..., "extra": {...}, ...}."""
        try:
            data = json.loads(value)
        except ValueError as exc:
            raise TradewindError(f"connection {conn_id!r}: its JSON form does not parse: {exc}") from None
        if not isinstance(data, dict):
            raise TradewindError(f"connection {conn_id!r}: its JSON form must be an object")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise TradewindError(f"connection {conn_id!r}: unknown field(s) {', '.join(unknown)} in its JSON form")
        return cls(conn_id=conn_id, **data)

    @classmethod
    def parse(cls, conn_id: str, value: str) -> Connection:
        """A connection from an environment variable's value: JSON when it starts with `{`."""
        text = value.strip()
        return cls.from_json(text, conn_id) if text.startswith("{") else cls(conn_id=conn_id, uri=text)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return json.loads(self.extra) if self.extra else {}

    def get_extra(self) -> str:
        return self.extra

    def get_password(self) -> str:
        return self.password

    def get_uri(self) -> str:
        """Airflow's URI form, which `parse` reads back to the same connection."""
        uri = f"{self.conn_type.replace('_', '-')}://"
        if self.login or self.password:
            uri += quote(self.login, safe="")
            if self.password:
                uri += ":" + quote(self.password, safe="")
            uri += "@"
        uri += quote(self.host, safe="")
        if self.port:
            uri += f":{self.port}"
        if self.schema:
            uri += "/" + quote(self.schema, safe="")
        if self.extra:
            extra = self.extra_dejson
            simple = all(isinstance(v, str) for v in extra.values())
            uri += "?" + (urlencode(extra) if simple else urlencode({"__extra__": self.extra}))
        return uri

    def to_dict(self) -> dict[str, Any]:
        return {"conn_id": self.conn_id, **{name: getattr(self, name) for name in FIELDS}}

    def redacted(self) -> dict[str, Any]:
        """What may be shown to people: the password as *** when there is one."""
        data = self.to_dict()
        data["password"] = "***" if self.password else ""
        return data

    @classmethod
    def get_connection_from_secrets(cls, conn_id: str) -> Connection:
        """The connection named `conn_id`, from the first source that has it (module docstring)."""
        found = env_connection(conn_id)
        if found is None:
            found = _from_task_channel(conn_id)
        if found is None:
            found = default_connections().get(conn_id)
        if found is None:
            where = "" if _in_task() else " (outside a running task only the environment and the defaults are searched)"
            raise ConnectionNotFound(f"The conn_id `{conn_id}` isn't defined{where}")
        return found

    get = get_connection_from_secrets

    def get_hook(self, *, hook_params: dict[str, Any] | None = None) -> Any:
        """The hook of this connection's conn_type (Airflow's Connection.get_hook)."""
        from tradewind.hooks.base import hook_for

        hook = hook_for(self)
        for name, value in (hook_params or {}).items():
            setattr(hook, name, value)
        return hook

    def test_connection(self) -> tuple[bool, str]:
        """Open the connection with its hook and run a trivial query: (True, message) or
        (False, the driver's error)."""
        from tradewind.hooks.base import hook_for

        try:
            return hook_for(self).test_connection()
        except Exception as exc:  # noqa: BLE001 - the driver's error is the answer
            return False, f"{type(exc).__name__}: {exc}"

    def __repr__(self) -> str:
        return f"Connection(conn_id={self.conn_id!r}, conn_type={self.conn_type!r}, host={self.host!r})"


def to_pb(connection: Connection) -> common_pb2.Connection:
    """A connection on the wire (common.proto Connection), password and extra included."""
    return common_pb2.Connection(
        conn_id=connection.conn_id,
        conn_type=connection.conn_type,
        host=connection.host,
        login=connection.login,
        password=connection.password,
        schema=connection.schema,
        port=connection.port or 0,
        extra=connection.extra,
        description=connection.description,
    )


def from_pb(pb: common_pb2.Connection) -> Connection:
    """Raises TradewindError when its extra is not a JSON object."""
    return Connection(
        conn_id=pb.conn_id,
        conn_type=pb.conn_type,
        description=pb.description,
        host=pb.host,
        login=pb.login,
        password=pb.password,
        schema=pb.schema,
        port=pb.port or None,
        extra=pb.extra,
    )


def env_connection(conn_id: str) -> Connection | None:
    for prefix in ENV_PREFIXES:
        value = os.environ.get(prefix + conn_id.upper())
        if value:
            return Connection.parse(conn_id, value)
    return None


def default_connections() -> dict[str, Connection]:
    """The connections every Tradewind has, as Airflow's defaults: sqlite_default."""
    path = os.path.join(tempfile.gettempdir(), "sqlite_default.db")
    return {"sqlite_default": Connection(conn_id="sqlite_default", conn_type="sqlite", host=path)}


def _in_task() -> bool:
    return bool(os.environ.get(runtime.CHANNEL_ENV))


def _from_task_channel(conn_id: str) -> Connection | None:
    """The metastore's connection, asked for through the task runtime channel; None outside a task."""
    return runtime.fetch_connection(conn_id) if _in_task() else None
