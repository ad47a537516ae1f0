"""Variables and connections on the coordinator: encrypted at rest, answered to tasks, listed
without secrets (coordinator/secrets.py, secrets_service.py, the runtime channel's requests 5-7)."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from coordinator.control_service import ControlService
from coordinator.metastore import models as m
from coordinator.metastore.db import connect
from coordinator.metastore.secret_store import SecretStore
from coordinator.secrets import KEY_ENV, Secrets, load_key
from tests.coordinator.conftest import Harness, dag
from tests.coordinator.test_payloads import bash
from tests.coordinator.test_task_requests import ask, code, started
from tests.coordinator.test_worker_service import coordinator, joined, run
from tests.pg import fresh_database
from tradewind import wire
from tradewind.connections import Connection
from tradewind.exceptions import ConfigError, FailedPrecondition, InvalidArgument, NotFound
from tradewind.v1 import common_pb2, control_pb2, worker_pb2

PASSWORD = "pa55-w0rd-xyz"


def secrets_on(url: str, key: bytes) -> Secrets:
    secrets = Secrets(SecretStore(connect(url)), key)
    secrets.load()
    return secrets


@pytest.fixture(params=["sqlite", "postgresql"])
def metastore_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
    else:
        with fresh_database() as url:
            yield url


def test_values_and_passwords_are_ciphertext_in_the_metastore_and_come_back_after_a_restart(metastore_url: str) -> None:
    key = Fernet.generate_key()
    secrets = secrets_on(metastore_url, key)
    secrets.set_variable("api_key", "k-0123456789", "the API key")
    secrets.set_connection(
        Connection(conn_id="wh", conn_type="postgres", host="h", password=PASSWORD, extra={"token": "t-42abc"})
    )
    stored = m.Connection.get(m.Connection.conn_id == "wh")
    assert PASSWORD not in stored.password and "t-42abc" not in stored.extra
    assert "k-0123456789" not in m.Variable.get(m.Variable.key == "api_key").value
    again = secrets_on(metastore_url, key)
    assert again.variable("api_key") is not None and again.variable("api_key").value == "k-0123456789"
    found = again.connection("wh")
    assert found is not None and found.password == PASSWORD and found.extra_dejson == {"token": "t-42abc"}
    assert again.redact(f"x {PASSWORD} t-42abc k-0123456789 h") == "x *** *** *** h"
    with pytest.raises(ConfigError, match="variable 'api_key' in the metastore cannot be decrypted"):
        secrets_on(metastore_url, Fernet.generate_key())


def test_the_key_file_is_created_once_with_mode_0600_unless_the_environment_gives_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    key = load_key(tmp_path / "home")
    path = tmp_path / "home" / "secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_key(tmp_path / "home") == key
    monkeypatch.setenv(KEY_ENV, "not a key")
    with pytest.raises(ConfigError, match=f"{KEY_ENV}: the secret key must be"):
        load_key(tmp_path / "home")


def test_bad_connections_and_variables_are_refused_naming_the_field() -> None:
    secrets = Secrets()
    with pytest.raises(InvalidArgument, match="conn_id must be"):
        secrets.set_connection(Connection(conn_id="a b", conn_type="postgres"))
    with pytest.raises(InvalidArgument, match="'x': conn_type is required"):
        secrets.set_connection(Connection(conn_id="x"))
    with pytest.raises(InvalidArgument, match="port must be 1 to 65535"):
        secrets.set_connection(Connection(conn_id="x", conn_type="postgres", port=70000))
    with pytest.raises(InvalidArgument, match="variable key must be"):
        secrets.set_variable("", "v")


def test_bash_templates_read_var_and_conn_from_memory_and_the_rendered_command_is_masked(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRADEWIND_CONN_WH", raising=False)
    secrets = harness.scheduler.secrets
    secrets.set_variable("region", "eu-west")
    secrets.set_connection(Connection(conn_id="wh", conn_type="postgres", host="wh.example", password=PASSWORD))
    command = "psql -h {{ conn.wh.host }} -p {{ conn.wh.password }} --region {{ var.value.region }}"
    harness.add_dag(dag("d", [bash("a", command)]))
    harness.worker()
    harness.scheduler.trigger("d", {}, "r", None, False)
    [assign] = [e for e in harness.turn() if type(e).__name__ == "Assign"]
    assert assign.payload.fields["bash_command"] == f"psql -h wh.example -p {PASSWORD} --region eu-west"
    assert assign.payload.rendered == "psql -h wh.example -p *** --region eu-west"


def test_a_template_naming_an_unknown_connection_fails_the_try_naming_it(harness: Harness) -> None:
    harness.add_dag(dag("d", [bash("a", "echo {{ conn.nowhere.host }}")]))
    harness.worker()
    harness.scheduler.trigger("d", {}, "r", None, False)
    logs = [e.text for e in harness.turn() if type(e).__name__ == "WriteLog"]
    assert any("The conn_id `nowhere` isn't defined" in text for text in logs), logs


def test_a_running_task_reads_variables_and_connections_and_sets_a_variable(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            engine.secrets.store = SecretStore(engine.store.db)
            await engine.write_secrets(engine.secrets.set_variable, "colour", "blue", "")
            connection = Connection(conn_id="wh", conn_type="postgres", host="h", password=PASSWORD)
            await engine.write_secrets(engine.secrets.set_connection, connection)
            stream, _ = await joined(service)
            attempt = await started(engine, stream)
            answer = await ask(stream, 1, attempt, get_variable=worker_pb2.GetVariable(key="colour"))
            assert (answer.get_variable.found, answer.get_variable.value) == (True, "blue")
            missing = await ask(stream, 2, attempt, get_variable=worker_pb2.GetVariable(key="nope"))
            assert missing.WhichOneof("result") == "get_variable" and not missing.get_variable.found
            got = await ask(stream, 3, attempt, get_connection=worker_pb2.GetConnection(conn_id="wh"))
            assert (got.get_connection.found, got.get_connection.connection.password) == (True, PASSWORD)
            setting = worker_pb2.SetVariable(key="seen", value="value set by a task", description="set by a task")
            assert (await ask(stream, 4, attempt, set_variable=setting)).WhichOneof("result") == "set_variable"
            row = m.Variable.get(m.Variable.key == "seen")
            assert row.description == "set by a task" and "value set by a task" not in row.value
            bad = await ask(stream, 5, attempt, get_connection=worker_pb2.GetConnection(conn_id="a b"))
            assert code(bad) is wire.RequestError.INVALID_ARGUMENT
            stale = common_pb2.Attempt()
            stale.CopyFrom(attempt)
            stale.attempt_token = "0" * 32
            refused = await ask(stream, 6, stale, get_connection=worker_pb2.GetConnection(conn_id="wh"))
            assert code(refused) is wire.RequestError.NOT_CURRENT

    run(scenario)


def test_control_service_lists_without_secrets_and_reveals_only_on_request(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, _):
            engine.secrets.store = SecretStore(engine.store.db)
            service = ControlService(engine)
            given = common_pb2.Connection(
                conn_id="wh", conn_type="postgres", host="h", password=PASSWORD, extra='{"a": "b"}'
            )
            await service.SetConnection(control_pb2.SetConnectionRequest(connection=given), None)
            await service.SetVariable(
                control_pb2.SetVariableRequest(variable=control_pb2.Variable(key="db_password", value=PASSWORD)), None
            )
            await service.SetVariable(
                control_pb2.SetVariableRequest(variable=control_pb2.Variable(key="colour", value="red")), None
            )
            listed = await service.ListConnections(control_pb2.ListConnectionsRequest(), None)
            assert [(c.conn_id, c.password, c.extra) for c in listed.connections] == [("wh", "***", "***")]
            hidden = await service.GetConnection(control_pb2.GetConnectionRequest(conn_id="wh"), None)
            assert hidden.connection.password == "***"
            shown = await service.GetConnection(control_pb2.GetConnectionRequest(conn_id="wh", reveal=True), None)
            assert shown.connection.password == PASSWORD
            variables = await service.ListVariables(control_pb2.ListVariablesRequest(), None)
            assert [(v.key, v.value) for v in variables.variables] == [("colour", "red"), ("db_password", "***")]
            await service.DeleteVariable(control_pb2.DeleteVariableRequest(key="colour"), None)
            with pytest.raises(NotFound, match="variable 'colour' not found"):
                await service.GetVariable(control_pb2.GetVariableRequest(key="colour"), None)
            with pytest.raises(NotFound, match="connection 'gone' not found"):
                await service.DeleteConnection(control_pb2.DeleteConnectionRequest(conn_id="gone"), None)
            bad = common_pb2.Connection(conn_id="x", conn_type="postgres", extra="[1]")
            with pytest.raises(InvalidArgument, match="extra must be a JSON object"):
                await service.SetConnection(control_pb2.SetConnectionRequest(connection=bad), None)

    run(scenario)


def test_test_connection_is_run_by_a_worker_and_its_answer_masked(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, worker_service):
            service = ControlService(engine)
            given = common_pb2.Connection(conn_id="wh", conn_type="postgres", host="h", password=PASSWORD)
            request = control_pb2.TestConnectionRequest(connection=given)
            with pytest.raises(FailedPrecondition, match="no worker is connected to test connection 'wh' from"):
                await service.TestConnection(request, None)
            stream, _ = await joined(worker_service)
            asking = asyncio.ensure_future(service.TestConnection(request, None))
            test = await stream.receive("connection_test")
            assert (test.connection.conn_id, test.connection.password) == ("wh", PASSWORD)
            failed = f"connection to server at h failed: password {PASSWORD} rejected"
            result = worker_pb2.ConnectionTestResult(test_id=test.test_id, ok=False, message=failed)
            stream.send(worker_pb2.WorkerMessage(connection_test_result=result))
            answer = await asking
            assert not answer.ok
            assert answer.message == "from worker w1: connection to server at h failed: password *** rejected"
            assert not engine.connection_tests

    run(scenario)


def test_a_reported_error_is_stored_with_known_secrets_masked(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with coordinator(tmp_path) as (engine, service):
            connection = Connection(conn_id="wh", conn_type="postgres", host="h", password=PASSWORD)
            await engine.write_secrets(engine.secrets.set_connection, connection)
            stream, _ = await joined(service)
            attempt = await started(engine, stream)
            finished = worker_pb2.TaskFinished(
                attempt=attempt, outcome=worker_pb2.TASK_OUTCOME_FAILED, error=f"login with {PASSWORD} refused"
            )
            stream.send(worker_pb2.WorkerMessage(finished=finished))
            await stream.receive("result_ack")
            [row] = m.TaskAttempt.select().where(m.TaskAttempt.error != "")
            assert row.error == "login with *** refused"

    run(scenario)
