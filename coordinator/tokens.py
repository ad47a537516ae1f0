"""Bearer tokens: made, hashed, looked up and cached.

A token is `tw_` and 43 characters of a 256-bit random secret. Only its SHA-256 is stored and
compared (so a stolen metastore yields no usable token); looking a digest up is safe because
the secret has 256 bits of entropy, and the stored digest is compared with
`hmac.compare_digest` all the same. The secret is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tradewind.exceptions import InvalidArgument
from tradewind.wire import TOKEN_ROLES, WORKER_NAME_PATTERN

PREFIX = "tw_"


@dataclass(frozen=True)
class Token:
    """A stored token (never its secret)."""

    name: str
    role: str
    digest: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    created_by: str = ""

    def valid(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def why_invalid(self, now: datetime) -> str:
        """Empty when valid; else that it was revoked or expired, and when."""
        if self.revoked_at is not None:
            return f"token {self.name!r} was revoked at {self.revoked_at:%Y-%m-%d %H:%M:%S} UTC"
        if self.expires_at is not None and now >= self.expires_at:
            return f"token {self.name!r} expired at {self.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        return ""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def make(
    name: str, role: str, now: datetime, expires_in: timedelta | None = None, created_by: str = ""
) -> tuple[str, Token]:
    """A new secret and its Token; InvalidArgument naming a bad name or role."""
    if not WORKER_NAME_PATTERN.fullmatch(name):
        raise InvalidArgument(f"token name must be 1 to 200 letters, digits and _ . @ : -, not {name!r}")
    if role not in TOKEN_ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(TOKEN_ROLES)}, not {role!r}")
    if expires_in is not None and expires_in <= timedelta(0):
        raise InvalidArgument(f"a token must expire in the future, not in {expires_in}")
    secret = PREFIX + secrets.token_urlsafe(32)
    expires_at = now + expires_in if expires_in is not None else None
    return secret, Token(name, role, digest(secret), now, expires_at, None, created_by)


class TokenCache:
    """Tokens seen, by digest, so a call costs one hash and one dict lookup.

    A digest not in the cache is looked up in the metastore (a token made by `coordinator
    tokens create` while the coordinator runs); revocations made through the coordinator
    update the cache at once.
    """

    def __init__(self) -> None:
        self._by_digest: dict[str, Token] = {}

    def get(self, token_digest: str) -> Token | None:
        return self._by_digest.get(token_digest)

    def put(self, token: Token) -> None:
        self._by_digest[token.digest] = token

    def revoked(self, tokens: list[Token], now: datetime) -> None:
        for token in tokens:
            self._by_digest[token.digest] = replace(token, revoked_at=now)
