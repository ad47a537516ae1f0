"""Builds the coordinator's components, starts them in order and stops them in reverse."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime
from typing import Any

from coordinator.clock import SystemClock
from coordinator.control_service import ControlService
from coordinator.dag_processor import DagProcessor, ScanResult
from coordinator.engine import Engine
from coordinator.events import DagsDeactivated, DagVersionStored
from coordinator.logs import LogStore
from coordinator.metastore.db import connect, redact
from coordinator.metastore.store import Store, aware
from coordinator.server import create_server
from coordinator.timetable import Timetable
from coordinator.worker_service import WorkerService
from tradewind.bundles import Bundle, build_bundle
from tradewind.config import Settings
from tradewind.forkserver import ForkServer
from tradewind.serialization import dag_hash
from tradewind.v1 import control_pb2, control_pb2_grpc, worker_pb2_grpc
from tradewind.wire import to_timestamp

log = logging.getLogger("tradewind.coordinator")


class Coordinator:
    def __init__(self, settings: Settings) -> None:
        settings = replace(settings, home=settings.home.resolve(), dags_folder=settings.dags_folder.resolve())
        self.settings = settings
        self.clock = SystemClock()
        self.db = connect(settings.db_url)
        self.store = Store(self.db)
        self.logs = LogStore(settings.log_dir)
        self.engine = Engine(
            self.store,
            self.clock,
            self.logs,
            sequential=settings.executor == "sequential",
            ack_timeout=settings.ack_timeout,
            heartbeat_timeout=settings.heartbeat_timeout,
            default_pool_slots=settings.default_pool_slots,
        )
        self.forkserver = ForkServer(preload=("tradewind",))
        self.processor: DagProcessor | None = None
        self.server: Any = None
        self.port = 0
        self._bundle_hash = ""
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> str:
        """Start everything; returns the address the server listens on."""
        self.engine.start()
        self.forkserver.start()
        self.settings.dags_folder.mkdir(parents=True, exist_ok=True)
        self.processor = DagProcessor(
            self.settings.dags_folder,
            parse_timeout=self.settings.parse_timeout,
            processes=self.settings.parse_processes,
            forkserver=self.forkserver,
        )
        self.server = create_server()
        worker_pb2_grpc.add_WorkerServiceServicer_to_server(
            WorkerService(self.engine, self.settings.heartbeat_timeout), self.server
        )
        control_pb2_grpc.add_ControlServiceServicer_to_server(ControlService(self.engine), self.server)
        host = self.settings.bind.rpartition(":")[0]
        self.port = self.server.add_insecure_port(self.settings.bind)
        if self.port == 0:
            raise OSError(f"cannot listen on {self.settings.bind}: the address is in use or not local")
        await self.server.start()
        await self._scan_once()
        self._tasks = [
            asyncio.create_task(self.engine.run(), name="engine"),
            asyncio.create_task(self._scan_forever(), name="dag-processor"),
        ]
        return f"{host}:{self.port}"

    async def wait(self) -> None:
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(grace=1.0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.forkserver.close()
        self.logs.close_all()
        self.db.close()

    async def _scan_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.dag_scan_interval)
            try:
                await self._scan_once()
            except Exception:  # noqa: BLE001 - a failed scan is retried at the next interval
                log.exception("scanning the DAG folder failed; retrying in %gs", self.settings.dag_scan_interval)

    async def _scan_once(self) -> None:
        assert self.processor is not None
        result: ScanResult = await asyncio.to_thread(self.processor.scan)
        if not result.changed:
            return
        bundle = await asyncio.to_thread(build_bundle, self.settings.dags_folder)
        self._store_scan(result, bundle)

    def _store_scan(self, result: ScanResult, bundle: Bundle) -> None:
        store, now = self.store, self.clock.now()
        files: dict[str, str | None] = {}
        store.save_bundle(bundle.hash, bundle.data, now)
        handled: set[str] = set()
        for parsed in result.parsed:
            if parsed.error is not None:
                store.set_import_error(parsed.fileloc, parsed.error, now)
                files[parsed.fileloc] = parsed.error
                log.warning("DAG file %s failed to import", parsed.fileloc)
                continue
            errors = []
            previous = set(store.dag_ids_in_file(parsed.fileloc))
            for data in parsed.dags:
                dag_id = data["dag_id"]
                other = store.get_dag(dag_id)
                if other is not None and other.active and other.fileloc != parsed.fileloc:
                    errors.append(f"DAG {dag_id!r} is already defined in {other.fileloc}; this definition is ignored")
                    continue
                previous.discard(dag_id)
                handled.add(dag_id)
                paused = bool(data.get("is_paused_upon_creation"))
                version, _ = store.save_dag_version(data, dag_hash(data), bundle.hash, now, _dag_fields(data, paused))
                if version is not None:
                    row = store.get_dag(dag_id)
                    assert row is not None
                    self.engine.submit(
                        DagVersionStored(version.id, data, bundle.hash, row.paused, aware(row.last_scheduled_date))
                    )
            store.set_import_error(parsed.fileloc, "\n".join(errors) or None, now)
            files[parsed.fileloc] = "\n".join(errors) or None
            if previous:
                store.deactivate_dags(previous)
                self.engine.submit(DagsDeactivated(tuple(sorted(previous))))
        for fileloc in result.removed:
            gone = store.dag_ids_in_file(fileloc)
            store.deactivate_dags(gone)
            store.set_import_error(fileloc, None, now)
            files[fileloc] = None
            if gone:
                self.engine.submit(DagsDeactivated(tuple(gone)))
        if bundle.hash != self._bundle_hash:
            for version in store.rebundle(bundle.hash, exclude=handled):
                row = store.get_dag(version.dag_id)
                assert row is not None
                self.engine.submit(
                    DagVersionStored(version.id, version.data, bundle.hash, row.paused, aware(row.last_scheduled_date))
                )
        self._bundle_hash = bundle.hash
        if self.engine.watchers:
            self._announce_import_errors(files, now)

    def _announce_import_errors(self, files: dict[str, str | None], now: datetime) -> None:
        for fileloc, traceback in sorted(files.items()):
            error = control_pb2.ImportError(fileloc=fileloc, traceback=traceback or "", timestamp=to_timestamp(now))
            self.engine.publish(control_pb2.WatchResponse(import_error=error))


def _dag_fields(data: dict[str, Any], paused: bool) -> dict[str, Any]:
    return {
        "fileloc": data.get("fileloc", ""),
        "description": data.get("description") or "",
        "owner": data.get("owner") or "",
        "schedule": Timetable(data).describe(data),
        "paused": paused,
        "tags": json.dumps(data.get("tags") or []),
        "max_active_runs": int(data.get("max_active_runs", 16)),
        "max_active_tasks": int(data.get("max_active_tasks", 16)),
        "catchup": bool(data.get("catchup", False)),
        "task_count": len(data["tasks"]),
    }


async def serve(settings: Settings, workers: int = 0) -> None:
    """Run the coordinator (and `workers` local worker processes) until SIGTERM or SIGINT."""
    coordinator = Coordinator(settings)
    address = await coordinator.start()
    print(f"coordinator listening on {address}", flush=True)
    log.info("DAG folder %s, metastore %s", coordinator.settings.dags_folder, redact(settings.db_url))
    local = LocalWorkers(settings, address.replace("0.0.0.0", "127.0.0.1"), workers)
    await local.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    waiter = asyncio.create_task(coordinator.wait())
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        if waiter.done():
            waiter.result()
    finally:
        stopper.cancel()
        waiter.cancel()
        await local.stop(coordinator.stop())


class LocalWorkers:
    """`coordinator standalone`'s worker processes, restarted (after a pause) when one dies."""

    def __init__(self, settings: Settings, address: str, count: int) -> None:
        self.settings = settings
        self.address = address
        self.count = count
        self.processes: dict[int, asyncio.subprocess.Process] = {}
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        self._watchers = [asyncio.create_task(self._keep(i)) for i in range(self.count)]

    async def _keep(self, index: int) -> None:
        while not self._stopping:
            process = await asyncio.create_subprocess_exec(*self._command(index))
            self.processes[index] = process
            code = await process.wait()
            if self._stopping:
                return
            log.warning("local worker %d exited with code %s; starting it again in 1s", index + 1, code)
            await asyncio.sleep(1.0)

    def _command(self, index: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "worker",
            "join",
            "--host",
            self.address,
            "--home",
            str(self.settings.home),
            "--name",
            f"local-{index + 1}",
            "--slots",
            str(self.settings.worker_slots),
            "--queues",
            ",".join(self.settings.worker_queues),
        ]

    async def stop(self, coordinator_stopped: Awaitable[None]) -> None:
        """Ask the workers to drain, stop the coordinator, then wait for them (killing stragglers)."""
        self._stopping = True
        for process in self.processes.values():
            if process.returncode is None:
                process.terminate()
        await coordinator_stopped
        for process in self.processes.values():
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        for watcher in self._watchers:
            watcher.cancel()
