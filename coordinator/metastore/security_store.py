"""Queries and writes of the security tables (api_token, audit_entry); no other module calls peewee on them.

Any thread may call any method: each thread has its own connection, as in store.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from coordinator.metastore import models as m
from coordinator.metastore.store import aware, naive
from coordinator.tokens import Token
from tradewind.exceptions import AlreadyExists, NotFound


def _token(row: m.ApiToken) -> Token:
    return Token(
        name=row.name,
        role=row.role,
        digest=row.hash,
        created_at=aware(row.created_at),  # type: ignore[arg-type]
        expires_at=aware(row.expires_at),
        revoked_at=aware(row.revoked_at),
        created_by=row.created_by,
    )


class SecurityStore:
    """Works on the metastore the models are bound to (`db.connect`)."""

    def __init__(self) -> None:
        self.db = m.database

    # ---- tokens ---------------------------------------------------------------------------
    def add_token(self, token: Token, now: datetime) -> None:
        """Store a new token; AlreadyExists while a token of that name is neither revoked nor expired."""
        with self.db.atomic():
            for row in m.ApiToken.select().where(m.ApiToken.name == token.name, m.ApiToken.revoked_at.is_null()):
                if _token(row).valid(now):
                    raise AlreadyExists(f"a token named {token.name!r} exists already; revoke it first")
            m.ApiToken.create(
                name=token.name,
                role=token.role,
                hash=token.digest,
                created_at=naive(token.created_at),
                expires_at=naive(token.expires_at),
                created_by=token.created_by,
            )

    def token_by_digest(self, digest: str) -> Token | None:
        row = m.ApiToken.get_or_none(m.ApiToken.hash == digest)
        return None if row is None else _token(row)

    def tokens(self) -> list[Token]:
        """Every token ever made, newest first (revoked and expired ones too: the record stays)."""
        return [_token(r) for r in m.ApiToken.select().order_by(m.ApiToken.created_at.desc(), m.ApiToken.id.desc())]

    def any_token(self) -> bool:
        """Whether any token has been made (from then on, tokens are required even on loopback)."""
        return m.ApiToken.select().exists()

    def revoke_token(self, name: str, now: datetime) -> list[Token]:
        """Revoke every unrevoked token named `name`; NotFound when there is none."""
        with self.db.atomic():
            rows = list(m.ApiToken.select().where(m.ApiToken.name == name, m.ApiToken.revoked_at.is_null()))
            if not rows:
                raise NotFound(f"no unrevoked token named {name!r}")
            m.ApiToken.update(revoked_at=naive(now)).where(m.ApiToken.id.in_([r.id for r in rows])).execute()
        return [_token(r) for r in rows]

    # ---- audit log ------------------------------------------------------------------------
    def add_audit(self, timestamp: datetime, actor: str, rpc: str, subject: str) -> None:
        with self.db.atomic():
            m.AuditEntry.create(timestamp=naive(timestamp), actor=actor, rpc=rpc, subject=subject)

    def audit(self, limit: int, before_id: int | None = None) -> Sequence[m.AuditEntry]:
        """The newest `limit` entries (older than `before_id` when given), newest first."""
        query = m.AuditEntry.select().order_by(m.AuditEntry.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(m.AuditEntry.id < before_id)
        return list(query)
