"""Secrets masked as `***` wherever a task's output or a rendered template could show them.

A value is registered as secret when a connection's password (or a sensitive field of its
extra) is read, or a variable whose key has a sensitive name (Airflow's list: password, secret,
token, api_key, ...) is read. Every text then shown to people goes through `redact` first: the
task's own log stream (its stdout and stderr are wrapped on the worker), its error line, and the
rendered fields the coordinator stores.
"""

from __future__ import annotations

import re
import threading
from typing import Any, TextIO

__all__ = [
    "MASK",
    "MaskingStream",
    "Redactor",
    "SENSITIVE_NAMES",
    "is_sensitive",
    "mask_secret",
    "redact",
    "redactor",
]

MASK = "***"
#: Airflow's default sensitive names (core.sensitive_var_conn_names): a variable key or extra
#: field containing one of them, in any case, holds a secret.
SENSITIVE_NAMES = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "authorization",
        "passphrase",
        "passwd",
        "password",
        "private_key",
        "secret",
        "token",
        "keyfile_dict",
        "service_account",
    }
)
#: Shorter values are not masked: masking "a" or "12" would garble every log line.
MIN_LENGTH = 3


def is_sensitive(name: str) -> bool:
    """Whether a variable key or connection extra field named `name` holds a secret."""
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_NAMES)


class Redactor:
    """A set of secret strings and the one pattern that finds any of them."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: Any, name: str | None = None) -> None:
        """Mask `value` from now on; with `name`, only when the name is sensitive. Dicts and
        lists are walked (a sensitive key's value is masked whatever its own name)."""
        if isinstance(value, dict):
            for key, inner in value.items():
                self.add(inner, str(key) if name is None or not is_sensitive(name) else None)
            return
        if isinstance(value, list | tuple):
            for inner in value:
                self.add(inner, name)
            return
        if name is not None and not is_sensitive(name):
            return
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            return
        with self._lock:
            if value in self._secrets:
                return
            self._secrets.add(value)
            for line in value.splitlines():
                if len(line) >= MIN_LENGTH:
                    self._secrets.add(line)
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(secret) for secret in ordered))

    @property
    def active(self) -> bool:
        """Whether there is any secret to mask."""
        return self._pattern is not None

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None or not text else pattern.sub(MASK, text)

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._pattern = None


_REDACTOR = Redactor()


def redactor() -> Redactor:
    """The process's redactor (a task process runs one task)."""
    return _REDACTOR


def mask_secret(value: Any, name: str | None = None) -> None:
    """Airflow's mask_secret: `value` is shown as *** from now on in this process's output."""
    _REDACTOR.add(value, name)


def redact(text: str) -> str:
    return _REDACTOR.redact(text)


class MaskingStream:
    """A text stream that masks secrets before writing. Output is held until a line ends, so
    a secret written in pieces is still found whole."""

    def __init__(self, stream: TextIO, redactor: Redactor | None = None) -> None:
        self._stream = stream
        self._redactor = redactor or _REDACTOR
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._stream.write(self._redactor.redact(complete + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._redactor.redact(self._pending))
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
