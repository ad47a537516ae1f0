"""Airflow's Variable, and the `var` and `conn` names of the template context.

A variable is looked up as a connection is (tradewind/connections.py): the environment where
the lookup runs (`TRADEWIND_VAR_<KEY>`, then `AIRFLOW_VAR_<KEY>`), then the metastore (through
the task runtime channel, so only inside a running task). A value whose key has a sensitive
name is masked in the task's log from the moment it is read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from tradewind import runtime
from tradewind.connections import Connection
from tradewind.exceptions import TradewindError
from tradewind.secrets_masker import mask_secret

__all__ = ["ConnectionAccessor", "Variable", "VariableAccessor", "env_variable"]

ENV_PREFIXES = ("TRADEWIND_VAR_", "AIRFLOW_VAR_")
_MISSING = object()


def env_variable(key: str) -> str | None:
    for prefix in ENV_PREFIXES:
        value = os.environ.get(prefix + key.upper())
        if value is not None:
            return value
    return None


def _from_task_channel(key: str) -> str | None:
    if not os.environ.get(runtime.CHANNEL_ENV):
        raise TradewindError(
            f"Variable {key!r} is not in the environment ({ENV_PREFIXES[0]}{key.upper()}), and the metastore's "
            "variables can be read only inside a running task"
        )
    return runtime.fetch_variable(key)


class Variable:
    """Airflow's Variable: `Variable.get(key, default_var=..., deserialize_json=...)`, `Variable.set`."""

    @staticmethod
    def get(key: str, default_var: Any = _MISSING, deserialize_json: bool = False) -> Any:
        """The variable's value (parsed as JSON with deserialize_json); `default_var` when no
        source has it, else KeyError as in Airflow."""
        value = env_variable(key)
        if value is None:
            value = _from_task_channel(key)
        if value is None:
            if default_var is _MISSING:
                raise KeyError(f"Variable {key} does not exist")
            return default_var
        mask_secret(value, key)
        if not deserialize_json:
            return value
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise TradewindError(f"Variable {key!r} is not JSON ({exc}); read it without deserialize_json") from None
        mask_secret(parsed, key)
        return parsed

    @staticmethod
    def set(key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        """Store the variable in the metastore (inside a running task)."""
        text = json.dumps(value, indent=2) if serialize_json else str(value)
        if not os.environ.get(runtime.CHANNEL_ENV):
            raise TradewindError(
                f"Variable.set({key!r}) works only inside a running task; use `tradewind variables set`"
            )
        runtime.store_variable(key, text, description or "")


class _Values:
    def __init__(self, lookup: Callable[[str], str | None], as_json: bool) -> None:
        self._lookup, self._json = lookup, as_json

    def get(self, key: str, default: Any = _MISSING) -> Any:
        value = self._lookup(key)
        if value is None:
            if default is _MISSING:
                raise KeyError(f"Variable {key} does not exist")
            return default
        return json.loads(value) if self._json else value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        return self.get(key)

    __getitem__ = get


class VariableAccessor:
    """`{{ var.value.key }}`, `{{ var.json.key.field }}` and `var.value.get('key', default)`."""

    def __init__(self, lookup: Callable[[str], str | None] | None = None) -> None:
        find = lookup or _task_variable
        self.value = _Values(find, False)
        self.json = _Values(find, True)


def _task_variable(key: str) -> str | None:
    return Variable.get(key, default_var=None)


class ConnectionAccessor:
    """`{{ conn.my_db.host }}` and `conn.get('my_db')`."""

    def __init__(self, lookup: Callable[[str], Connection] | None = None) -> None:
        self._lookup = lookup or Connection.get_connection_from_secrets

    def get(self, conn_id: str, default: Any = _MISSING) -> Any:
        try:
            return self._lookup(conn_id)
        except TradewindError:
            if default is _MISSING:
                raise
            return default

    def __getattr__(self, conn_id: str) -> Any:
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        return self.get(conn_id)

    __getitem__ = get
