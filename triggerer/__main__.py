"""`triggerer join --host HOST:PORT`: flags -> Settings -> the triggerer agent."""

from __future__ import annotations

import argparse
import logging
import sys

from tradewind.config import Settings, add_credential_flags
from tradewind.exceptions import TradewindError

DEFAULT_CAPACITY = 1000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triggerer", description="A Tradewind triggerer.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    join = commands.add_parser("join", help="join a coordinator and run the triggers of deferred tasks")
    join.add_argument(
        "--host", metavar="HOST:PORT", help="the coordinator, or several as A:1,B:2 (default 127.0.0.1:50051)"
    )
    join.add_argument(
        "--name", default="", metavar="NAME", help="unique triggerer name (default HOSTNAME-triggerer-PID)"
    )
    join.add_argument(
        "--capacity",
        type=int,
        default=DEFAULT_CAPACITY,
        metavar="N",
        help=f"triggers run at once (default {DEFAULT_CAPACITY})",
    )
    join.add_argument("--home", metavar="DIR", help="where bundles are cached (default ./.tradewind)")
    add_credential_flags(join)
    join.add_argument("--parent-pid", type=int, metavar="PID", help="exit as soon as process PID is gone")
    join.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if not 1 <= args.capacity <= 100_000:
            raise TradewindError(f"--capacity must be 1 to 100000, not {args.capacity}")
        if args.parent_pid is not None and args.parent_pid <= 0:
            raise TradewindError(f"--parent-pid must be a process id above 0, not {args.parent_pid}")
        flags = ("host", "home", "token", "token_file", "tls_ca", "tls_cert", "tls_key")
        settings = Settings.load({k: v for k, v in vars(args).items() if k in flags})
        from triggerer.agent import run

        run(settings, args.name, args.capacity, args.parent_pid)
    except TradewindError as exc:
        print(f"triggerer: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
