"""`worker join --host HOST:PORT`: flags -> Settings -> the agent."""

from __future__ import annotations

import argparse
import logging
import sys

from tradewind.config import Settings, add_credential_flags
from tradewind.exceptions import TradewindError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="worker", description="A Tradewind worker agent.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    join = commands.add_parser("join", help="join a coordinator and run the tasks it assigns")
    join.add_argument(
        "--host", metavar="HOST:PORT", help="the coordinator, or several as A:1,B:2 (default 127.0.0.1:50051)"
    )
    join.add_argument(
        "--queues", dest="worker_queues", metavar="A,B", help="queues to take tasks from (default: default)"
    )
    join.add_argument("--slots", dest="worker_slots", type=int, metavar="N", help="tasks run at once (default 16)")
    join.add_argument("--name", dest="worker_name", metavar="NAME", help="unique worker name (default HOSTNAME-PID)")
    join.add_argument("--home", metavar="DIR", help="where bundles are cached (default ./.tradewind)")
    join.add_argument(
        "--grace",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="on SIGTERM, how long running tasks may take to finish (default 60)",
    )
    join.add_argument(
        "--parent-pid",
        type=int,
        metavar="PID",
        help="exit, killing running tasks, as soon as process PID is gone",
    )
    add_credential_flags(join)
    join.add_argument(
        "--task-token-file",
        metavar="FILE",
        help="the token tasks call the coordinator with, e.g. TriggerDagRunOperator (an operator token)",
    )
    join.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    flags = {k: v for k, v in vars(args).items() if k not in ("command", "grace", "log_level", "parent_pid")}
    try:
        if args.grace < 0:
            raise TradewindError(f"--grace must be 0 or more, not {args.grace}")
        if args.parent_pid is not None and args.parent_pid <= 0:
            raise TradewindError(f"--parent-pid must be a process id above 0, not {args.parent_pid}")
        settings = Settings.load(flags)
        from worker.agent import run

        run(settings, args.grace, args.parent_pid)
    except TradewindError as exc:
        print(f"worker: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
