"""The audit log: every change a person or program makes, with the token's name, the RPC, the
subject and the time.

The auth interceptor records every RPC its role table marks as a change, after the handler
succeeds, so a new change RPC is audited by being listed there. The subject is built only from
the identifying fields below, never from values (a conf, a variable's value, a password).
Code that changes something outside an RPC calls `Audit.record` itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from google.protobuf.message import Message

from coordinator.clock import Clock
from coordinator.metastore.security_store import SecurityStore

log = logging.getLogger("tradewind.coordinator")

#: Request fields that name what a change is about; nothing else reaches the log.
SUBJECT_FIELDS = (
    "dag_id",
    "run_id",
    "task_id",
    "task_ids",
    "map_index",
    "include_downstream",
    "state",
    "paused",
    "name",
    "role",
    "slots",
    "conn_id",
    "key",
    "backfill_id",
)
#: Messages inside a request whose identifying fields name its subject (SetConnection, SetVariable).
NESTED_SUBJECTS = ("connection", "variable")
#: What `actor` says for a call made without a token (loopback, with no tokens made yet).
NO_TOKEN = "(no token)"
_MAX_SUBJECT = 2000


def subject_of(request: Message, response: Message | None = None) -> str:
    """`dag_id=etl run_id=manual__1` from a request's identifying fields (and the run a trigger made)."""
    parts = []
    present = {field.name: (field, value) for field, value in request.ListFields()}
    for name in SUBJECT_FIELDS:
        if name not in present:
            continue
        field, value = present[name]
        if field.enum_type is not None:
            known = field.enum_type.values_by_number.get(value)
            # TOKEN_ROLE_VIEWER -> viewer, TASK_STATE_UPSTREAM_FAILED -> upstream_failed
            value = known.name.split("_", 2)[-1].lower() if known is not None else value
        elif isinstance(value, bool):
            value = str(value).lower()
        elif not isinstance(value, (str, int, float)):
            value = ",".join(str(v) for v in value)
        parts.append(f"{name}={value}")
    for nested in NESTED_SUBJECTS:
        if nested in present:
            parts.append(subject_of(present[nested][1]))
    run_id = str(getattr(getattr(response, "dag_run", None), "run_id", ""))
    if run_id and "run_id" not in present:
        parts.append(f"run_id={run_id}")
    return " ".join(parts)[:_MAX_SUBJECT]


class Audit:
    """Writes audit entries to the metastore, off the event loop."""

    def __init__(self, store: SecurityStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def record(self, actor: str, rpc: str, subject: str) -> None:
        """Store one entry; a failure is logged (the change itself is already committed)."""
        try:
            await asyncio.to_thread(self.store.add_audit, self.clock.now(), actor or NO_TOKEN, rpc, subject)
        except Exception as exc:  # noqa: BLE001 - an audit write must not turn a done change into an error
            log.error("could not record %s by %s on %s in the audit log: %s", rpc, actor, subject, exc)

    async def record_call(self, actor: str, rpc: str, request: Message, response: Any) -> None:
        await self.record(actor, rpc, subject_of(request, response if isinstance(response, Message) else None))
