"""`coordinator serve` and `coordinator standalone`: flags -> Settings -> app.serve."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import peewee

from tradewind.config import Settings
from tradewind.exceptions import TradewindError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coordinator", description="The Tradewind coordinator.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the coordinator; workers join it with `worker join`")
    standalone = commands.add_parser("standalone", help="run the coordinator and local workers in one command")
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
    serve.add_argument(
        "--standby",
        action="store_true",
        default=None,
        help="if another coordinator owns the metastore, wait as a hot standby and take over when it dies",
    )
    standalone.add_argument("--workers", type=int, default=2, metavar="N", help="local worker processes (default 2)")
    standalone.add_argument(
        "--slots", dest="worker_slots", type=int, metavar="N", help="slots of each local worker (default 16)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
