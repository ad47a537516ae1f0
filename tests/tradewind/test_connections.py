"""Connections, variables and secret masking in the SDK (tradewind/connections.py, variables.py, secrets_masker.py)."""

from __future__ import annotations

import io
import os
import tempfile

import pytest

from tradewind.connections import Connection, env_connection
from tradewind.exceptions import ConnectionNotFound, TradewindError
from tradewind.secrets_masker import MaskingStream, Redactor, is_sensitive
from tradewind.templates import render
from tradewind.variables import ConnectionAccessor, Variable, VariableAccessor


def test_a_uri_gives_every_field_and_reads_back_from_its_own_uri() -> None:
    connection = Connection.parse("pg", "postgresql://me:p%40ss%2Fw@db.example:6432/sales?sslmode=require")
    assert (connection.conn_type, connection.host, connection.port, connection.schema) == (
        "postgresql",
        "db.example",
        6432,
        "sales",
    )
    assert (connection.login, connection.password) == ("me", "p@ss/w")
    assert connection.extra_dejson == {"sslmode": "require"}
    again = Connection.parse("pg", connection.get_uri())
    assert again.to_dict() == connection.to_dict()


def test_the_json_form_and_an_extra_that_is_not_flat_survive_a_uri_round_trip() -> None:
    connection = Connection.parse("j", '{"conn_type": "postgres", "host": "h", "extra": {"options": {"a": 1}}}')
    assert connection.extra_dejson == {"options": {"a": 1}}
    assert Connection.parse("j", connection.get_uri()).extra_dejson == {"options": {"a": 1}}


def test_a_json_form_with_an_unknown_field_is_refused_naming_it() -> None:
    with pytest.raises(TradewindError, match="unknown field.*hostname"):
        Connection.parse("j", '{"conn_type": "postgres", "hostname": "h"}')


def test_a_sqlite_uri_with_an_absolute_path_names_the_file() -> None:
    connection = Connection.parse("lite", "sqlite:////tmp/data/x.db")
    assert connection.conn_type == "sqlite"
    assert connection.host or connection.schema == "/tmp/data/x.db"


def test_tradewind_environment_variables_come_before_airflow_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MY_DB", "postgres://airflow-host/db")
    assert env_connection("my_db").host == "airflow-host"
    monkeypatch.setenv("TRADEWIND_CONN_MY_DB", "postgres://tradewind-host/db")
    assert Connection.get_connection_from_secrets("my_db").host == "tradewind-host"


def test_sqlite_default_is_a_file_in_the_temp_folder_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRADEWIND_CONN_SQLITE_DEFAULT", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SQLITE_DEFAULT", raising=False)
    default = Connection.get_connection_from_secrets("sqlite_default")
    assert default.host == os.path.join(tempfile.gettempdir(), "sqlite_default.db")


def test_an_unknown_conn_id_outside_a_task_is_not_found_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADEWIND_TASK_CHANNEL", raising=False)
    with pytest.raises(
        ConnectionNotFound, match="`nowhere` isn't defined .outside a running task only the environment"
    ):
        Connection.get_connection_from_secrets("nowhere")


def test_variable_get_reads_the_environment_parses_json_and_falls_back_to_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_COLOUR", "blue")
    monkeypatch.setenv("TRADEWIND_VAR_LIMITS", '{"max": 3}')
    monkeypatch.delenv("TRADEWIND_TASK_CHANNEL", raising=False)
    assert Variable.get("colour") == "blue"
    assert Variable.get("limits", deserialize_json=True) == {"max": 3}
    with pytest.raises(TradewindError, match="only inside a running task"):
        Variable.get("missing", default_var="fallback")


def test_templates_read_var_value_var_json_and_conn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_VAR_REGION", "eu")
    monkeypatch.setenv("TRADEWIND_VAR_CONFIG", '{"bucket": "b1"}')
    monkeypatch.setenv("TRADEWIND_CONN_WAREHOUSE", "postgres://u:pw@wh.example:5432/dw")
    context = {"var": VariableAccessor(), "conn": ConnectionAccessor()}
    text = "{{ var.value.region }} {{ var.json.config.bucket }} {{ conn.warehouse.host }} {{ conn.warehouse.port }}"
    assert render(text, context) == "eu b1 wh.example 5432"
    assert render("{{ var.value.get('absent', 'x') }}", {"var": VariableAccessor(lambda key: None)}) == "x"


@pytest.mark.parametrize("name", ["password", "DB_PASSWORD", "api_key", "github_token", "my_secret", "private_key"])
def test_airflows_sensitive_names_are_sensitive(name: str) -> None:
    assert is_sensitive(name)


def test_masking_hides_registered_secrets_even_when_written_in_pieces() -> None:
    redactor = Redactor()
    redactor.add("hunter2!")
    redactor.add("not-secret", "region")
    redactor.add({"api_key": "k-123456", "nested": {"token": "t-999"}, "plain": "visible"}, "extra")
    out = io.StringIO()
    stream = MaskingStream(out, redactor)
    stream.write("password is hun")
    stream.write("ter2! and key k-123456 token t-999 plain visible not-secret\n")
    stream.flush()
    assert out.getvalue() == "password is *** and key *** token *** plain visible not-secret\n"
