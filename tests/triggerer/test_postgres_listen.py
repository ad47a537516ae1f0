"""PostgresListenTrigger on a real PostgreSQL (TRADEWIND_TEST_POSTGRES_URL, a fresh database per
test): it fires on each NOTIFY of its channel with the payload, by dsn or by conn_id."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import psycopg
import pytest

from tests.pg import fresh_database
from tradewind.exceptions import DagDefinitionError
from tradewind.triggers import PostgresListenTrigger

pytestmark = pytest.mark.postgres


async def _listening(url: str, channel: str) -> None:
    """Wait (at most 10 s) until a session of the database has run LISTEN on `channel`."""
    deadline = time.monotonic() + 10
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        while time.monotonic() < deadline:
            cursor = await admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = %s",
                (f'LISTEN "{channel}"',),
            )
            row = await cursor.fetchone()
            if row and row[0]:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"no session listens on {channel!r} after 10 s")


def collect(trigger: PostgresListenTrigger, url: str, payloads: list[str], enough: int) -> list[Any]:
    events: list[Any] = []

    async def listen() -> None:
        async with contextlib.aclosing(trigger.run()) as run:
            async for event in run:
                events.append(event.payload)
                if len(events) >= enough:
                    return

    async def scenario() -> None:
        listener = asyncio.create_task(listen())
        await _listening(url, trigger.channel)
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as notifier:
            for payload in payloads:
                await notifier.execute("SELECT pg_notify(%s, %s)", (trigger.channel, payload))
        await asyncio.wait_for(listener, 10)

    asyncio.run(scenario())
    return events


def test_as_a_watcher_it_fires_on_every_notify_with_its_payload() -> None:
    with fresh_database() as url:
        trigger = PostgresListenTrigger(channel="orders", dsn=url)
        trigger.watching = True
        events = collect(trigger, url, ["order 1", "order 2", ""], 3)
    assert [e["payload"] for e in events] == ["order 1", "order 2", ""]
    assert all(e["channel"] == "orders" and e["pid"] > 0 for e in events)


def test_for_a_deferred_task_it_fires_on_the_first_notify_found_by_conn_id(monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_database() as url:
        monkeypatch.setenv("AIRFLOW_CONN_ORDERS_DB", url)
        trigger = PostgresListenTrigger(channel="Mixed Case", conn_id="orders_db")
        assert trigger.serialize()[1] == {"channel": "Mixed Case", "conn_id": "orders_db", "dsn": None}
        events = collect(trigger, url, ["first", "second"], 2)
    assert [e["payload"] for e in events] == ["first"]


def test_it_needs_one_of_conn_id_and_dsn_and_a_channel_postgres_accepts() -> None:
    with pytest.raises(DagDefinitionError, match="give either conn_id or dsn"):
        PostgresListenTrigger(channel="c")
    with pytest.raises(DagDefinitionError, match="channel must be 1 to 63 bytes"):
        PostgresListenTrigger(channel="x" * 64, dsn="postgresql://h/d")
