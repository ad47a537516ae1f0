"""Task callbacks, run in the task's own process on the worker, as Airflow 3 runs them.

on_execute_callback runs before the task; after it, the callback for how the try ended:
on_success_callback, on_skipped_callback, on_retry_callback (a failure that will be retried) or
on_failure_callback. A task stopped for its execution_timeout gets SIGTERM; the worker first
writes why into the attempt's STOP_FILE, so the task process runs its failure (or retry)
callback within the kill grace period, but no callback when it was cancelled. A callback's
error is written to the task log with its traceback and never changes the try's outcome.
"""

from __future__ import annotations

import logging
import signal
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradewind.exceptions import DagDefinitionError

KINDS = (
    "on_execute_callback",
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_skipped_callback",
)
#: Written by the worker into the attempt's working directory before it stops the task: the
#: outcome it will report ("timed_out" or "cancelled").
STOP_FILE = "stopping"
#: Written by the task process into the attempt's working directory once its closing callback
#: ran (or it had none to run); without it, the worker runs a failure's callback itself.
RAN_FILE = "callbacks_ran"

log = logging.getLogger("tradewind.task")


def checked_callbacks(value: Any, name: str, where: str) -> list[Callable[..., Any]]:
    """A callback argument as a list: None, one callable, or a list of them (Airflow accepts each)."""
    if value is None:
        return []
    items = list(value) if isinstance(value, list | tuple) else [value]
    for item in items:
        if not callable(item):
            raise DagDefinitionError(f"{where}: {name} must be a callable or a list of callables, not {item!r}")
    return items


def kind_for(outcome: str, retry_left: bool) -> str | None:
    """Which callback runs after a try ended with `outcome` (an execution outcome or a stop)."""
    if outcome == "success":
        return "on_success_callback"
    if outcome == "skipped":
        return "on_skipped_callback"
    if outcome in ("failed", "timed_out"):
        return "on_retry_callback" if retry_left else "on_failure_callback"
    if outcome == "failed_no_retry":
        return "on_failure_callback"
    return None


def run_callbacks(task: Any, kind: str, context: dict[str, Any], exception: BaseException | None = None) -> None:
    """Call each of the task's `kind` callbacks with the context; an error is logged, never raised."""
    from tradewind.compat.airflow import airflow_imports

    callbacks = getattr(task, kind, None) or []
    if not callbacks:
        return
    if exception is not None:
        context = {**context, "exception": exception}
    for callback in callbacks:
        name = getattr(callback, "__qualname__", repr(callback))
        try:
            with airflow_imports():
                callback(context)
        except Exception:  # noqa: BLE001 - a callback's failure is logged and changes nothing
            log.error("%s %s failed; the task's state is unchanged:\n%s", kind, name, traceback.format_exc().rstrip())


def mark_ran(workdir: Path) -> None:
    (workdir / RAN_FILE).touch()


class Stopped(BaseException):
    """Raised in the task process when the worker stops it (SIGTERM); `outcome` is why."""

    def __init__(self, outcome: str) -> None:
        super().__init__(f"the task was stopped: {outcome}")
        self.outcome = outcome


def stop_outcome(workdir: Path) -> str:
    try:
        return (workdir / STOP_FILE).read_text().strip() or "cancelled"
    except OSError:
        return "cancelled"


def raise_on_sigterm(workdir: Path) -> None:
    """Turn the worker's SIGTERM into Stopped inside the running task, so its callbacks can run."""

    def handler(*_: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Stopped(stop_outcome(workdir))

    signal.signal(signal.SIGTERM, handler)
