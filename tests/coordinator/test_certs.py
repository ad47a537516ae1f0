"""`coordinator certs create`: a CA that signs a server certificate for the given names and client certificates."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509

from coordinator.certs import create
from tradewind.exceptions import ConfigError


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_ca_signs_a_server_certificate_for_every_name_and_each_client(tmp_path: Path) -> None:
    files = create(tmp_path / "certs", ["coord.example.com", "10.0.0.5"], ["alice"])
    names = sorted(p.name for p in files)
    assert names == ["alice.key", "alice.pem", "ca.key", "ca.pem", "server.key", "server.pem"]
    ca, server, alice = (load(tmp_path / "certs" / f"{n}.pem") for n in ("ca", "server", "alice"))
    server.verify_directly_issued_by(ca)
    alice.verify_directly_issued_by(ca)
    names_covered = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names_covered.get_values_for_type(x509.DNSName) == ["coord.example.com"]
    assert names_covered.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.5")]
    for key in ("ca.key", "server.key", "alice.key"):
        assert stat.S_IMODE((tmp_path / "certs" / key).stat().st_mode) == 0o600


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    create(tmp_path, ["localhost"], [])
    before = (tmp_path / "ca.pem").read_bytes()
    with pytest.raises(ConfigError, match="ca.pem.*already exist"):
        create(tmp_path, ["localhost"], [])
    assert (tmp_path / "ca.pem").read_bytes() == before


def test_a_client_name_that_is_not_a_file_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="client name"):
        create(tmp_path, ["localhost"], ["../evil"])
    assert list(tmp_path.iterdir()) == []
