"""Settings precedence: flags > environment > tradewind.toml > defaults, for every field."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from tradewind.config import Settings
from tradewind.exceptions import ConfigError

#: For each field: its value in tradewind.toml, in the environment and as a flag, then what each
#: of those three becomes. Two-valued fields alternate, so every layer changes the result.
CASES: dict[str, tuple[Any, str, Any, tuple[Any, Any, Any]]] = {
    "home": ("/toml/home", "/env/home", "/flag/home", (Path("/toml/home"), Path("/env/home"), Path("/flag/home"))),
    "dags_folder": ("t/dags", "e/dags", "f/dags", (Path("t/dags"), Path("e/dags"), Path("f/dags"))),
    "db": (
        "sqlite:///t.db",
        "postgresql://e@127.0.0.1/e",
        "sqlite:///f.db",
        ("sqlite:///t.db", "postgresql://e@127.0.0.1/e", "sqlite:///f.db"),
    ),
    "bind": ("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:0", ("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:0")),
    "host": (
        "127.0.0.1:1",
        "127.0.0.1:2,127.0.0.1:3",
        "127.0.0.1:4",
        ("127.0.0.1:1", "127.0.0.1:2,127.0.0.1:3", "127.0.0.1:4"),
    ),
    "executor": ("sequential", "parallel", "sequential", ("sequential", "parallel", "sequential")),
    "heartbeat_timeout": (11.5, "12.5", 13.5, (11.5, 12.5, 13.5)),
    "ack_timeout": (1, "2.5", 3.5, (1.0, 2.5, 3.5)),
    "parse_timeout": (4.0, "5", 6.0, (4.0, 5.0, 6.0)),
    "dag_callback_timeout": (4.0, "5", 6.0, (4.0, 5.0, 6.0)),
    "dag_scan_interval": (0.5, "0.25", 0.125, (0.5, 0.25, 0.125)),
    "parse_processes": (3, "4", 5, (3, 4, 5)),
    "default_pool_slots": (7, "8", 9, (7, 8, 9)),
    "standby": (True, "0", True, (True, False, True)),
    "worker_retention": (60, "120", 180.0, (60.0, 120.0, 180.0)),
    "max_map_length": (10, "20", 30, (10, 20, 30)),
    "worker_name": ("toml-worker", "env-worker", "flag-worker", ("toml-worker", "env-worker", "flag-worker")),
    "worker_queues": (["a", "b"], "c, d", "e", (("a", "b"), ("c", "d"), ("e",))),
    "worker_slots": (2, "3", 4, (2, 3, 4)),
    "token": ("tw_t", "tw_e", "tw_f", ("tw_t", "tw_e", "tw_f")),
    "token_file": ("t.token", "e.token", "f.token", ("t.token", "e.token", "f.token")),
    "tls_ca": ("t.pem", "e.pem", "f.pem", ("t.pem", "e.pem", "f.pem")),
    "tls_cert": ("t.pem", "e.pem", "f.pem", ("t.pem", "e.pem", "f.pem")),
    "tls_key": ("t.key", "e.key", "f.key", ("t.key", "e.key", "f.key")),
    "tls_client_ca": ("t.pem", "e.pem", "f.pem", ("t.pem", "e.pem", "f.pem")),
    "insecure": (True, "0", True, (True, False, True)),
    "admin_token_file": ("t.token", "e.token", "f.token", ("t.token", "e.token", "f.token")),
    "task_token": ("tw_t", "tw_e", "tw_f", ("tw_t", "tw_e", "tw_f")),
    "task_token_file": ("t.token", "e.token", "f.token", ("t.token", "e.token", "f.token")),
}


def toml_line(name: str, value: Any) -> str:
    """`name = value` as a user writes it, with the dashed spelling of the key."""
    text = ("true" if value else "false") if isinstance(value, bool) else json.dumps(value)
    return f"{name.replace('_', '-')} = {text}\n"


def test_every_setting_has_a_precedence_case() -> None:
    assert set(CASES) == {f.name for f in fields(Settings)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_layer_overrides_the_ones_below_it(name: str, tmp_path: Path) -> None:
    in_toml, in_env, as_flag, (from_toml, from_env, from_flag) = CASES[name]
    toml = tmp_path / "tradewind.toml"
    env = {f"TRADEWIND_{name.upper()}": in_env}

    assert getattr(Settings.load({}, {}, toml), name) == getattr(Settings(), name)
    toml.write_text(toml_line(name, in_toml))
    assert getattr(Settings.load({}, {}, toml), name) == from_toml
    assert getattr(Settings.load({}, env, toml), name) == from_env
    assert getattr(Settings.load({name: None}, env, toml), name) == from_env
    assert getattr(Settings.load({name: as_flag}, env, toml), name) == from_flag
    assert getattr(Settings.load({name: as_flag}, {}, toml), name) == from_flag
    assert getattr(Settings.load({name: as_flag}, {}, tmp_path / "absent.toml"), name) == from_flag


def test_the_config_variable_names_the_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.toml"
    other.write_text(toml_line("worker_slots", 6))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tradewind.toml").write_text(toml_line("worker_slots", 5))
    assert Settings.load({}, {}).worker_slots == 5
    assert Settings.load({}, {"TRADEWIND_CONFIG": str(other)}).worker_slots == 6


def test_errors_name_the_source_and_the_value(tmp_path: Path) -> None:
    toml = tmp_path / "tradewind.toml"
    toml.write_text("wroker-slots = 3\n")
    with pytest.raises(ConfigError, match=rf"{toml}: unknown setting 'wroker-slots'"):
        Settings.load({}, {}, toml)
    with pytest.raises(ConfigError, match=r"worker_slots: 'many' is not a valid int"):
        Settings.load({}, {"TRADEWIND_WORKER_SLOTS": "many"}, tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match=r"heartbeat_timeout must be positive, not 0\.0"):
        Settings.load({"heartbeat_timeout": 0}, {"TRADEWIND_HEARTBEAT_TIMEOUT": "5"}, tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match=r"max_map_length must be at least 1, not 0"):
        Settings.load({}, {"TRADEWIND_MAX_MAP_LENGTH": "0"}, tmp_path / "absent.toml")
