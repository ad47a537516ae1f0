"""Runs triggers on one asyncio loop: builds each from its class path and arguments, waits for
its first event, reports it (or its failure), and cancels on request.

An asset watcher's trigger (RunTrigger.asset_watcher) is different: every event it yields is
reported with a new event id, its run() is started again WATCHER_REARM seconds after it ends
(re-armed), and after a failure it is built again after a back-off, until it is cancelled.

A trigger is a task named after its id, class and waiter, so the blocking watch (watch_blocking)
(a trigger that blocks the loop for more than BLOCKING_SECONDS) names it. Classes outside the
`tradewind` package come from the waiter's DAG bundle, imported apart from other bundles'
modules (see tradewind.execution), and cached per bundle.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tradewind import xcom_codec
from tradewind.compat.airflow import airflow_imports
from tradewind.v1 import triggerer_pb2

log = logging.getLogger("tradewind.triggerer")
#: A trigger holding the loop longer than this is logged by name.
BLOCKING_SECONDS = 0.2
#: A failed asset watcher is built again after this many seconds, doubling up to the maximum.
WATCHER_BACKOFF = 1.0
WATCHER_BACKOFF_MAX = 60.0
#: The pause before a watcher's run() starts again, so one that fires at once cannot hold the loop.
WATCHER_REARM = 0.1

Report = Callable[[triggerer_pb2.TriggererMessage], None]
BundleDir = Callable[[str], Awaitable[Path]]


class TriggerRunner:
    def __init__(self, report: Report, bundle_dir: BundleDir) -> None:
        self.report = report
        self.bundle_dir = bundle_dir
        self.running: dict[int, asyncio.Task[None]] = {}
        self._classes: dict[tuple[str, str], type] = {}

    def start(self, run: triggerer_pb2.RunTrigger) -> None:
        if run.trigger_id in self.running:
            return
        name = f"trigger {run.trigger_id} {run.classpath} for {run.waiter}"
        work = self._watch(run) if run.HasField("asset_watcher") else self._run(run)
        task = asyncio.get_running_loop().create_task(work, name=name)
        self.running[run.trigger_id] = task
        task.add_done_callback(lambda _: self.running.pop(run.trigger_id, None))

    def cancel(self, trigger_id: int) -> None:
        task = self.running.pop(trigger_id, None)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> None:
        for trigger_id in list(self.running):
            self.cancel(trigger_id)

    async def _run(self, run: triggerer_pb2.RunTrigger) -> None:
        trigger: Any = None
        try:
            cls = await self._class(run.classpath, run.bundle_hash)
            kwargs = xcom_codec.loads(run.kwargs_json or "{}")
            trigger = cls(**kwargs)
            trigger.trigger_id = run.trigger_id
            async for event in trigger.run():
                payload = getattr(event, "payload", event)
                fired = triggerer_pb2.TriggerFired(trigger_id=run.trigger_id, event_json=xcom_codec.dumps(payload))
                log.info("trigger %d (%s) fired for %s", run.trigger_id, run.classpath, run.waiter)
                self.report(triggerer_pb2.TriggererMessage(fired=fired))
                return
            raise RuntimeError("the trigger's run() ended without an event")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken trigger fails its task, never the triggerer
            log.error(
                "trigger %d (%s) for %s failed:\n%s", run.trigger_id, run.classpath, run.waiter, traceback.format_exc()
            )
            error = f"{type(exc).__name__}: {exc}"
            self.report(
                triggerer_pb2.TriggererMessage(
                    failed=triggerer_pb2.TriggerFailed(trigger_id=run.trigger_id, error=error)
                )
            )
        finally:
            if trigger is not None:
                with contextlib.suppress(Exception):
                    await trigger.cleanup()

    async def _watch(self, run: triggerer_pb2.RunTrigger) -> None:
        """An asset watcher's trigger: report every event, re-arm when run() ends, rebuild after
        a failure, until cancelled."""
        backoff = WATCHER_BACKOFF
        while True:
            trigger: Any = None
            try:
                cls = await self._class(run.classpath, run.bundle_hash)
                trigger = cls(**xcom_codec.loads(run.kwargs_json or "{}"))
                trigger.trigger_id = run.trigger_id
                trigger.watching = True
                while True:
                    fired = False
                    async for event in trigger.run():
                        self._report_watcher_event(run, getattr(event, "payload", event))
                        fired, backoff = True, WATCHER_BACKOFF
                    if not fired:
                        raise RuntimeError("the trigger's run() ended without an event")
                    await asyncio.sleep(WATCHER_REARM)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a broken watcher is logged and retried, never fatal
                log.error("%s failed:\n%s", run.waiter, traceback.format_exc())
                failed = triggerer_pb2.TriggerFailed(
                    trigger_id=run.trigger_id, error=f"{type(exc).__name__}: {exc}", asset_watcher=run.asset_watcher
                )
                self.report(triggerer_pb2.TriggererMessage(failed=failed))
            finally:
                if trigger is not None:
                    with contextlib.suppress(Exception):
                        await trigger.cleanup()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, WATCHER_BACKOFF_MAX)

    def _report_watcher_event(self, run: triggerer_pb2.RunTrigger, payload: Any) -> None:
        fired = triggerer_pb2.TriggerFired(
            trigger_id=run.trigger_id,
            event_json=xcom_codec.dumps(payload),
            asset_watcher=run.asset_watcher,
            event_id=uuid.uuid4().hex,
        )
        log.info("%s fired: %r", run.waiter, payload)
        self.report(triggerer_pb2.TriggererMessage(fired=fired))

    async def _class(self, classpath: str, bundle_hash: str) -> type:
        builtin = classpath.startswith("tradewind.")
        key = ("" if builtin else bundle_hash, classpath)
        cls = self._classes.get(key)
        if cls is None:
            module_name, _, name = classpath.rpartition(".")
            if builtin:
                module = importlib.import_module(module_name)
            else:
                module = _import_from(await self.bundle_dir(bundle_hash), module_name)
            cls = getattr(module, name)
            if not isinstance(cls, type):
                raise TypeError(f"{classpath} is not a class")
            self._classes[key] = cls
        return cls


def _import_from(bundle_dir: Path, module_name: str) -> Any:
    """Import `module_name` from the bundle, then take the bundle's modules out of sys.modules
    (the module keeps them), so another bundle's module of the same name is imported afresh."""
    from tradewind.execution import _bundle_imports

    with airflow_imports(), _bundle_imports(bundle_dir):
        sys.path.insert(0, str(bundle_dir.resolve()))
        return importlib.import_module(module_name)


class _Stall:
    def __init__(self) -> None:
        self.beat = time.monotonic()
        self.since = 0.0
        self.by = ""


def watch_blocking(loop: asyncio.AbstractEventLoop) -> None:
    """Log, by task name, any step of the loop that holds it longer than BLOCKING_SECONDS.

    asyncio's debug mode would do it, but it records a stack for every callback the loop
    schedules, which costs every trigger and every gRPC message. Instead the loop notes each
    turn of a short timer, and a thread of its own looks at the running task when the note is late."""
    stall = _Stall()

    def beat() -> None:
        if stall.by:
            log.warning("%s held the triggerer's loop for %.2f s", stall.by, time.monotonic() - stall.since)
            stall.by = ""
        stall.beat = time.monotonic()
        loop.call_later(BLOCKING_SECONDS / 4, beat)

    def watch() -> None:
        while not loop.is_closed():
            time.sleep(BLOCKING_SECONDS / 4)
            if stall.by or time.monotonic() - stall.beat <= BLOCKING_SECONDS:
                continue
            task = asyncio.current_task(loop)
            stall.since = stall.beat
            stall.by = task.get_name() if task is not None else "a callback outside any trigger"
            log.warning("%s has held the triggerer's loop for more than %.1f s", stall.by, BLOCKING_SECONDS)

    loop.call_soon(beat)
    threading.Thread(target=watch, name="triggerer-blocking-watch", daemon=True).start()
