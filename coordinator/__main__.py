"""`coordinator serve` and `coordinator standalone`: flags -> Settings -> app.serve."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee

from tradewind.config import Settings
from tradewind.exceptions import TradewindError
from tradewind.wire import TOKEN_ROLES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coordinator", description="The Tradewind coordinator.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the coordinator; workers join it with `worker join`")
    standalone = commands.add_parser("standalone", help="run the coordinator and local workers in one command")
    _token_commands(commands)
    certs = commands.add_parser("certs", help="make a CA and certificates for TLS").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    create = certs.add_parser("create", help="write a CA, a server certificate and client certificates to DIR")
    create.add_argument("folder", metavar="DIR")
    create.add_argument(
        "--host",
        dest="hosts",
        action="append",
        metavar="NAME",
        help="a name or address the server certificate covers (repeatable; default: loopback and this machine)",
    )
    create.add_argument(
        "--client",
        dest="clients",
        action="append",
        default=[],
        metavar="NAME",
        help="a client certificate NAME.pem (repeatable)",
    )
    for sub in (serve, standalone):
        sub.add_argument("--dags", dest="dags_folder", metavar="DIR", help="the DAG folder (default ./dags)")
        sub.add_argument("--db", metavar="URL", help="metastore URL: sqlite:///PATH or postgresql://USER@HOST/DB")
        sub.add_argument(
            "--bind", metavar="HOST:PORT", help="address to listen on (default 127.0.0.1:50051; port 0 picks one)"
        )
        sub.add_argument(
            "--home", metavar="DIR", help="where the SQLite metastore and logs live (default ./.tradewind)"
        )
        sub.add_argument(
            "--executor",
            choices=["parallel", "sequential"],
            help="run task instances in parallel (default) or one at a time",
        )
        sub.add_argument(
            "--heartbeat-timeout", type=float, metavar="SECONDS", help="a worker silent this long is lost (default 10)"
        )
        sub.add_argument(
            "--parse-timeout",
            type=float,
            metavar="SECONDS",
            help="how long one DAG file may take to import (default 30)",
        )
        sub.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
        sub.add_argument("--tls-cert", metavar="PEM", help="serve TLS with this certificate (and --tls-key)")
        sub.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
        sub.add_argument(
            "--tls-client-ca",
            metavar="PEM",
            help="require clients and workers to present a certificate signed by this CA",
        )
        sub.add_argument(
            "--insecure",
            action="store_true",
            default=None,
            help="allow listening beyond loopback without TLS (tokens then cross the network in clear)",
        )
        sub.add_argument(
            "--admin-token-file",
            metavar="PATH",
            help="an admin token: read from PATH, or made and written there when PATH does not exist",
        )
    serve.add_argument(
        "--standby",
        action="store_true",
        default=None,
        help="if another coordinator owns the metastore, wait as a hot standby and take over when it dies",
    )
    standalone.add_argument("--tls-ca", metavar="PEM", help="with --tls-cert: the CA its local workers trust")
    standalone.add_argument("--workers", type=int, default=2, metavar="N", help="local worker processes (default 2)")
    standalone.add_argument(
        "--slots", dest="worker_slots", type=int, metavar="N", help="slots of each local worker (default 16)"
    )
    return parser


def _token_commands(commands: Any) -> None:
    tokens = commands.add_parser(
        "tokens", help="make, list and revoke tokens in the metastore directly (the first admin token)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    create = tokens.add_parser("create", help="make a token and print its secret (shown this once)")
    create.add_argument("--role", required=True, choices=TOKEN_ROLES)
    create.add_argument("--name", required=True, help="its name; a worker token's name is its worker's")
    create.add_argument("--expires", metavar="DURATION", help="such as 30d, 12h, 1w (default: never)")
    create.add_argument("--output", metavar="PATH", help="write the secret to a new file PATH (mode 600) instead")
    listing = tokens.add_parser("list", help="every token, without secrets")
    revoke = tokens.add_parser("revoke", help="revoke the token of that name")
    revoke.add_argument("name")
    for sub in (create, listing, revoke):
        sub.add_argument("--db", metavar="URL", help="metastore URL (default: the SQLite file in --home)")
        sub.add_argument("--home", metavar="DIR", help="where the SQLite metastore lives (default ./.tradewind)")


def _offline(args: argparse.Namespace) -> None:
    """`coordinator tokens ...` and `coordinator certs create`: no server, one line of output each."""
    if args.command == "certs":
        from coordinator.certs import create, default_hosts

        files = create(Path(args.folder), args.hosts or default_hosts(), args.clients)
        print("\n".join(str(f) for f in files))
        return
    from coordinator import tokens
    from coordinator.metastore.db import connect
    from coordinator.metastore.security_store import SecurityStore
    from tradewind.cli_tokens import duration
    from tradewind.credentials import write_secret

    settings = Settings.load({"db": args.db, "home": args.home})
    db = connect(settings.db_url)
    try:
        store, now = SecurityStore(), datetime.now(UTC)
        if args.action == "create":
            expires = duration(args.expires) if args.expires else None
            secret, token = tokens.make(args.name, args.role, now, expires)
            store.add_token(token, now)
            if args.output:
                write_secret(Path(args.output), secret)
                print(f"token {token.name!r} ({token.role}) written to {args.output}")
            else:
                print(secret)
        elif args.action == "list":
            for token in store.tokens():
                state = token.why_invalid(now) or "valid"
                print(f"{token.name}\t{token.role}\t{token.created_at:%Y-%m-%d %H:%M:%S}\t{state}")
        else:
            for token in store.revoke_token(args.name, now):
                print(f"revoked token {token.name!r} ({token.role})")
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("tokens", "certs"):
        try:
            _offline(args)
        except (TradewindError, OSError, peewee.PeeweeException) as exc:
            print(f"coordinator: error: {_one_line(exc)}", file=sys.stderr)
            return 1
        return 0
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    flags = {k: v for k, v in vars(args).items() if k not in ("command", "workers", "log_level")}
    workers = getattr(args, "workers", 0)
    try:
        if workers < 0:
            raise TradewindError(f"--workers must be 0 or more, not {workers}")
        settings = Settings.load(flags)
        from coordinator.app import serve

        # gRPC's threads and the event loop trade the GIL for every message; a 0.5 ms switch
        # interval (CPython's default is 5 ms) keeps each hand-off short.
        sys.setswitchinterval(0.0005)
        asyncio.run(serve(settings, workers=workers, triggerer=args.command == "standalone"))
    except (TradewindError, OSError, peewee.PeeweeException) as exc:
        print(f"coordinator: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the traceback goes to the log, the user gets one line
        logging.getLogger("tradewind.coordinator").exception("the coordinator stopped")
        print(f"coordinator: error: stopped by {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1
    return 0


def _one_line(exc: BaseException) -> str:
    """Drivers (psycopg2, sqlite3) put hints on further lines; the user gets one line."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
