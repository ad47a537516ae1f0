"""Who may call what: the RPC -> role table and the interceptor that enforces it, in one place.

Every call carries `authorization: Bearer <token>` in its metadata. A call without a valid
token fails with UNAUTHENTICATED saying why (none, unknown, expired, revoked); a token whose
role is below what the RPC needs fails with PERMISSION_DENIED naming the RPC and that role.
Tokens are required when the coordinator listens on an address that is not loopback, or once
any token has been made; until then a loopback coordinator answers calls without one.

Roles: `viewer` reads and follows logs; `operator` also triggers, pauses, clears, marks,
cancels and changes pools; `admin` may do everything (tokens, connections, variables,
draining, and joining as any worker). `worker` may only use WorkerService, and only as the
worker its token is named for. An RPC missing from the table is refused to all but admin.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import grpc

from coordinator.audit import Audit
from coordinator.clock import Clock
from coordinator.metastore.security_store import SecurityStore
from coordinator.tokens import Token, TokenCache, digest, same_digest
from tradewind.exceptions import PermissionDenied, Unauthenticated

log = logging.getLogger("tradewind.coordinator")
WORKER, VIEWER, OPERATOR, ADMIN = "worker", "viewer", "operator", "admin"
#: What each ControlService role includes (a role includes itself).
_INCLUDES = {VIEWER: {VIEWER}, OPERATOR: {VIEWER, OPERATOR}, ADMIN: {WORKER, VIEWER, OPERATOR, ADMIN}, WORKER: {WORKER}}


class Rule(NamedTuple):
    #: The weakest role that may call the RPC.
    role: str
    #: Whether a successful call is recorded in the audit log.
    change: bool = False


_CONTROL = "/tradewind.v1.ControlService/"
_WORKER = "/tradewind.v1.WorkerService/"
_TRIGGERER = "/tradewind.v1.TriggererService/"
CHANGE = True
RULES: dict[str, Rule] = {
    **{
        _CONTROL + name: Rule(VIEWER)
        for name in (
            "ListDags",
            "GetDag",
            "ListDagRuns",
            "ListTaskInstances",
            "GetDagGrid",
            "GetTaskInstance",
            "ExplainTaskInstance",
            "TailLogs",
            "ListWorkers",
            "ListImportErrors",
            "ListPools",
            "Watch",
            "ListAuditLog",
            "ListConnections",
            "ListVariables",
            "ListBackfills",
            "GetBackfill",
            "ListAssets",
            "ListAssetEvents",
            "GetDagRunCallbackLog",
        )
    },
    **{
        _CONTROL + name: Rule(OPERATOR, CHANGE)
        for name in (
            "SetDagPaused",
            "TriggerDag",
            "ClearTaskInstances",
            "MarkTaskInstance",
            "CancelDagRun",
            "SetPool",
            "DeletePool",
            "CreateBackfill",
            "CancelBackfill",
            "EmitAssetEvent",
        )
    },
    **{
        _CONTROL + name: Rule(ADMIN, CHANGE)
        for name in (
            "DrainWorker",
            "CreateToken",
            "RevokeToken",
            "SetConnection",
            "DeleteConnection",
            "SetVariable",
            "DeleteVariable",
        )
    },
    **{_CONTROL + name: Rule(ADMIN) for name in ("ListTokens", "GetConnection", "TestConnection", "GetVariable")},
    _WORKER + "Connect": Rule(WORKER),
    _WORKER + "FetchBundle": Rule(WORKER),
    # A triggerer joins with a worker token.
    _TRIGGERER + "Connect": Rule(WORKER),
}
#: What an RPC missing from RULES needs: fail closed.
UNLISTED = Rule(ADMIN, CHANGE)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's name and role, or nobody (no token, where none is required)."""

    name: str
    role: str

    @property
    def anonymous(self) -> bool:
        return not self.name


NOBODY = Principal("", ADMIN)
#: The caller of the RPC being handled, for handlers that need it (WorkerService binds names).
current: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal", default=NOBODY)


def rule_for(method: str) -> Rule:
    return RULES.get(method, UNLISTED)


def allowed(role: str, rule: Rule) -> bool:
    return rule.role in _INCLUDES.get(role, set())


def rpc_name(method: str) -> str:
    return method.rsplit("/", 1)[-1]


def check_worker_name(name: str) -> None:
    """A worker token joins only as the worker it is named for (PERMISSION_DENIED naming both)."""
    principal = current.get()
    if principal.role == WORKER and principal.name != name:
        raise PermissionDenied(
            f"token {principal.name!r} belongs to worker {principal.name!r}; it cannot join as worker {name!r}"
        )


class Authenticator:
    """Turns call metadata into a Principal, from the token cache and, on a miss, the metastore."""

    def __init__(self, store: SecurityStore, clock: Clock, required: bool) -> None:
        self.store = store
        self.clock = clock
        self.cache = TokenCache()
        #: Tokens are required (non-loopback, or a token has been made); once True, stays True.
        self.required = required

    def add_local(self, token: Token) -> None:
        """A token kept only in memory (standalone's own workers); does not make tokens required."""
        self.cache.put(token)

    def stored(self, token: Token) -> None:
        """A token just made through the coordinator: known at once, and from now on required."""
        self.cache.put(token)
        self.required = True

    async def principal(self, metadata: Any, method: str) -> Principal:
        secret = _bearer(metadata)
        if secret is None:
            if self.required:
                raise Unauthenticated(f"{rpc_name(method)} needs a token: send 'authorization: Bearer <token>'")
            return NOBODY
        if not secret:
            raise Unauthenticated(f"{rpc_name(method)}: the authorization metadata must be 'Bearer <token>'")
        wanted = digest(secret)
        token = self.cache.get(wanted)
        if token is None:
            token = await asyncio.to_thread(self.store.token_by_digest, wanted)
            if token is not None:
                self.cache.put(token)
                self.required = True
        if token is None or not same_digest(token.digest, wanted):
            raise Unauthenticated(f"{rpc_name(method)}: the token given is not known to this coordinator")
        why = token.why_invalid(self.clock.now())
        if why:
            raise Unauthenticated(f"{rpc_name(method)}: {why}")
        return Principal(token.name, token.role)


def _bearer(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization":
            text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            scheme, _, secret = text.strip().partition(" ")
            if scheme.lower() == "bearer" and secret.strip():
                return secret.strip()
            return ""
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """The one place a call is authenticated, checked against RULES, and (for changes) audited."""

    def __init__(self, authenticator: Authenticator, audit: Audit) -> None:
        self.authenticator = authenticator
        self.audit = audit

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler
        method, rule = details.method, rule_for(details.method)
        metadata = details.invocation_metadata

        async def admit(context: grpc.aio.ServicerContext) -> Principal:
            try:
                principal = await self.authenticator.principal(metadata, method)
            except Unauthenticated as exc:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
            except Exception as exc:  # noqa: BLE001 - the metastore away: the caller may try again
                log.warning("cannot check a token for %s: %s", rpc_name(method), exc)
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"cannot check the token now: {exc}")
            if not allowed(principal.role, rule):
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"{rpc_name(method)} needs the {rule.role} role; token {principal.name!r} has {principal.role}",
                )
            current.set(principal)
            return principal

        if handler.unary_unary is not None:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                principal = await admit(context)
                response = await inner_uu(request, context)
                if rule.change:
                    await self.audit.record_call(principal.name, rpc_name(method), request, response)
                return response

            return handler._replace(unary_unary=unary_unary)
        if handler.unary_stream is not None:
            inner_us = handler.unary_stream

            async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> Any:
                await admit(context)
                async for item in inner_us(request, context):
                    yield item

            return handler._replace(unary_stream=unary_stream)
        if handler.stream_stream is not None:
            inner_ss = handler.stream_stream

            async def stream_stream(requests: Any, context: grpc.aio.ServicerContext) -> Any:
                await admit(context)
                async for item in inner_ss(requests, context):
                    yield item

            return handler._replace(stream_stream=stream_stream)
        return handler
