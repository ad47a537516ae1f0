"""ControlService's token and audit-log handlers (CreateToken, ListTokens, RevokeToken, ListAuditLog).

Who may call them is the auth interceptor's business (coordinator/auth.py); these handlers
only do the work. Tokens are written to the metastore directly, not through the engine: they
are not scheduler state, and the interceptor must know a new token before the call returns.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TypeAlias

import grpc

from coordinator import auth, tokens
from coordinator.auth import Authenticator
from coordinator.engine import Engine
from coordinator.metastore.store import aware
from coordinator.tokens import Token
from tradewind.exceptions import InvalidArgument
from tradewind.v1 import control_pb2
from tradewind.wire import MAX_TOKEN_SECONDS, to_timestamp, token_role_from_pb, token_role_to_pb

Ctx: TypeAlias = grpc.aio.ServicerContext
#: ListAuditLog's page size when the request gives none.
AUDIT_PAGE = 100


def token_pb(token: Token) -> control_pb2.ApiToken:
    return control_pb2.ApiToken(
        name=token.name,
        role=token_role_to_pb(token.role),  # type: ignore[arg-type]
        created_at=to_timestamp(token.created_at),
        expires_at=to_timestamp(token.expires_at),
        revoked_at=to_timestamp(token.revoked_at),
        created_by=token.created_by,
    )


class TokenHandlers:
    """Mixed into ControlService, which sets `engine` and `authenticator`."""

    engine: Engine
    authenticator: Authenticator

    async def CreateToken(
        self, request: control_pb2.CreateTokenRequest, context: Ctx
    ) -> control_pb2.CreateTokenResponse:
        role = token_role_from_pb(request.role)
        if not 0 <= request.expires_in_seconds <= MAX_TOKEN_SECONDS:
            raise InvalidArgument(
                f"expires_in_seconds must be between 0 and {MAX_TOKEN_SECONDS:,}, not {request.expires_in_seconds}"
            )
        expires = timedelta(seconds=request.expires_in_seconds) if request.expires_in_seconds else None
        now = self.authenticator.clock.now()
        secret, token = tokens.make(request.name, role, now, expires, created_by=auth.current.get().name)
        await asyncio.to_thread(self.authenticator.store.add_token, token, now)
        self.authenticator.stored(token)
        return control_pb2.CreateTokenResponse(token=token_pb(token), secret=secret)

    async def ListTokens(self, request: control_pb2.ListTokensRequest, context: Ctx) -> control_pb2.ListTokensResponse:
        found = await asyncio.to_thread(self.authenticator.store.tokens)
        return control_pb2.ListTokensResponse(tokens=[token_pb(t) for t in found])

    async def RevokeToken(
        self, request: control_pb2.RevokeTokenRequest, context: Ctx
    ) -> control_pb2.RevokeTokenResponse:
        if not request.name:
            raise InvalidArgument("name is required")
        now = self.authenticator.clock.now()
        revoked = await asyncio.to_thread(self.authenticator.store.revoke_token, request.name, now)
        self.authenticator.cache.revoked(revoked, now)
        if any(t.role == auth.WORKER for t in revoked):
            # Its open stream ends now; the worker's reconnect is refused with the token revoked.
            stream = self.engine.streams.get(request.name)
            if stream is not None:
                stream[1].put_nowait(None)
        return control_pb2.RevokeTokenResponse(tokens=[token_pb(t) for t in revoked])

    async def ListAuditLog(
        self, request: control_pb2.ListAuditLogRequest, context: Ctx
    ) -> control_pb2.ListAuditLogResponse:
        size = request.page_size or AUDIT_PAGE
        before = int(request.page_token) if request.page_token else None
        rows = await asyncio.to_thread(self.authenticator.store.audit, size + 1, before)
        entries = [
            control_pb2.AuditEntry(
                timestamp=to_timestamp(aware(r.timestamp)), actor=r.actor, rpc=r.rpc, subject=r.subject
            )
            for r in rows[:size]
        ]
        next_token = str(rows[size - 1].id) if len(rows) > size else ""
        return control_pb2.ListAuditLogResponse(entries=entries, next_page_token=next_token)
