"""The metastore's variables and connections: every query of their tables.

Values arrive here already encrypted (coordinator/secrets.py holds the key): this module never
sees a secret in clear.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from coordinator.metastore import models as m

__all__ = ["ConnectionRow", "SecretStore", "VariableRow"]


@dataclass(frozen=True)
class VariableRow:
    key: str
    value: str
    description: str


@dataclass(frozen=True)
class ConnectionRow:
    conn_id: str
    conn_type: str
    host: str
    login: str
    password: str
    schema: str
    port: int
    extra: str
    description: str


class SecretStore:
    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def variables(self) -> list[VariableRow]:
        query = m.Variable.select().order_by(m.Variable.key)
        return [VariableRow(r.key, r.value, r.description) for r in query]

    def connections(self) -> list[ConnectionRow]:
        query = m.Connection.select().order_by(m.Connection.conn_id)
        return [
            ConnectionRow(r.conn_id, r.conn_type, r.host, r.login, r.password, r.schema, r.port, r.extra, r.description)
            for r in query
        ]

    def set_variable(self, row: VariableRow) -> None:
        m.Variable.insert(key=row.key, value=row.value, description=row.description).on_conflict(
            conflict_target=[m.Variable.key],
            update={m.Variable.value: row.value, m.Variable.description: row.description},
        ).execute()

    def delete_variable(self, key: str) -> bool:
        return bool(m.Variable.delete().where(m.Variable.key == key).execute())

    def set_connection(self, row: ConnectionRow) -> None:
        values = {
            "conn_type": row.conn_type,
            "host": row.host,
            "login": row.login,
            "password": row.password,
            "schema": row.schema,
            "port": row.port,
            "extra": row.extra,
            "description": row.description,
        }
        m.Connection.insert(conn_id=row.conn_id, **values).on_conflict(
            conflict_target=[m.Connection.conn_id],
            update={getattr(m.Connection, name): value for name, value in values.items()},
        ).execute()

    def delete_connection(self, conn_id: str) -> bool:
        return bool(m.Connection.delete().where(m.Connection.conn_id == conn_id).execute())
