"""`coordinator certs create DIR`: a CA, a server certificate and client certificates, for people
without a PKI of their own.

Keys are ECDSA P-256. The CA signs everything else and is written beside them (`ca.pem`, and
`ca.key`, which should then be moved somewhere safe). Private keys are written readable by
their owner only. Existing files are never overwritten.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tradewind.exceptions import ConfigError

#: How long the certificates made here are valid.
VALID_DAYS = 825
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


#: A CA signs certificates and revocation lists, and nothing else.
_CA_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def default_hosts() -> list[str]:
    """Names a server certificate covers when none are given: loopback and this machine's name."""
    return sorted({"localhost", "127.0.0.1", "::1", socket.gethostname(), socket.getfqdn()})


def create(folder: Path, hosts: Sequence[str], clients: Sequence[str], now: datetime | None = None) -> list[Path]:
    """Write ca.pem/ca.key, server.pem/server.key for `hosts`, and <name>.pem/<name>.key per client.

    Returns the files written. Refuses (ConfigError) before writing anything when one exists.
    """
    now = now or datetime.now(UTC)
    for name in clients:
        if not _NAME.fullmatch(name) or name in ("ca", "server"):
            raise ConfigError(f"client name must be 1 to 64 letters, digits, _ . - (not ca or server): {name!r}")
    if not hosts:
        raise ConfigError("a server certificate needs at least one host name")
    names = ["ca", "server", *clients]
    files = [folder / f"{n}.{ext}" for n in names for ext in ("pem", "key")]
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise ConfigError(f"{', '.join(existing)} already exist; choose an empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tradewind CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _write(folder, "ca", ca, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        _builder(_subject(hosts[0]), ca_name, server_key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(folder, "server", server, server_key)
    for name in clients:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            _builder(_subject(name), ca_name, key.public_key(), now)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write(folder, name, cert, key)
    return files


def _subject(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write(folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = folder / f"{name}.key"
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
