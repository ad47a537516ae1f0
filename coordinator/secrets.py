"""Variables and connections on the coordinator: encrypted at rest, decrypted in memory.

The metastore holds every variable value and every connection password and extra as Fernet
ciphertext (Airflow's scheme). The key comes from TRADEWIND_SECRET_KEY, or else from the file
`secret.key` in the Tradewind home, created with mode 0600 on first start. All rows are read
once when the coordinator starts and kept in memory, so answering a task's request or rendering
a bash template reads no metastore; a change is written first (on the metastore writer thread)
and takes effect in memory only once stored.

Lookups for templates rendered here follow the SDK's order: the coordinator's environment
(TRADEWIND_CONN_*, TRADEWIND_VAR_* and the AIRFLOW_ forms), then the metastore, then defaults.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from coordinator.metastore.secret_store import ConnectionRow, SecretStore, VariableRow
from tradewind import wire
from tradewind.connections import Connection, default_connections, env_connection
from tradewind.exceptions import ConfigError, ConnectionNotFound, InvalidArgument
from tradewind.secrets_masker import Redactor, mask_secret, redact, redactor
from tradewind.variables import ConnectionAccessor, VariableAccessor, env_variable

__all__ = ["KEY_ENV", "KEY_FILE", "Secrets", "load_key"]

KEY_ENV = "TRADEWIND_SECRET_KEY"
KEY_FILE = "secret.key"


def load_key(home: Path) -> bytes:
    """The Fernet key: TRADEWIND_SECRET_KEY, else <home>/secret.key (created, mode 0600)."""
    text = os.environ.get(KEY_ENV, "").strip()
    if text:
        key = text.encode()
        where = KEY_ENV
    else:
        path = home / KEY_FILE
        where = str(path)
        if not path.exists():
            _create_key_file(path)
        key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise ConfigError(f"{where}: the secret key must be 32 url-safe base64-encoded bytes (a Fernet key)") from None
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key beside its final name, then link it in place: a coordinator starting at
    the same moment either wins or reads the winner's whole key, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(Fernet.generate_key() + b"\n")
    try:
        os.link(scratch, path)
    except FileExistsError:
        pass
    finally:
        scratch.unlink()


class Secrets:
    """The metastore's variables and connections, for one coordinator. Without a store (core
    tests), it is an empty in-memory set."""

    def __init__(self, store: SecretStore | None = None, key: bytes | None = None) -> None:
        self.store = store
        self._fernet = Fernet(key or Fernet.generate_key())
        self._variables: dict[str, VariableRow] = {}
        self._connections: dict[str, Connection] = {}
        self._lock = threading.Lock()
        self.redactor = Redactor()

    # ---- loading and encryption ---------------------------------------------------------
    def load(self) -> None:
        """Read and decrypt every row (at start); a row the key cannot decrypt is an error
        naming it, since the coordinator would otherwise hand tasks wrong values."""
        if self.store is None:
            return
        variables = {
            r.key: VariableRow(r.key, self._decrypt(r.value, f"variable {r.key!r}"), r.description)
            for r in self.store.variables()
        }
        connections = {r.conn_id: self._connection(r) for r in self.store.connections()}
        with self._lock:
            self._variables, self._connections = variables, connections
            self._rebuild()

    def _encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode() if text else ""

    def _decrypt(self, token: str, what: str) -> str:
        if not token:
            return ""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                f"{what} in the metastore cannot be decrypted with this secret key ({KEY_ENV} or {KEY_FILE}); "
                "was the key changed?"
            ) from None

    def _connection(self, row: ConnectionRow) -> Connection:
        what = f"connection {row.conn_id!r}"
        return Connection(
            conn_id=row.conn_id,
            conn_type=row.conn_type,
            host=row.host,
            login=row.login,
            password=self._decrypt(row.password, what),
            schema=row.schema,
            port=row.port or None,
            extra=self._decrypt(row.extra, what),
            description=row.description,
        )

    def _rebuild(self) -> None:
        redactor = Redactor()
        for connection in self._connections.values():
            redactor.add(connection.password)
            redactor.add(connection.extra_dejson, "extra")
        for row in self._variables.values():
            redactor.add(row.value, row.key)
        self.redactor = redactor

    def redact(self, text: str) -> str:
        """`text` with every stored password and sensitive variable value as ***, and every
        secret this process read from its environment (a connection in TRADEWIND_CONN_*)."""
        return redact(self.redactor.redact(text))

    def redact_log(self, data: bytes) -> bytes:
        """A chunk of a task's log with the secrets `redact` knows masked; unchanged (and not
        decoded) while there are none. A bash task's output is masked here: its worker does not
        know the coordinator's secrets."""
        if not self.redactor.active and not redactor().active:
            return data
        return self.redact(data.decode(errors="surrogateescape")).encode(errors="surrogateescape")

    # ---- reads (memory) -----------------------------------------------------------------
    def variable(self, key: str) -> VariableRow | None:
        return self._variables.get(key)

    def connection(self, conn_id: str) -> Connection | None:
        return self._connections.get(conn_id)

    def variables(self) -> list[VariableRow]:
        return sorted(self._variables.values(), key=lambda row: row.key)

    def connections(self) -> list[Connection]:
        return sorted(self._connections.values(), key=lambda c: c.conn_id)

    def template_names(self) -> dict[str, object]:
        """`var` and `conn` for templates rendered on the coordinator (module docstring's order)."""
        return {"var": VariableAccessor(self._lookup_variable), "conn": ConnectionAccessor(self._lookup_connection)}

    def _lookup_variable(self, key: str) -> str | None:
        value = env_variable(key)
        if value is not None:
            mask_secret(value, key)
            return value
        row = self._variables.get(key)
        return row.value if row is not None else None

    def _lookup_connection(self, conn_id: str) -> Connection:
        found = env_connection(conn_id) or self._connections.get(conn_id) or default_connections().get(conn_id)
        if found is None:
            raise ConnectionNotFound(f"The conn_id `{conn_id}` isn't defined")
        return found

    # ---- writes (blocking: call on the metastore writer thread) -------------------------
    def set_variable(self, key: str, value: str, description: str = "") -> None:
        check_variable(key, value, description)
        if self.store is not None:
            self.store.set_variable(VariableRow(key, self._encrypt(value), description))
        with self._lock:
            self._variables[key] = VariableRow(key, value, description)
            self._rebuild()

    def delete_variable(self, key: str) -> bool:
        deleted = self.store.delete_variable(key) if self.store is not None else key in self._variables
        with self._lock:
            self._variables.pop(key, None)
            self._rebuild()
        return deleted

    def set_connection(self, connection: Connection) -> None:
        check_connection(connection)
        if self.store is not None:
            row = ConnectionRow(
                connection.conn_id,
                connection.conn_type,
                connection.host,
                connection.login,
                self._encrypt(connection.password),
                connection.schema,
                connection.port or 0,
                self._encrypt(connection.extra),
                connection.description,
            )
            self.store.set_connection(row)
        with self._lock:
            self._connections[connection.conn_id] = connection
            self._rebuild()

    def delete_connection(self, conn_id: str) -> bool:
        deleted = self.store.delete_connection(conn_id) if self.store is not None else conn_id in self._connections
        with self._lock:
            self._connections.pop(conn_id, None)
            self._rebuild()
        return deleted


def check_variable(key: str, value: str, description: str) -> None:
    """The rules of control.proto's Variable; InvalidArgument names the one broken."""
    if not key or len(key) > wire.MAX_VARIABLE_KEY_CHARS or "\x00" in key:
        raise InvalidArgument(
            f"variable key must be 1 to {wire.MAX_VARIABLE_KEY_CHARS} characters without NUL, not {key[:100]!r}"
        )
    if len(value.encode()) > wire.MAX_RETURN_VALUE_BYTES:
        raise InvalidArgument(f"variable {key!r}: its value is over {wire.MAX_RETURN_VALUE_BYTES // wire.MiB} MiB")
    if "\x00" in value or "\x00" in description or len(description) > wire.MAX_DESCRIPTION_CHARS:
        raise InvalidArgument(
            f"variable {key!r}: value and description may not contain NUL; "
            f"description at most {wire.MAX_DESCRIPTION_CHARS}"
        )


def check_connection(connection: Connection) -> None:
    """The rules of common.proto's Connection; InvalidArgument names the field broken."""
    conn_id = connection.conn_id
    if not wire.ID_PATTERN.fullmatch(conn_id):
        raise InvalidArgument(f"connection conn_id must be 1 to 250 letters, digits and _ . -, not {conn_id[:100]!r}")
    if not connection.conn_type:
        raise InvalidArgument(f"connection {conn_id!r}: conn_type is required (sqlite, postgres, generic, ...)")
    for name in ("conn_type", "host", "login", "password", "schema"):
        value = getattr(connection, name)
        if len(value) > wire.MAX_CONNECTION_FIELD_CHARS or "\x00" in value:
            raise InvalidArgument(
                f"connection {conn_id!r}: {name} must be at most {wire.MAX_CONNECTION_FIELD_CHARS} characters, no NUL"
            )
    if connection.port is not None and not 1 <= connection.port <= 65535:
        raise InvalidArgument(f"connection {conn_id!r}: port must be 1 to 65535, not {connection.port}")
    if (
        len(connection.extra) > wire.MAX_CONNECTION_EXTRA_CHARS
        or len(connection.description) > wire.MAX_DESCRIPTION_CHARS
    ):
        raise InvalidArgument(
            f"connection {conn_id!r}: extra is at most {wire.MAX_CONNECTION_EXTRA_CHARS} characters, "
            f"description at most {wire.MAX_DESCRIPTION_CHARS}"
        )
