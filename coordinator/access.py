"""How a coordinator may be reached: TLS, whether tokens are required, and the first admin token.

The rule, checked at start: a coordinator bound to an address that is not loopback requires
tokens on every call, and refuses to start without TLS (`--tls-cert`, `--tls-key`) unless
`--insecure` is given. On loopback, tokens are required once any token has been made.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path

import grpc

from coordinator import tokens
from coordinator.metastore.security_store import SecurityStore
from tradewind.config import Settings, parse_address
from tradewind.credentials import write_secret
from tradewind.exceptions import AlreadyExists, ConfigError

#: The name of the token `--admin-token-file` makes when its file does not exist yet.
ADMIN_TOKEN_NAME = "admin"


def is_loopback(bind: str) -> bool:
    """Whether HOST of HOST:PORT can only be reached from this machine."""
    host = parse_address(bind, "bind")[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse, in one line, to listen beyond loopback in plaintext unless asked to with --insecure."""
    if is_loopback(settings.bind) or settings.tls_cert or settings.insecure:
        return
    raise ConfigError(
        f"{settings.bind} is reachable from other machines, and without TLS its tokens would cross the network "
        "in clear: give --tls-cert and --tls-key (see `coordinator certs create`), or --insecure"
    )


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials from --tls-cert/--tls-key; with --tls-client-ca, clients must present a certificate."""
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise ConfigError("--tls-cert and --tls-key go together: give both or neither")
    if not settings.tls_cert:
        if settings.tls_client_ca:
            raise ConfigError("--tls-client-ca needs --tls-cert and --tls-key too")
        return None
    cert, key = _read(settings.tls_cert, "--tls-cert"), _read(settings.tls_key, "--tls-key")
    client_ca = _read(settings.tls_client_ca, "--tls-client-ca") if settings.tls_client_ca else None
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca, require_client_auth=bool(client_ca))


def _read(path: str, flag: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot read it: {exc.strerror or exc}") from None


def admin_token_file(path: Path, store: SecurityStore, now: datetime) -> str:
    """Make sure `path` holds a valid admin token of this metastore; returns what was done, for the log.

    A missing file gets a new admin token named "admin", written readable by its owner only;
    an existing one must hold a valid admin token, or the coordinator does not start.
    """
    if path.exists():
        try:
            secret = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"--admin-token-file {path}: cannot read it: {exc.strerror or exc}") from None
        token = store.token_by_digest(tokens.digest(secret)) if secret else None
        if token is None or token.role != "admin":
            raise ConfigError(f"--admin-token-file {path} does not hold an admin token of this metastore")
        why = token.why_invalid(now)
        if why:
            raise ConfigError(f"--admin-token-file {path}: {why}")
        return f"admin token {token.name!r} from {path}"
    secret, token = tokens.make(ADMIN_TOKEN_NAME, "admin", now)
    try:
        store.add_token(token, now)
    except AlreadyExists:
        raise ConfigError(
            f"--admin-token-file {path} does not exist, but a token named {ADMIN_TOKEN_NAME!r} does: put its "
            f"secret in that file, or revoke it (`coordinator tokens revoke {ADMIN_TOKEN_NAME}`)"
        ) from None
    write_secret(path, secret)
    return f"wrote a new admin token named {ADMIN_TOKEN_NAME!r} to {path}"
