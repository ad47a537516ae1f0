"""When tokens and TLS are required, and the admin token file."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator import tokens
from coordinator.access import admin_token_file, check_exposure, is_loopback
from coordinator.clock import FakeClock
from coordinator.metastore.db import connect
from coordinator.metastore.security_store import SecurityStore
from tradewind.config import Settings
from tradewind.exceptions import ConfigError


@pytest.mark.parametrize(
    ("bind", "loopback"),
    [("127.0.0.1:1", True), ("localhost:1", True), ("[::1]:1", True), ("0.0.0.0:1", False), ("10.1.2.3:1", False)],
)
def test_only_loopback_addresses_count_as_loopback(bind: str, loopback: bool) -> None:
    assert is_loopback(bind) is loopback


def test_a_coordinator_reachable_from_other_machines_needs_tls_or_insecure() -> None:
    with pytest.raises(ConfigError, match=r"0.0.0.0:50051 is reachable from other machines.*--tls-cert.*--insecure"):
        check_exposure(Settings(bind="0.0.0.0:50051"))
    check_exposure(Settings(bind="0.0.0.0:50051", insecure=True))
    check_exposure(Settings(bind="0.0.0.0:50051", tls_cert="c.pem", tls_key="k.pem"))
    check_exposure(Settings(bind="127.0.0.1:50051"))


@pytest.fixture
def security(tmp_path: Path) -> Iterator[SecurityStore]:
    db = connect(f"sqlite:///{tmp_path / 'meta.db'}")
    yield SecurityStore()
    db.close()


def test_a_missing_admin_token_file_gets_a_new_admin_token_readable_by_its_owner(
    tmp_path: Path, security: SecurityStore
) -> None:
    path, now = tmp_path / "admin.token", FakeClock().now()
    assert "wrote a new admin token" in admin_token_file(path, security, now)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = security.token_by_digest(tokens.digest(path.read_text().strip()))
    assert token is not None and token.role == "admin"
    assert "admin token 'admin' from" in admin_token_file(path, security, now)


def test_an_admin_token_file_holding_anything_but_a_valid_admin_token_stops_the_start(
    tmp_path: Path, security: SecurityStore
) -> None:
    now = FakeClock().now()
    path = tmp_path / "viewer.token"
    secret, token = tokens.make("v", "viewer", now)
    security.add_token(token, now)
    path.write_text(secret)
    with pytest.raises(ConfigError, match="does not hold an admin token of this metastore"):
        admin_token_file(path, security, now)


def test_standalone_with_tls_needs_the_ca_its_workers_trust_and_no_client_ca() -> None:
    import asyncio

    from coordinator.app import serve

    with pytest.raises(ConfigError, match="standalone with --tls-cert needs --tls-ca"):
        asyncio.run(serve(Settings(tls_cert="c.pem", tls_key="k.pem"), workers=1))
    with pytest.raises(ConfigError, match="does not support --tls-client-ca yet"):
        mutual = Settings(tls_cert="c.pem", tls_key="k.pem", tls_ca="ca.pem", tls_client_ca="ca.pem")
        asyncio.run(serve(mutual, workers=1))
