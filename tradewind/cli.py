"""`tradewind`: view and steer a coordinator over its ControlService, from a shell or a script.

Every list takes --json: an array of objects named as in control.proto, with states and kinds
as lowercase names ("success", "bash") and times as RFC 3339 strings. Errors are one line on
stderr: exit code 1 for a failed call, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from tradewind import cli_tokens
from tradewind.config import CREDENTIAL_FLAGS, Settings, add_credential_flags
from tradewind.exceptions import ApiError, ConfigError, InvalidArgument, TradewindError
from tradewind.states import RunState
from tradewind.v1 import control_pb2
from tradewind.wire import (
    Reprocess,
    WaitReason,
    backfill_state_from_pb,
    conf_from_json,
    from_timestamp,
    run_state_from_pb,
    task_kind_name,
    task_state_from_pb,
    wait_reason_from_pb,
)

if TYPE_CHECKING:
    from tradewind.client import Client

_ENUM = re.compile(r"^(TASK_STATE|RUN_STATE|TASK_KIND|TOKEN_ROLE|BACKFILL_STATE|REPROCESS_BEHAVIOR)_([A-Z_]+)$")


class UsageError(TradewindError):
    """A bad flag value found after parsing (exit code 2)."""


# ---- output --------------------------------------------------------------------------------


def to_json(value: Message | Sequence[Message]) -> Any:
    if isinstance(value, Message):
        return _lower_enums(
            MessageToDict(value, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
        )
    return [to_json(item) for item in value]


def _lower_enums(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lower_enums(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_enums(v) for v in value]
    if isinstance(value, str):
        match = _ENUM.match(value)
        if match:
            return match.group(2).lower()
    return value


def shown_name(object_id: str, display_name: str) -> str:
    """How the CLI and the monitor name a DAG or task: its id, and its display name when it has one."""
    return f"{object_id} ({display_name})" if display_name and display_name != object_id else object_id


def print_json(value: Any) -> None:
    print(json.dumps(to_json(value), indent=2))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    cells = [[str(c) for c in headers]] + [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines)


def when(message: Message, field: str) -> str:
    if not message.HasField(field):
        return ""
    moment = from_timestamp(getattr(message, field))
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def duration(message: Message, start: str, end: str) -> str:
    if not message.HasField(start):
        return ""
    began = from_timestamp(getattr(message, start))
    ended = from_timestamp(getattr(message, end)) if message.HasField(end) else datetime.now(UTC)
    if began is None or ended is None:
        return ""
    seconds = (ended - began).total_seconds()
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


# ---- commands ------------------------------------------------------------------------------


def cmd_dags_list(client: Client, args: argparse.Namespace) -> None:
    dags = client.list_dags(include_inactive=args.all).dags
    if args.json:
        return print_json(dags)
    print(
        table(
            ["DAG", "SCHEDULE", "PAUSED", "NEXT RUN", "RECENT RUNS", "RUNNING", "TAGS"],
            [
                (
                    shown_name(d.dag_id, d.display_name) + ("" if d.active else " (gone)"),
                    d.schedule or "None",
                    "yes" if d.paused else "no",
                    when(d, "next_run_at"),
                    " ".join(run_state_from_pb(s).value for s in d.recent_run_states[:5]),
                    d.running_tasks,
                    ",".join(d.tags),
                )
                for d in dags
            ],
        )
    )


def cmd_dags_show(client: Client, args: argparse.Namespace) -> None:
    response = client.get_dag(args.dag_id)
    if args.json:
        return print_json(response)
    d = response.dag
    print(f"{shown_name(d.dag_id, d.display_name)}: {d.description}".rstrip(": "))
    print(
        f"file {d.fileloc}, schedule {d.schedule or 'None'}, {'paused' if d.paused else 'active'}, version {d.version}"
    )
    print(
        table(
            ["TASK", "OPERATOR", "UPSTREAM", "TRIGGER RULE", "RETRIES", "QUEUE", "POOL"],
            [
                (
                    shown_name(t.task_id, t.display_name),
                    t.operator,
                    ",".join(t.upstream_task_ids),
                    t.trigger_rule,
                    t.retries,
                    t.queue,
                    t.pool,
                )
                for t in response.tasks
            ],
        )
    )


def cmd_dags_trigger(client: Client, args: argparse.Namespace) -> None:
    conf = parse_conf(args.conf)
    run = client.trigger_dag(args.dag_id, conf, args.run_id or "").dag_run
    if args.json:
        return print_json(run)
    print(f"triggered {run.dag_id}: run {run.run_id} ({run_state_from_pb(run.state).value})")


def parse_conf(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        return conf_from_json(text, "--conf")
    except InvalidArgument as exc:
        raise UsageError(str(exc)) from None


def cmd_dags_pause(client: Client, args: argparse.Namespace) -> None:
    paused = args.command == "pause"
    d = client.set_dag_paused(args.dag_id, paused).dag
    print(f"{d.dag_id} is {'paused' if d.paused else 'unpaused'}")


def cmd_runs_list(client: Client, args: argparse.Namespace) -> None:
    for state in args.state or []:
        if state not in RunState.__members__.values():
            raise UsageError(f"--state must be one of {', '.join(s.value for s in RunState)}, not {state!r}")
    if not 1 <= args.limit <= 1000:
        raise UsageError(f"--limit must be between 1 and 1000, not {args.limit}")
    runs = client.list_dag_runs(args.dag or "", args.state or (), args.limit).dag_runs
    if args.json:
        return print_json(runs)
    print(
        table(
            ["DAG", "RUN ID", "STATE", "TYPE", "LOGICAL DATE", "STARTED", "DURATION"],
            [
                (
                    r.dag_id,
                    r.run_id,
                    run_state_from_pb(r.state).value,
                    r.run_type,
                    when(r, "logical_date"),
                    when(r, "start_date"),
                    duration(r, "start_date", "end_date"),
                )
                for r in runs
            ],
        )
    )


def cmd_runs_callback_log(client: Client, args: argparse.Namespace) -> None:
    sys.stdout.buffer.write(client.dag_run_callback_log(args.dag_id, args.run_id).data)
    sys.stdout.buffer.flush()


def cmd_runs_cancel(client: Client, args: argparse.Namespace) -> None:
    run = client.cancel_dag_run(args.dag_id, args.run_id).dag_run
    print(f"cancelled {run.dag_id} run {run.run_id} ({run_state_from_pb(run.state).value})")


def label(ti: control_pb2.TaskInstance) -> str:
    """A task instance's task id, with its map index (and the name its map_index_template gave
    it) when it is one of a mapped task's instances."""
    if ti.map_index < 0:
        return ti.task_id
    name = f" {ti.rendered_map_index}" if ti.rendered_map_index else ""
    return f"{ti.task_id}[{ti.map_index}]{name}"


def cmd_tasks_list(client: Client, args: argparse.Namespace) -> None:
    tis = client.list_task_instances(args.dag_id, args.run_id).task_instances
    if args.json:
        return print_json(tis)
    names = {t.task_id: t.display_name for t in client.get_dag(args.dag_id).tasks if t.display_name}
    print(
        table(
            ["TASK", "STATE", "TRY", "WORKER", "STARTED", "DURATION"],
            [
                (
                    shown_name(label(t), names.get(t.task_id, "")),
                    task_state_from_pb(t.state).value,
                    f"{t.try_number}/{t.max_tries}",
                    t.worker,
                    when(t, "start_date"),
                    duration(t, "start_date", "end_date"),
                )
                for t in tis
            ],
        )
    )


def cmd_tasks_show(client: Client, args: argparse.Namespace) -> None:
    response = client.get_task_instance(args.dag_id, args.run_id, args.task_id, args.map_index)
    if args.json:
        return print_json(response)
    ti = response.task_instance
    print(
        f"{ti.dag_id}.{label(ti)} in {ti.run_id}: {task_state_from_pb(ti.state).value}, "
        f"try {ti.try_number} of {ti.max_tries}, {ti.operator}, queue {ti.queue}, pool {ti.pool}"
    )
    print(
        table(
            ["TRY", "STATE", "WORKER", "READY", "SENT", "STARTED", "ENDED", "EXIT", "ERROR"],
            [
                (
                    a.try_number,
                    task_state_from_pb(a.state).value,
                    a.worker,
                    when(a, "ready_at"),
                    when(a, "sent_at"),
                    when(a, "started_at"),
                    when(a, "ended_at"),
                    a.exit_code if a.HasField("exit_code") else "",
                    a.error,
                )
                for a in response.attempts
            ],
        )
    )
    rendered = [a for a in response.attempts if a.rendered]
    if rendered:
        print(f"rendered (try {rendered[-1].try_number}): {rendered[-1].rendered}")


def cmd_tasks_logs(client: Client, args: argparse.Namespace) -> None:
    out = sys.stdout.buffer
    where = (args.dag_id, args.run_id, args.task_id)
    if args.try_number or args.follow:
        for chunk in client.tail_logs(*where, args.try_number or 0, args.follow, args.map_index):
            out.write(chunk.data)
            out.flush()
        return
    ti = client.get_task_instance(*where, args.map_index).task_instance
    for number in range(1, ti.try_number + 1):
        out.write(f"--- try {number} ---\n".encode())
        for chunk in client.tail_logs(*where, number, map_index=args.map_index):
            out.write(chunk.data)
        out.flush()


def cmd_tasks_why(client: Client, args: argparse.Namespace) -> None:
    response = client.explain_task_instance(args.dag_id, args.run_id, args.task_id, args.map_index)
    if args.json:
        return print_json(response)
    ti = response.task_instance
    state = task_state_from_pb(ti.state).value
    reasons = [(wait_reason_from_pb(c.reason), c.message) for c in response.conditions]
    if all(reason is WaitReason.NOT_WAITING for reason, _ in reasons):
        detail = "; ".join(message for _, message in reasons)
        print(f"{ti.dag_id}.{label(ti)} in {ti.run_id} is {state}, not waiting" + (f": {detail}" if detail else ""))
        return
    print(f"{ti.dag_id}.{label(ti)} in {ti.run_id} is {state}, waiting because:")
    print(table(["REASON", "CONDITION"], [(reason.value, message) for reason, message in reasons]))


def cmd_tasks_clear(client: Client, args: argparse.Namespace) -> None:
    cleared = client.clear_task_instances(args.dag_id, args.run_id, args.task_ids, args.downstream).task_instances
    print(f"cleared {', '.join(label(t) for t in cleared)}")


def cmd_tasks_mark(client: Client, args: argparse.Namespace) -> None:
    ti = client.mark_task_instance(args.dag_id, args.run_id, args.task_id, args.state, args.map_index).task_instance
    print(f"{label(ti)} is now {task_state_from_pb(ti.state).value}")


def cmd_workers_list(client: Client, args: argparse.Namespace) -> None:
    response = client.list_workers()
    workers = response.workers
    if args.json:
        return print_json(workers)
    print(
        table(
            ["WORKER", "STATE", "HOST", "QUEUES", "SLOTS", "KINDS", "CPU", "MEM", "LAST HEARTBEAT"],
            [
                (
                    w.name,
                    w.state,
                    w.host,
                    ",".join(w.queues),
                    f"{w.running}/{w.slots}",
                    ",".join(task_kind_name(k) for k in w.kinds),
                    f"{w.cpu_percent:.0f}%",
                    f"{w.memory_percent:.0f}%",
                    when(w, "last_heartbeat_at"),
                )
                for w in workers
            ],
        )
    )
    if response.triggerers:
        print()
        print(
            table(
                ["TRIGGERER", "HOST", "TRIGGERS", "CPU", "RSS"],
                [
                    (t.name, t.host, f"{t.triggers}/{t.capacity}", f"{t.cpu_percent:.0f}%", f"{t.rss_bytes >> 20} MB")
                    for t in response.triggerers
                ],
            )
        )


def cmd_workers_drain(client: Client, args: argparse.Namespace) -> None:
    worker = client.drain_worker(args.name).worker
    print(f"{worker.name} is {worker.state}")


def cmd_import_errors(client: Client, args: argparse.Namespace) -> None:
    errors = client.list_import_errors().import_errors
    if args.json:
        return print_json(errors)
    if not errors:
        print("no import errors")
    for error in errors:
        print(f"=== {error.fileloc} ({when(error, 'timestamp')})\n{error.traceback.rstrip()}\n")


def cmd_pools_list(client: Client, args: argparse.Namespace) -> None:
    pools = client.list_pools().pools
    if args.json:
        return print_json(pools)
    print(
        table(
            ["POOL", "SLOTS", "OCCUPIED", "WAITING", "DEFERRED", "DESCRIPTION"],
            [
                (p.name, p.slots, p.occupied, p.waiting, "counted" if p.include_deferred else "-", p.description)
                for p in pools
            ],
        )
    )


def cmd_pools_set(client: Client, args: argparse.Namespace) -> None:
    pool = client.set_pool(args.name, args.slots, args.description or "", args.include_deferred).pool
    deferred = "; deferred task instances keep their slots" if pool.include_deferred else ""
    print(f"pool {pool.name} has {pool.slots} slots{deferred}")


def cmd_pools_delete(client: Client, args: argparse.Namespace) -> None:
    client.delete_pool(args.name)
    print(f"deleted pool {args.name}")


# ---- backfills -----------------------------------------------------------------------------


def parse_date(text: str, flag: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is UTC, as Airflow's CLI reads it."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{flag} must be a date or time like 2024-01-31 or 2024-01-31T06:00:00+00:00, not {text!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def cmd_dags_backfill(client: Client, args: argparse.Namespace) -> None:
    if args.max_active_runs is not None and not 1 <= args.max_active_runs <= 1000:
        raise UsageError(f"--max-active-runs must be between 1 and 1000, not {args.max_active_runs}")
    response = client.create_backfill(
        args.dag_id,
        parse_date(args.from_date, "--from"),
        parse_date(args.to_date, "--to"),
        args.reprocess,
        args.max_active_runs or 0,
        args.run_backwards,
        args.dry_run,
        parse_conf(args.conf),
    )
    if args.json:
        return print_json(response)
    if args.dry_run:
        print(f"a backfill of {args.dag_id} would take these logical dates (nothing was changed):")
    else:
        b = response.backfill
        print(f"backfill {b.id} of {b.dag_id}: {b.total_runs} runs, at most {b.max_active_runs} at once")
    _print_dates(response.dates)


def _print_dates(dates: Sequence[control_pb2.BackfillDate]) -> None:
    print(
        table(
            ["LOGICAL DATE", "RUN ID", "STATE"],
            [
                (
                    when(d, "logical_date"),
                    d.run_id,
                    f"skipped: {d.skipped}" if d.skipped else (run_state_from_pb(d.state).value if d.state else ""),
                )
                for d in dates
            ],
        )
    )


def cmd_assets_emit(client: Client, args: argparse.Namespace) -> None:
    try:
        extra = conf_from_json(args.extra or "", "--extra")
    except InvalidArgument as exc:
        raise UsageError(str(exc)) from None
    reply = client.emit_asset_event(args.uri, extra)
    if args.json:
        return print_json(reply)
    started = ", ".join(f"{r.dag_id} ({r.run_id})" for r in reply.dag_runs) or "no run"
    print(f"asset event {reply.event.id} for {reply.event.uri}; started {started}")


def cmd_assets_list(client: Client, args: argparse.Namespace) -> None:
    assets = client.list_assets(args.contains or "").assets
    if args.json:
        return print_json(assets)
    print(
        table(
            ["URI", "NAME", "SCHEDULES", "PRODUCED BY", "WATCHERS", "LAST EVENT"],
            [
                (
                    a.uri,
                    a.name,
                    ",".join(a.consuming_dag_ids),
                    ",".join(a.producing_tasks),
                    ",".join(f"{w.name}@{w.triggerer or '(no triggerer)'}" for w in a.watchers),
                    when(a, "last_event_at"),
                )
                for a in assets
            ],
        )
    )


def _progress(b: control_pb2.Backfill) -> str:
    done = b.success_runs + b.failed_runs
    return f"{done}/{b.total_runs} done ({b.success_runs} success, {b.failed_runs} failed)"


def cmd_backfills_list(client: Client, args: argparse.Namespace) -> None:
    backfills = client.list_backfills(args.dag or "").backfills
    if args.json:
        return print_json(backfills)
    print(
        table(
            ["ID", "DAG", "STATE", "FROM", "TO", "PROGRESS", "QUEUED", "RUNNING", "SKIPPED"],
            [
                (
                    b.id,
                    b.dag_id,
                    backfill_state_from_pb(b.state).value,
                    when(b, "from_date"),
                    when(b, "to_date"),
                    _progress(b),
                    b.queued_runs,
                    b.running_runs,
                    b.skipped_dates,
                )
                for b in backfills
            ],
        )
    )


def cmd_backfills_show(client: Client, args: argparse.Namespace) -> None:
    response = client.get_backfill(args.backfill_id)
    if args.json:
        return print_json(response)
    b = response.backfill
    print(
        f"backfill {b.id} of {b.dag_id}: {backfill_state_from_pb(b.state).value}, {_progress(b)}, "
        f"{b.queued_runs} queued, {b.running_runs} running, {b.skipped_dates} dates skipped"
    )
    _print_dates(response.dates)


def cmd_backfills_cancel(client: Client, args: argparse.Namespace) -> None:
    b = client.cancel_backfill(args.backfill_id).backfill
    print(f"cancelled backfill {b.id} of {b.dag_id}: its queued runs failed; running runs finish ({b.running_runs})")


def cmd_assets_events(client: Client, args: argparse.Namespace) -> None:
    events = client.list_asset_events(args.uri or "", args.limit).events
    if args.json:
        return print_json(events)
    rows = []
    for e in events:
        source = f"{e.source_dag_id}.{e.source_task_id} ({e.source_run_id})" if e.source_dag_id else "external"
        started = ",".join(f"{r.dag_id}/{r.run_id}" for r in e.created_runs)
        rows.append((e.id, e.uri, when(e, "timestamp"), source, e.extra_json, started))
    print(table(["ID", "URI", "TIME", "SOURCE", "EXTRA", "STARTED RUNS"], rows))


def _tui(client: Client, args: argparse.Namespace) -> None:
    from tui.app import run

    run(client.host, client.credentials)


# ---- parser --------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--host",
        default=argparse.SUPPRESS,
        metavar="HOST:PORT",
        help="the coordinator, or several as A:1,B:2 (default 127.0.0.1:50051 or TRADEWIND_HOST)",
    )
    add_credential_flags(common)
    # No abbreviations: `--to` of a subcommand must never read as a prefix of `--token`.
    parser = argparse.ArgumentParser(
        prog="tradewind",
        description=__doc__,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")

    def command(group: Any, name: str, handler: Any, help: str, json_flag: bool = False) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help, parents=[common], allow_abbrev=False)
        sub.set_defaults(handler=handler, command=name)
        if json_flag:
            sub.add_argument("--json", action="store_true", help="print JSON for scripts")
        return sub

    command(groups, "tui", _tui, "open the terminal UI: DAGs, grid, graph, logs and workers, live")
    dags = groups.add_parser("dags", help="list, show, trigger, pause, unpause and backfill DAGs").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    command(dags, "list", cmd_dags_list, "every DAG", True).add_argument(
        "--all", action="store_true", help="include DAGs whose file is gone"
    )
    command(dags, "show", cmd_dags_show, "a DAG and its tasks", True).add_argument("dag_id")
    trigger = command(dags, "trigger", cmd_dags_trigger, "start a manual run now", True)
    trigger.add_argument("dag_id")
    trigger.add_argument("--conf", metavar="JSON", help="the run's conf, a JSON object")
    trigger.add_argument("--run-id", metavar="ID", help="the run id (default manual__<logical date>)")
    command(dags, "pause", cmd_dags_pause, "pause a DAG").add_argument("dag_id")
    command(dags, "unpause", cmd_dags_pause, "unpause a DAG").add_argument("dag_id")
    backfill = command(dags, "backfill", cmd_dags_backfill, "run a DAG for every schedule interval of a range", True)
    backfill.add_argument("dag_id")
    backfill.add_argument("--from", dest="from_date", required=True, metavar="DATE", help="first logical date")
    backfill.add_argument("--to", dest="to_date", required=True, metavar="DATE", help="last logical date")
    backfill.add_argument(
        "--reprocess",
        choices=[r.value for r in Reprocess],
        default=Reprocess.NONE.value,
        help="dates that have a run: none (default) leaves them, failed re-runs failed runs, "
        "completed re-runs failed and successful runs",
    )
    backfill.add_argument("--max-active-runs", type=int, metavar="N", help="the backfill's runs at once (default 10)")
    backfill.add_argument("--run-backwards", action="store_true", help="newest logical date first")
    backfill.add_argument("--dry-run", action="store_true", help="print the logical dates; change nothing")
    backfill.add_argument("--conf", metavar="JSON", help="the conf of the runs it creates, a JSON object")

    backfills = groups.add_parser("backfills", help="backfills: progress and cancel").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    command(backfills, "list", cmd_backfills_list, "backfills, newest first", True).add_argument(
        "--dag", metavar="DAG", help="only this DAG's backfills"
    )
    command(backfills, "show", cmd_backfills_show, "a backfill and each of its dates", True).add_argument(
        "backfill_id", type=int
    )
    command(backfills, "cancel", cmd_backfills_cancel, "start no more runs of a backfill").add_argument(
        "backfill_id", type=int
    )

    runs = groups.add_parser("runs", help="list and cancel DAG runs").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    listing = command(runs, "list", cmd_runs_list, "DAG runs, newest first", True)
    listing.add_argument("--dag", metavar="DAG", help="only this DAG's runs")
    listing.add_argument("--state", action="append", metavar="STATE", help="only runs in this state (repeatable)")
    listing.add_argument("--limit", type=int, default=100, metavar="N", help="at most N runs (default 100)")
    cancel = command(runs, "cancel", cmd_runs_cancel, "fail a run and cancel its unfinished tasks")
    cancel.add_argument("dag_id")
    cancel.add_argument("run_id")
    callback_log = command(runs, "callback-log", cmd_runs_callback_log, "the output of a run's DAG callbacks")
    callback_log.add_argument("dag_id")
    callback_log.add_argument("run_id")

    tasks = groups.add_parser("tasks", help="task instances, their attempts and logs").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    for name, handler, text, as_json in (
        ("list", cmd_tasks_list, "the task instances of a run", True),
        ("show", cmd_tasks_show, "a task instance and every attempt", True),
        ("logs", cmd_tasks_logs, "a task instance's log, every try unless --try", False),
        ("clear", cmd_tasks_clear, "run task instances again", False),
        ("mark", cmd_tasks_mark, "set a task instance to success or failed", False),
        ("why", cmd_tasks_why, "why a task instance is not running yet", True),
    ):
        sub = command(tasks, name, handler, text, as_json)
        sub.add_argument("dag_id")
        sub.add_argument("run_id")
        if name == "clear":
            sub.add_argument("task_ids", nargs="+", metavar="TASK")
            sub.add_argument("--downstream", action="store_true", help="also clear every downstream task")
        elif name != "list":
            sub.add_argument("task_id")
            sub.add_argument(
                "--map-index",
                type=int,
                default=-1,
                metavar="N",
                help="the instance of a mapped task (default -1: a task that is not mapped)",
            )
        if name == "logs":
            sub.add_argument("--try", dest="try_number", type=int, metavar="N", help="only this try")
            sub.add_argument("--follow", "-f", action="store_true", help="keep printing until the attempt ends")
        if name == "mark":
            sub.add_argument("state", choices=["success", "failed"])

    workers = groups.add_parser("workers", help="workers and their load").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    command(workers, "list", cmd_workers_list, "connected and lost workers", True)
    command(workers, "drain", cmd_workers_drain, "stop a worker taking work").add_argument("name")

    command(groups, "import-errors", cmd_import_errors, "DAG files that failed to import", True)

    pools = groups.add_parser("pools", help="pools and their slots").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    command(pools, "list", cmd_pools_list, "every pool", True)
    setter = command(pools, "set", cmd_pools_set, "create a pool or change its slots")
    setter.add_argument("name")
    setter.add_argument("slots", type=int)
    setter.add_argument("--description", metavar="TEXT")
    setter.add_argument(
        "--include-deferred", action="store_true", help="deferred task instances keep their slots of this pool"
    )
    command(pools, "delete", cmd_pools_delete, "delete a pool").add_argument("name")
    cli_tokens.add_commands(groups, command)

    from tradewind import cli_secrets  # it builds on this module's output helpers

    cli_secrets.add_parsers(groups, command)

    assets = groups.add_parser("assets", help="assets, their events, and emitting one").add_subparsers(
        dest="command", required=True, metavar="ACTION"
    )
    emitter = command(assets, "emit", cmd_assets_emit, "say an asset's data changed: start the DAGs on it", True)
    emitter.add_argument("uri")
    emitter.add_argument("--extra", metavar="JSON", help="a JSON object attached to the event")
    command(assets, "list", cmd_assets_list, "every asset the DAGs name", True).add_argument(
        "--contains", metavar="TEXT"
    )
    events = command(assets, "events", cmd_assets_events, "asset events, newest first", True)
    events.add_argument("uri", nargs="?")
    events.add_argument("--limit", type=int, default=50)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # gRPC's C core prints each failed TLS handshake on stderr unless told otherwise before it is
    # first imported; a person gets the one-line error below instead.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    from tradewind.client import Client
    from tradewind.credentials import Credentials

    try:
        names = ("host", *(flag[2:].replace("-", "_") for flag, _ in CREDENTIAL_FLAGS))
        flags = {name: getattr(args, name, None) for name in names}
        settings = Settings.load(flags)
        with Client(settings.host, credentials=Credentials.from_settings(settings)) as client:
            args.handler(client, args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ApiError, ConfigError, TradewindError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except Exception as exc:  # noqa: BLE001 - every error is one line, even one we did not foresee
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
