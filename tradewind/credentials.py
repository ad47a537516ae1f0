"""Client-side credentials: the bearer token and TLS files, and the one place channels are made.

The CLI, the monitor, tasks that call the coordinator and the worker agent all open their
channels through `sync_channel` or `aio_channel`, and send `metadata()` with every call
(`authorization: Bearer <token>`, the rule in control.proto and worker.proto).
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from tradewind.config import Settings, parse_address
from tradewind.exceptions import ConfigError

_UNTRUSTED = "untrusted certificate: "
#: The HTTP/2 connection preface: what a gRPC client sends first, used to see a TLS server's verdict.
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@dataclass(frozen=True)
class Credentials:
    """What a client presents: a token (may be empty), and PEM bytes for TLS (none: plaintext)."""

    token: str = field(default="", repr=False)
    ca: bytes | None = None
    cert: bytes | None = None
    key: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Credentials:
        """Read the token (`token`, else `token_file`) and the TLS files named in `settings`."""
        token = settings.token.strip()
        if not token and settings.token_file:
            token = _read(settings.token_file, "token file").decode(errors="replace").strip()
            if not token:
                raise ConfigError(f"token file {settings.token_file} is empty")
        if bool(settings.tls_cert) != bool(settings.tls_key):
            raise ConfigError("--tls-cert and --tls-key go together: give both or neither")
        if settings.tls_cert and not settings.tls_ca:
            raise ConfigError("a client certificate (--tls-cert) needs the coordinator's CA too (--tls-ca)")
        return cls(
            token=token,
            ca=_read(settings.tls_ca, "CA file") if settings.tls_ca else None,
            cert=_read(settings.tls_cert, "certificate file") if settings.tls_cert else None,
            key=_read(settings.tls_key, "key file") if settings.tls_key else None,
        )

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The call metadata carrying the token; empty without one."""
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    def _tls(self) -> grpc.ChannelCredentials | None:
        if self.ca is None:
            return None
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert
        )


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def write_secret(path: Path, secret: str) -> None:
    """Write a token to a new file readable by its owner only (never over an existing file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists already; choose a new file for the token") from None
    with os.fdopen(descriptor, "w") as out:
        out.write(secret + "\n")


def sync_channel(address: str, credentials: Credentials, options: Sequence[tuple[str, Any]]) -> grpc.Channel:
    tls = credentials._tls()
    if tls is None:
        return grpc.insecure_channel(address, options=list(options))
    return grpc.secure_channel(address, tls, options=list(options))


def aio_channel(address: str, credentials: Credentials, options: Sequence[tuple[str, Any]]) -> grpc.aio.Channel:
    tls = credentials._tls()
    if tls is None:
        return grpc.aio.insecure_channel(address, options=list(options))
    return grpc.aio.secure_channel(address, tls, options=list(options))


def diagnose(address: str, credentials: Credentials, timeout: float = 2.0) -> str:
    """Why a coordinator that accepts TCP connections does not take ours, in one line ("" if it does not).

    gRPC reports every TLS mismatch as "unavailable"; this probe with Python's ssl module
    tells which: the server uses TLS and no CA was given, or the reverse, or its certificate is
    not signed by the CA given, or it requires a client certificate.
    """
    try:
        host, port = parse_address(address)
        raw = socket.create_connection((host, port), timeout=timeout)
    except (OSError, ConfigError):
        return ""
    with raw:
        speaks_tls = _handshake(raw, host, ssl._create_unverified_context(), answer=False) is None  # noqa: S323
    if not speaks_tls:
        if credentials.ca is not None:
            return f"the coordinator at {address} does not use TLS, but a CA (--tls-ca) was given"
        return ""
    if credentials.ca is None:
        return f"the coordinator at {address} uses TLS: give the CA that signed its certificate with --tls-ca"
    context = ssl.create_default_context(cadata=credentials.ca.decode(errors="replace"))
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return ""
    with raw:
        failure = _handshake(raw, host, context, answer=credentials.cert is None)
    if failure is not None and failure.startswith(_UNTRUSTED):
        reason = failure[len(_UNTRUSTED) :]
        return f"the coordinator at {address} presented a certificate the CA given does not accept: {reason}"
    if credentials.cert is not None:
        return f"the coordinator at {address} refused the TLS connection: is the client certificate signed by its CA?"
    if failure is not None:
        return f"the coordinator at {address} requires a client certificate: give --tls-cert and --tls-key"
    return ""


def _handshake(raw: socket.socket, host: str, context: ssl.SSLContext, answer: bool) -> str | None:
    """None when a TLS handshake (and, with `answer`, the server's first reply) succeeds, else why not."""
    context.set_alpn_protocols(["h2"])
    try:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            if answer:
                tls.sendall(_PREFACE)
                if not tls.recv(1):  # a gRPC server answers the preface; this one hung up
                    return "the connection was closed"
    except ssl.SSLCertVerificationError as exc:
        return _UNTRUSTED + (exc.verify_message or str(exc))
    except (ssl.SSLError, OSError) as exc:
        return str(exc)
    return None

