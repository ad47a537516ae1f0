"""A throwaway PostgreSQL database per test, on the server named by TRADEWIND_TEST_POSTGRES_URL.

Without that variable PostgreSQL tests are skipped, unless TRADEWIND_REQUIRE_POSTGRES=1 (as in
CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import peewee
import pytest


def postgres_url() -> str:
    url = os.environ.get("TRADEWIND_TEST_POSTGRES_URL", "")
    if not url:
        if os.environ.get("TRADEWIND_REQUIRE_POSTGRES") == "1":
            pytest.fail("TRADEWIND_REQUIRE_POSTGRES=1 but TRADEWIND_TEST_POSTGRES_URL is not set")
        pytest.skip("set TRADEWIND_TEST_POSTGRES_URL to run PostgreSQL tests")
    return url


@contextmanager
def fresh_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    url = postgres_url()
    parts = urlparse(url)
    admin = peewee.PostgresqlDatabase(
        parts.path.lstrip("/") or "postgres",
        user=parts.username,
        password=parts.password,
        host=parts.hostname,
        port=parts.port,
    )
    name = f"tw_{uuid.uuid4().hex[:12]}"
    admin.connect()
    admin.execute_sql(f"CREATE DATABASE {name}")
    admin.close()
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.connect()
        admin.execute_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
