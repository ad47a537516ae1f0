"""Settings: built once from flags > environment (TRADEWIND_*) > tradewind.toml > defaults.

Nothing else in Tradewind reads the environment for configuration: every component gets the
`Settings` it needs passed down.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from tradewind.exceptions import ConfigError

DEFAULT_PORT = 50051
DEFAULT_HOST = f"127.0.0.1:{DEFAULT_PORT}"


@dataclass(frozen=True)
class Settings:
    """Every setting, with its default. Durations are seconds."""

    #: Where the SQLite metastore, logs and worker caches live.
    home: Path = Path(".tradewind")
    #: The DAG folder the coordinator scans.
    dags_folder: Path = Path("dags")
    #: Metastore URL: sqlite:///path or postgresql://user@host/db. Empty means <home>/tradewind.db.
    db: str = ""
    #: Address the coordinator listens on; port 0 picks a free port.
    bind: str = DEFAULT_HOST
    #: Address of the coordinator, for workers and clients.
    host: str = DEFAULT_HOST
    #: "parallel", or "sequential" to run one task instance at a time.
    executor: str = "parallel"
    #: A worker silent this long is lost.
    heartbeat_timeout: float = 10.0
    #: An assignment not acknowledged this long goes back to the queue.
    ack_timeout: float = 5.0
    #: How long one DAG file may take to import.
    parse_timeout: float = 30.0
    #: How long a DAG run callback (on_success_callback, on_failure_callback) may take.
    dag_callback_timeout: float = 60.0
    #: How often the DAG folder is checked for changed files.
    dag_scan_interval: float = 2.0
    #: Parallel DAG file parses.
    parse_processes: int = 2
    #: Slots of the default pool.
    default_pool_slots: int = 128
    #: Coordinator: wait as a hot standby while another coordinator owns the metastore, then take over.
    standby: bool = False
    #: A worker gone longer than this is forgotten (its attempts' history stays).
    worker_retention: float = 3600.0
    #: The most task instances one mapped task may expand to in a run (Airflow's max_map_length).
    max_map_length: int = 1024
    #: Worker: name, queues and slots.
    worker_name: str = ""
    worker_queues: tuple[str, ...] = ("default",)
    worker_slots: int = 16
    #: Client and worker: the bearer token sent on every call (never printed), or a file holding it.
    token: str = field(default="", repr=False)
    token_file: str = ""
    #: Client and worker: the CA that signed the coordinator's certificate (PEM); set, the channel uses TLS.
    tls_ca: str = ""
    #: Coordinator: its certificate and key (PEM). Client and worker: a client certificate for mutual TLS.
    tls_cert: str = ""
    tls_key: str = ""
    #: Coordinator: the CA whose client certificates it requires (mutual TLS).
    tls_client_ca: str = ""
    #: Coordinator: listen on a non-loopback address without TLS.
    insecure: bool = False
    #: Worker: the token its tasks call the coordinator with (TriggerDagRunOperator), or a file holding it.
    task_token: str = field(default="", repr=False)
    task_token_file: str = ""
    #: Coordinator: a file holding an admin token; created with a new token when missing.
    admin_token_file: str = ""

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{self.home / 'tradewind.db'}"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def hosts(self) -> tuple[str, ...]:
        """The coordinator addresses in `host`, which may name several (a standby) separated by commas."""
        return tuple(part.strip() for part in self.host.split(",") if part.strip())

    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        toml_path: Path | None = None,
    ) -> Settings:
        """Merge the layers. `flags` holds only the flags given (None values are ignored)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        path = toml_path or Path(environ.get("TRADEWIND_CONFIG", "tradewind.toml"))
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{path}: {exc}") from exc
            for key, value in data.items():
                values[_field_name(key, f"{path}")] = value
        names = {f.name for f in fields(cls)}
        for name in names:
            env_key = f"TRADEWIND_{name.upper()}"
            if env_key in environ:
                values[name] = environ[env_key]
        for key, value in (flags or {}).items():
            if value is not None:
                values[_field_name(key, "flag")] = value
        return cls()._with(values)

    def _with(self, values: Mapping[str, Any]) -> Settings:
        converted = {name: _convert(name, value) for name, value in values.items()}
        settings = replace(self, **converted)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.executor not in ("parallel", "sequential"):
            raise ConfigError(f"executor must be 'parallel' or 'sequential', not {self.executor!r}")
        for name in (
            "heartbeat_timeout",
            "ack_timeout",
            "parse_timeout",
            "dag_callback_timeout",
            "dag_scan_interval",
            "worker_retention",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, not {getattr(self, name)!r}")
        if self.worker_slots < 1:
            raise ConfigError(f"worker slots must be at least 1, not {self.worker_slots}")
        if self.max_map_length < 1:
            raise ConfigError(f"max_map_length must be at least 1, not {self.max_map_length}")
        if self.parse_processes < 1:
            raise ConfigError(f"parse_processes must be at least 1, not {self.parse_processes}")
        if not self.worker_queues or any(not q for q in self.worker_queues):
            raise ConfigError(f"worker queues must be non-empty names, not {','.join(self.worker_queues)!r}")
        if self.db and not self.db.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ConfigError(f"db must be a sqlite:/// or postgresql:// URL, not {self.db!r}")
        parse_address(self.bind, "bind")
        if not self.hosts:
            raise ConfigError("host must name at least one HOST:PORT")
        for host in self.hosts:
            parse_address(host, "host")


def _field_name(key: str, source: str) -> str:
    name = key.replace("-", "_")
    if name not in {f.name for f in fields(Settings)}:
        raise ConfigError(f"{source}: unknown setting {key!r}")
    return name


_TYPES = {f.name: f.type for f in fields(Settings)}


def _convert(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    try:
        if kind == "Path":
            return Path(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return _boolean(value)
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind == "tuple[str, ...]":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: {value!r} is not a valid {kind}") from exc


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


def parse_address(address: str, what: str = "address") -> tuple[str, int]:
    """Split HOST:PORT (IPv6 as [::1]:PORT); raise ConfigError naming `what` when malformed."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(f"{what} must be HOST:PORT, not {address!r}")
    return host.strip("[]"), int(port_text)


#: The flags every client takes (the CLI, workers, triggerers), read by Settings.
CREDENTIAL_FLAGS = (
    ("--token", "the bearer token (default TRADEWIND_TOKEN); prefer --token-file, which `ps` does not show"),
    ("--token-file", "a file holding the token (default TRADEWIND_TOKEN_FILE)"),
    ("--tls-ca", "the CA that signed the coordinator's certificate: connect with TLS (default TRADEWIND_TLS_CA)"),
    ("--tls-cert", "a client certificate, for a coordinator that requires one (with --tls-key)"),
    ("--tls-key", "the private key of --tls-cert"),
)


def add_credential_flags(parser: argparse.ArgumentParser) -> None:
    """Add CREDENTIAL_FLAGS; a flag not given is absent from the parsed arguments."""
    for flag, text in CREDENTIAL_FLAGS:
        parser.add_argument(flag, default=argparse.SUPPRESS, metavar=flag.rsplit("-", 1)[-1].upper(), help=text)
