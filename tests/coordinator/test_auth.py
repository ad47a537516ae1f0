"""The RPC -> role table, the authenticator's verdicts, worker names bound to their tokens, audit subjects."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from coordinator import auth, tokens
from coordinator.audit import subject_of
from coordinator.auth import ADMIN, OPERATOR, VIEWER, WORKER, Authenticator, Principal, allowed, rule_for
from coordinator.clock import FakeClock
from coordinator.metastore.db import connect
from coordinator.metastore.security_store import SecurityStore
from tests.pg import fresh_database
from tradewind.exceptions import AlreadyExists, NotFound, PermissionDenied, Unauthenticated
from tradewind.v1 import common_pb2, control_pb2, triggerer_pb2, worker_pb2

CONTROL = "/tradewind.v1.ControlService/"


def every_rpc() -> list[str]:
    methods = []
    for descriptor in (control_pb2.DESCRIPTOR, worker_pb2.DESCRIPTOR, triggerer_pb2.DESCRIPTOR):
        for service in descriptor.services_by_name.values():
            methods += [f"/{service.full_name}/{method.name}" for method in service.methods]
    return methods


def test_every_rpc_of_every_service_is_in_the_role_table() -> None:
    missing = [method for method in every_rpc() if method not in auth.RULES]
    assert missing == []


def test_an_rpc_missing_from_the_table_is_refused_to_all_but_admin() -> None:
    rule = rule_for(CONTROL + "SomethingNew")
    assert [role for role in (WORKER, VIEWER, OPERATOR, ADMIN) if allowed(role, rule)] == [ADMIN]


@pytest.mark.parametrize(
    ("rpc", "roles"),
    [
        ("ListDags", {VIEWER, OPERATOR, ADMIN}),
        ("TailLogs", {VIEWER, OPERATOR, ADMIN}),
        ("ListAuditLog", {VIEWER, OPERATOR, ADMIN}),
        ("TriggerDag", {OPERATOR, ADMIN}),
        ("SetPool", {OPERATOR, ADMIN}),
        ("DrainWorker", {ADMIN}),
        ("CreateToken", {ADMIN}),
        ("ListTokens", {ADMIN}),
        ("SetVariable", {ADMIN}),
        ("GetConnection", {ADMIN}),
        ("ListConnections", {VIEWER, OPERATOR, ADMIN}),
        ("CreateBackfill", {OPERATOR, ADMIN}),
        ("ListAssetEvents", {VIEWER, OPERATOR, ADMIN}),
    ],
)
def test_each_role_may_call_what_its_table_row_says(rpc: str, roles: set[str]) -> None:
    rule = rule_for(CONTROL + rpc)
    assert {role for role in (WORKER, VIEWER, OPERATOR, ADMIN) if allowed(role, rule)} == roles


def test_only_workers_and_admins_may_use_the_worker_service() -> None:
    for rpc in ("Connect", "FetchBundle"):
        rule = rule_for(f"/tradewind.v1.WorkerService/{rpc}")
        assert {role for role in (WORKER, VIEWER, OPERATOR, ADMIN) if allowed(role, rule)} == {WORKER, ADMIN}


def test_changes_are_audited_and_reads_are_not() -> None:
    assert rule_for(CONTROL + "TriggerDag").change and rule_for(CONTROL + "RevokeToken").change
    assert not rule_for(CONTROL + "ListDags").change and not rule_for(CONTROL + "ListTokens").change


@pytest.fixture(params=["sqlite", "postgresql"])
def security(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SecurityStore]:
    """The security tables on both backends (PostgreSQL when TRADEWIND_TEST_POSTGRES_URL is set)."""
    if request.param == "sqlite":
        db = connect(f"sqlite:///{tmp_path / 'meta.db'}")
        yield SecurityStore()
        db.close()
        return
    with fresh_database() as url:
        db = connect(url)
        yield SecurityStore()
        db.close()


def verdict(authenticator: Authenticator, metadata: tuple[tuple[str, str], ...]) -> Principal:
    return asyncio.run(authenticator.principal(metadata, CONTROL + "ListDags"))


def bearer(secret: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {secret}"),)


def test_without_required_tokens_a_call_without_one_is_anonymous(security: SecurityStore) -> None:
    assert verdict(Authenticator(security, FakeClock(), required=False), ()).anonymous


def test_a_required_token_that_is_missing_unknown_or_malformed_is_unauthenticated(security: SecurityStore) -> None:
    authenticator = Authenticator(security, FakeClock(), required=True)
    with pytest.raises(Unauthenticated, match="ListDags needs a token"):
        verdict(authenticator, ())
    with pytest.raises(Unauthenticated, match="not known to this coordinator"):
        verdict(authenticator, bearer("tw_guess"))
    with pytest.raises(Unauthenticated, match="must be 'Bearer <token>'"):
        verdict(authenticator, (("authorization", "Basic abc"),))


def test_a_token_made_in_the_metastore_is_found_and_makes_tokens_required(security: SecurityStore) -> None:
    clock = FakeClock()
    secret, token = tokens.make("ops", OPERATOR, clock.now())
    security.add_token(token, clock.now())
    authenticator = Authenticator(security, clock, required=False)
    assert verdict(authenticator, bearer(secret)) == Principal("ops", OPERATOR)
    assert authenticator.required
    with pytest.raises(Unauthenticated):
        verdict(authenticator, ())


def test_expired_and_revoked_tokens_are_unauthenticated_saying_which(security: SecurityStore) -> None:
    clock = FakeClock()
    short, short_token = tokens.make("short", VIEWER, clock.now(), timedelta(hours=1))
    gone, gone_token = tokens.make("gone", VIEWER, clock.now())
    for token in (short_token, gone_token):
        security.add_token(token, clock.now())
    authenticator = Authenticator(security, clock, required=True)
    assert verdict(authenticator, bearer(gone)).name == "gone"
    authenticator.cache.revoked(security.revoke_token("gone", clock.now()), clock.now())
    with pytest.raises(Unauthenticated, match="token 'gone' was revoked"):
        verdict(authenticator, bearer(gone))
    clock.advance(3601)
    with pytest.raises(Unauthenticated, match="token 'short' expired"):
        verdict(authenticator, bearer(short))


def test_only_the_digest_of_a_token_is_stored(security: SecurityStore) -> None:
    clock = FakeClock()
    secret, token = tokens.make("w1", WORKER, clock.now())
    security.add_token(token, clock.now())
    stored = security.tokens()[0]
    assert secret.startswith("tw_") and len(secret) > 40
    assert stored.digest == tokens.digest(secret) and secret not in repr(stored)


def test_a_name_is_taken_until_its_token_is_revoked(security: SecurityStore) -> None:
    clock = FakeClock()
    security.add_token(tokens.make("w1", WORKER, clock.now())[1], clock.now())
    with pytest.raises(AlreadyExists, match="'w1' exists already"):
        security.add_token(tokens.make("w1", WORKER, clock.now())[1], clock.now())
    security.revoke_token("w1", clock.now())
    security.add_token(tokens.make("w1", WORKER, clock.now())[1], clock.now())
    with pytest.raises(NotFound, match="no unrevoked token named 'nobody'"):
        security.revoke_token("nobody", clock.now())


def test_a_worker_token_joins_only_as_its_own_worker() -> None:
    def check(principal: Principal, name: str) -> None:
        previous = auth.current.set(principal)
        try:
            auth.check_worker_name(name)
        finally:
            auth.current.reset(previous)

    check(Principal("w1", WORKER), "w1")
    check(Principal("root", ADMIN), "anything")
    with pytest.raises(PermissionDenied, match="token 'w1' belongs to worker 'w1'; it cannot join as worker 'w2'"):
        check(Principal("w1", WORKER), "w2")


def test_an_audit_subject_names_what_changed_and_never_a_value() -> None:
    trigger = control_pb2.TriggerDagRequest(dag_id="etl", conf_json='{"password": "hunter2"}')
    response = control_pb2.TriggerDagResponse(dag_run=control_pb2.DagRun(run_id="manual__1"))
    assert subject_of(trigger, response) == "dag_id=etl run_id=manual__1"
    mark = control_pb2.MarkTaskInstanceRequest(dag_id="etl", run_id="r", task_id="t", state=3)
    assert subject_of(mark).startswith("dag_id=etl run_id=r task_id=t state=")
    token = control_pb2.CreateTokenRequest(name="v", role=control_pb2.TOKEN_ROLE_VIEWER)
    assert subject_of(token) == "name=v role=viewer"
    connection = control_pb2.SetConnectionRequest(
        connection=common_pb2.Connection(conn_id="pg", conn_type="postgres", password="hunter2")
    )
    assert subject_of(connection) == "conn_id=pg"
    variable = control_pb2.SetVariableRequest(variable=control_pb2.Variable(key="api_key", value="hunter2"))
    assert subject_of(variable) == "key=api_key"


def test_the_audit_log_is_read_newest_first_a_page_at_a_time(security: SecurityStore) -> None:
    clock = FakeClock()
    for n in range(3):
        security.add_audit(clock.now(), "ops", "TriggerDag", f"dag_id=d{n}")
        clock.advance(1)
    first = security.audit(2)
    assert [e.subject for e in first] == ["dag_id=d2", "dag_id=d1"]
    assert [e.subject for e in security.audit(2, before_id=first[-1].id)] == ["dag_id=d0"]
