"""Client credentials: where the token comes from, which TLS files go together, and what is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.config import Settings
from tradewind.credentials import Credentials, write_secret
from tradewind.exceptions import ConfigError


def test_the_token_comes_from_the_setting_else_from_the_token_file(tmp_path: Path) -> None:
    path = tmp_path / "t"
    path.write_text("tw_from_file\n")
    assert Credentials.from_settings(Settings(token_file=str(path))).metadata() == (
        ("authorization", "Bearer tw_from_file"),
    )
    assert Credentials.from_settings(Settings(token="tw_flag", token_file=str(path))).token == "tw_flag"
    assert Credentials.from_settings(Settings()).metadata() == ()


def test_a_missing_or_empty_token_file_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"cannot read token file {tmp_path / 'nope'}"):
        Credentials.from_settings(Settings(token_file=str(tmp_path / "nope")))
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="token file .*empty is empty"):
        Credentials.from_settings(Settings(token_file=str(tmp_path / "empty")))


def test_a_client_certificate_needs_its_key_and_the_ca() -> None:
    with pytest.raises(ConfigError, match="--tls-cert and --tls-key go together"):
        Credentials.from_settings(Settings(tls_ca="ca.pem", tls_cert="c.pem"))
    with pytest.raises(ConfigError, match="needs the coordinator's CA too"):
        Credentials.from_settings(Settings(tls_cert="c.pem", tls_key="k.pem"))


def test_a_token_is_never_in_the_repr_of_settings_or_credentials() -> None:
    assert "tw_secret" not in repr(Settings(token="tw_secret"))
    assert "tw_secret" not in repr(Credentials(token="tw_secret"))


def test_a_token_file_is_written_for_its_owner_only_and_never_over_another(tmp_path: Path) -> None:
    path = tmp_path / "t"
    write_secret(path, "tw_x")
    assert path.stat().st_mode & 0o777 == 0o600 and path.read_text() == "tw_x\n"
    with pytest.raises(ConfigError, match="exists already"):
        write_secret(path, "tw_y")
