"""`tradewind tokens create|list|revoke` and `tradewind audit list`: who may do what, and who did."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewind.exceptions import ConfigError, InvalidArgument
from tradewind.wire import TOKEN_ROLES, token_role_from_pb

if TYPE_CHECKING:
    from tradewind.client import Client

#: Units of --expires: a number and one of these letters.
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration(text: str) -> timedelta:
    """--expires: "30d", "12h", "90m", "1w", "45s"; InvalidArgument naming the value otherwise."""
    number, unit = text.strip()[:-1], text.strip()[-1:]
    if not number.isdigit() or unit not in _UNITS or int(number) == 0:
        raise InvalidArgument(
            f"--expires must be a positive number and one of s, m, h, d, w (such as 30d), not {text!r}"
        )
    return timedelta(seconds=int(number) * _UNITS[unit])


def cmd_tokens_create(client: Client, args: argparse.Namespace) -> None:
    expires = int(duration(args.expires).total_seconds()) if args.expires else 0
    if args.output and Path(args.output).exists():
        raise ConfigError(f"{args.output} exists already; choose a new file for the token")
    made = client.create_token(args.name, args.role, expires)
    if args.output:
        from tradewind.credentials import write_secret

        write_secret(Path(args.output), made.secret)
        print(f"token {made.token.name!r} ({args.role}) written to {args.output}")
    else:
        print(made.secret)


def cmd_tokens_list(client: Client, args: argparse.Namespace) -> None:
    from tradewind.cli import print_json, table, when

    found = client.list_tokens().tokens
    if args.json:
        return print_json(found)

    def state(token: Any) -> str:
        return "revoked" if token.HasField("revoked_at") else "valid"

    rows = [
        (
            t.name,
            token_role_from_pb(t.role),
            when(t, "created_at"),
            when(t, "expires_at") or "never",
            state(t),
            t.created_by,
        )
        for t in found
    ]
    print(table(["NAME", "ROLE", "CREATED", "EXPIRES", "STATE", "CREATED BY"], rows))


def cmd_tokens_revoke(client: Client, args: argparse.Namespace) -> None:
    for token in client.revoke_token(args.name).tokens:
        print(f"revoked token {token.name!r} ({token_role_from_pb(token.role)})")


def cmd_audit_list(client: Client, args: argparse.Namespace) -> None:
    from tradewind.cli import print_json, table, when

    entries = client.list_audit_log(page_size=args.limit).entries
    if args.json:
        return print_json(entries)
    print(
        table(["TIME", "WHO", "RPC", "SUBJECT"], [(when(e, "timestamp"), e.actor, e.rpc, e.subject) for e in entries])
    )


def add_commands(groups: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    tokens = groups.add_parser("tokens", help="make, list and revoke tokens (admin)").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    create = command(tokens, "create", cmd_tokens_create, "make a token and print its secret, shown this once")
    create.add_argument("--role", required=True, choices=TOKEN_ROLES)
    create.add_argument("--name", required=True, help="its name; a worker token's name is its worker's")
    create.add_argument("--expires", metavar="DURATION", help="such as 30d, 12h, 1w (default: never)")
    create.add_argument("--output", metavar="PATH", help="write the secret to a new file PATH (mode 600) instead")
    command(tokens, "list", cmd_tokens_list, "every token, without secrets", True)
    command(tokens, "revoke", cmd_tokens_revoke, "revoke the token of that name").add_argument("name")
    audit = groups.add_parser("audit", help="the audit log of changes").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    listing = command(audit, "list", cmd_audit_list, "changes, newest first: who, which RPC, on what", True)
    listing.add_argument("--limit", type=int, default=100, metavar="N", help="at most N entries (default 100)")
