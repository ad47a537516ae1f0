"""Builds the coordinator's components, starts them in order and stops them in reverse."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from coordinator import tokens
from coordinator.access import admin_token_file, check_exposure, is_loopback, server_credentials
from coordinator.audit import Audit
from coordinator.auth import Authenticator, AuthInterceptor
from coordinator.clock import SystemClock
from coordinator.control_service import ControlService
from coordinator.dag_callbacks import DagCallbacks
from coordinator.dag_processor import DagProcessor, ScanResult
from coordinator.engine import Engine
from coordinator.events import DagsDeactivated, DagVersionStored
from coordinator.lease import Lease, LeaseHeld, LeaseLost
from coordinator.logs import LogStore
from coordinator.metastore.db import connect, redact
from coordinator.metastore.secret_store import SecretStore
from coordinator.metastore.security_store import SecurityStore
from coordinator.metastore.store import Store, StoredVersion, aware
from coordinator.secrets import Secrets, load_key
from coordinator.server import bind, create_server
from coordinator.timetable import Timetable
from coordinator.triggerer_service import TriggererService
from coordinator.worker_service import WorkerService
from tradewind.bundles import Bundle, build_bundle
from tradewind.config import Settings
from tradewind.exceptions import ConfigError
from tradewind.forkserver import ForkServer
from tradewind.serialization import dag_hash
from tradewind.v1 import control_pb2, control_pb2_grpc, triggerer_pb2_grpc, worker_pb2_grpc
from tradewind.wire import to_timestamp

log = logging.getLogger("tradewind.coordinator")
#: How often a standby tries to take the lease, and an owner checks that it still holds it.
_LEASE_POLL = 0.5
#: A local worker that exits is started again after 1 s, then 2, 4 ... up to 30 s while it keeps exiting.
_RESTART_PAUSE = 1.0
_RESTART_PAUSE_MAX = 30.0


class Coordinator:
    """One coordinator: takes the metastore lease, then recovers, serves and scans the DAG folder."""

    def __init__(self, settings: Settings) -> None:
        settings = replace(settings, home=settings.home.resolve(), dags_folder=settings.dags_folder.resolve())
        self.settings = settings
        self.clock = SystemClock()
        self.lease = Lease(settings.db_url)
        self.logs = LogStore(settings.log_dir)
        self.forkserver = ForkServer(preload=("tradewind",))
        self.processor = DagProcessor(
            settings.dags_folder,
            parse_timeout=settings.parse_timeout,
            processes=settings.parse_processes,
            forkserver=self.forkserver,
        )
        security = SecurityStore()
        self.authenticator = Authenticator(security, self.clock, required=not is_loopback(settings.bind))
        self.audit = Audit(security, self.clock)
        self.dag_callbacks = DagCallbacks(
            self.forkserver, settings.dags_folder, settings.log_dir, settings.dag_callback_timeout
        )
        self.db: Any = None
        self.store: Store | None = None
        self.engine: Engine | None = None
        self.server: Any = None
        self.port = 0
        self._bundle_hash = ""
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> str:
        """Take the lease (waiting for it as a standby), then start everything; returns the address served."""
        tls = server_credentials(self.settings)
        self.forkserver.start()
        self.settings.dags_folder.mkdir(parents=True, exist_ok=True)
        took_over = await self._take_lease()
        self.server = create_server(AuthInterceptor(self.authenticator, self.audit))
        host = self.settings.bind.rpartition(":")[0]
        self.port = bind(self.server, self.settings.bind, tls)
        check_exposure(self.settings)
        address = f"{host}:{self.port}"
        self.db = await asyncio.to_thread(connect, self.settings.db_url)
        self.store = Store(self.db)
        await asyncio.to_thread(self._open_access)
        self.lease.record_owner(address)
        self.engine = Engine(
            self.store,
            self.clock,
            self.logs,
            sequential=self.settings.executor == "sequential",
            ack_timeout=self.settings.ack_timeout,
            heartbeat_timeout=self.settings.heartbeat_timeout,
            default_pool_slots=self.settings.default_pool_slots,
            secrets=Secrets(SecretStore(self.db), load_key(self.settings.home)),
            run_callback=self.dag_callbacks.submit,
            max_map_length=self.settings.max_map_length,
        )
        self.engine.start()
        worker_pb2_grpc.add_WorkerServiceServicer_to_server(
            WorkerService(self.engine, self.settings.heartbeat_timeout), self.server
        )
        triggerer_pb2_grpc.add_TriggererServiceServicer_to_server(
            TriggererService(self.engine, self.settings.heartbeat_timeout), self.server
        )
        control = ControlService(self.engine, self.settings.worker_retention, self.authenticator)
        control_pb2_grpc.add_ControlServiceServicer_to_server(control, self.server)
        await self.server.start()
        if not took_over:
            # A standby's owner stored the folder already; recovery has every DAG, so it serves at once.
            await self._scan_once()
        self._tasks = [
            asyncio.create_task(self.engine.run(), name="engine"),
            asyncio.create_task(self._scan_forever(first_now=took_over), name="dag-processor"),
        ]
        if self.lease.shared:
            self._tasks.append(asyncio.create_task(self._keep_lease(), name="lease"))
        return address

    def _open_access(self) -> None:
        """Tokens become required if any exists; --admin-token-file gets its admin token."""
        security = self.authenticator.store
        if self.settings.admin_token_file:
            done = admin_token_file(Path(self.settings.admin_token_file), security, self.clock.now())
            print(f"coordinator: {done}", flush=True)
        if security.any_token():
            self.authenticator.required = True
        log.info("tokens are %srequired", "" if self.authenticator.required else "not ")

    async def _take_lease(self) -> bool:
        """Take the metastore lease; returns whether this coordinator waited for it as a standby."""
        if await asyncio.to_thread(self.lease.acquire):
            return False
        owner = await asyncio.to_thread(self.lease.owner)
        where = redact(self.settings.db_url)
        if not self.settings.standby:
            raise LeaseHeld(f"metastore {where} is owned by {owner}; stop it, or start this one with --standby")
        print(f"coordinator standby: metastore {where} is owned by {owner}; waiting to take over", flush=True)
        parsing = asyncio.create_task(self._parse_ahead(), name="standby-parse")
        try:
            while not await asyncio.to_thread(self.lease.acquire):
                await asyncio.sleep(_LEASE_POLL)
            if self.lease.shared:
                # A PostgreSQL lease can end while its owner lives on; that owner notices within
                # one check and stops, so wait out that check before touching state.
                await asyncio.sleep(2 * _LEASE_POLL)
        finally:
            parsing.cancel()
        log.info("took over metastore %s", where)
        return True

    async def _parse_ahead(self) -> None:
        """A standby parses the folder as it changes, so at takeover only storing is left."""
        while True:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.processor.scan)
            await asyncio.sleep(self.settings.dag_scan_interval)

    async def _keep_lease(self) -> None:
        """Stop (loudly, through wait()) the moment the lease no longer holds: never two owners."""
        while True:
            await asyncio.sleep(_LEASE_POLL)
            try:
                await asyncio.to_thread(self.lease.check)
            except LeaseLost:
                log.critical("lost the metastore lease; stopping")
                raise

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
        self.processor.close()
        self.dag_callbacks.close()
        self.forkserver.close()
        self.logs.close_all()
        if self.db is not None:
            self.db.close()
        self.lease.release()

    async def _scan_forever(self, first_now: bool) -> None:
        if not first_now:
            await asyncio.sleep(self.settings.dag_scan_interval)
        while True:
            try:
                await self._scan_once()
            except Exception as exc:  # noqa: BLE001 - nothing was marked seen, so the next scan stores it all again
                log.warning(
                    "storing the DAG folder's changes failed (%s: %s); retrying in %gs",
                    type(exc).__name__,
                    exc,
                    self.settings.dag_scan_interval,
                )
            await asyncio.sleep(self.settings.dag_scan_interval)

    async def _scan_once(self) -> None:
        result: ScanResult = await asyncio.to_thread(self.processor.scan)
        if not result.changed:
            return
        bundle = await asyncio.to_thread(build_bundle, self.settings.dags_folder)
        events, files = await asyncio.to_thread(self._store_scan, result, bundle)
        self.processor.stored(result)
        self._bundle_hash = bundle.hash
        assert self.engine is not None
        for event in events:
            self.engine.submit(event)
        if self.engine.watchers:
            self._announce_import_errors(files, self.clock.now())

    def _store_scan(self, result: ScanResult, bundle: Bundle) -> tuple[list[Any], dict[str, str | None]]:
        """Store one scan in one transaction; returns the events to submit once it is committed."""
        assert self.store is not None
        store, now = self.store, self.clock.now()
        events: list[Any] = []
        files: dict[str, str | None] = {}
        with store.dag_transaction():
            store.save_bundle(bundle.hash, bundle.data, now)
            handled: set[str] = set()
            for parsed in result.parsed:
                if parsed.error is not None:
                    # Its DAGs keep the bundle their file last imported from, not one where it is broken.
                    handled.update(store.dag_ids_in_file(parsed.fileloc))
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
                        errors.append(
                            f"DAG {dag_id!r} is already defined in {other.fileloc}; this definition is ignored"
                        )
                        continue
                    previous.discard(dag_id)
                    handled.add(dag_id)
                    paused = bool(data.get("is_paused_upon_creation"))
                    version, _ = store.save_dag_version(
                        data, dag_hash(data), bundle.hash, now, dag_fields(data, paused)
                    )
                    if version is not None:
                        events.append(self._version_stored(version))
                store.set_import_error(parsed.fileloc, "\n".join(errors) or None, now)
                files[parsed.fileloc] = "\n".join(errors) or None
                if previous:
                    store.deactivate_dags(previous)
                    events.append(DagsDeactivated(tuple(sorted(previous))))
            for fileloc in result.removed:
                gone = store.dag_ids_in_file(fileloc)
                store.deactivate_dags(gone)
                store.set_import_error(fileloc, None, now)
                files[fileloc] = None
                if gone:
                    events.append(DagsDeactivated(tuple(gone)))
            if bundle.hash != self._bundle_hash:
                events.extend(self._version_stored(v) for v in store.rebundle(bundle.hash, handled, now))
            deleted = store.delete_unused_bundles(keep=bundle.hash)
        if deleted:
            log.info("deleted %d DAG bundles no DAG or unfinished run uses", deleted)
        return events, files

    def _version_stored(self, version: StoredVersion) -> DagVersionStored:
        assert self.store is not None
        row = self.store.get_dag(version.dag_id)
        assert row is not None
        return DagVersionStored(
            version.id, version.data, version.bundle_hash, row.paused, aware(row.last_scheduled_date)
        )

    def _announce_import_errors(self, files: dict[str, str | None], now: datetime) -> None:
        assert self.engine is not None
        for fileloc, traceback in sorted(files.items()):
            error = control_pb2.ImportError(fileloc=fileloc, traceback=traceback or "", timestamp=to_timestamp(now))
            self.engine.publish(control_pb2.WatchResponse(import_error=error))


def dag_fields(data: dict[str, Any], paused: bool) -> dict[str, Any]:
    """The dag table's columns for a serialized DAG (the DAG processor's and dag.test()'s)."""
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
        "display_name": data.get("dag_display_name") or "",
    }


async def serve(settings: Settings, workers: int = 0, triggerer: bool = False) -> None:
    """Run the coordinator (and `workers` local worker processes, and a local triggerer) until
    SIGTERM or SIGINT."""
    if workers and settings.tls_cert and not settings.tls_ca:
        raise ConfigError("coordinator standalone with --tls-cert needs --tls-ca, the CA its local workers trust")
    if workers and settings.tls_client_ca:
        raise ConfigError("coordinator standalone does not support --tls-client-ca yet: its workers have none")
    coordinator = Coordinator(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stopper = asyncio.create_task(stop.wait())
    starting = asyncio.create_task(coordinator.start())
    local: LocalWorkers | None = None
    waiter: asyncio.Task[None] | None = None
    try:
        await asyncio.wait([starting, stopper], return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            return
        address = starting.result()
        print(f"coordinator listening on {address}", flush=True)
        log.info("DAG folder %s, metastore %s", coordinator.settings.dags_folder, redact(settings.db_url))
        local = LocalWorkers(
            settings, address.replace("0.0.0.0", "127.0.0.1"), workers, coordinator.authenticator, triggerer
        )
        await local.start()
        waiter = asyncio.create_task(coordinator.wait())
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        if waiter.done():
            waiter.result()
    finally:
        for task in (stopper, starting, waiter):
            if task is not None:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await starting
        if local is not None:
            await local.stop(coordinator.stop())
        else:
            await coordinator.stop()


class LocalWorkers:
    """`coordinator standalone`'s worker processes and its triggerer, restarted (after a pause)
    when one dies."""

    def __init__(
        self, settings: Settings, address: str, count: int, authenticator: Authenticator, triggerer: bool = False
    ) -> None:
        self.settings = settings
        self.address = address
        self.count = count
        self.authenticator = authenticator
        self.triggerer = triggerer
        self.processes: dict[int, asyncio.subprocess.Process] = {}
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        processes = self.count + 1 if self.triggerer else self.count
        self._watchers = [asyncio.create_task(self._keep(i)) for i in range(processes)]

    async def _keep(self, index: int) -> None:
        """Run worker `index`, restarting it when it exits; the pause doubles while it keeps exiting soon."""
        pause = _RESTART_PAUSE
        while not self._stopping:
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(*self._command(index), env=self._environment(index))
            self.processes[index] = process
            code = await process.wait()
            if self._stopping:
                return
            if time.monotonic() - started > _RESTART_PAUSE_MAX:
                pause = _RESTART_PAUSE
            what = "the local triggerer" if index == self.count else f"local worker {index + 1}"
            log.warning("%s exited with code %s; starting it again in %gs", what, code, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, _RESTART_PAUSE_MAX)

    def _command(self, index: int) -> list[str]:
        """Processes 0 to count - 1 are workers; the last is the triggerer."""
        if index == self.count:
            return [
                sys.executable,
                "-P",  # not the working directory on sys.path: the home's worker/ folder would shadow the package
                "-m",
                "triggerer",
                "join",
                "--host",
                self.address,
                "--home",
                str(self.settings.home),
                "--name",
                "local-triggerer",
                "--parent-pid",
                str(os.getpid()),
            ]
        return [
            sys.executable,
            "-P",
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
            "--parent-pid",
            str(os.getpid()),
        ]

    def _environment(self, index: int) -> dict[str, str]:
        """Fresh tokens each start, kept in the coordinator's memory only, passed by environment (never
        on a command line, where `ps` would show them): the worker's own, and an operator token for
        its tasks' calls (TriggerDagRunOperator); the CA, when the coordinator uses TLS."""
        now = self.authenticator.clock.now()
        secret, token = tokens.make(f"local-{index + 1}", "worker", now)
        self.authenticator.add_local(token)
        task_secret, task_token = tokens.make("local-tasks", "operator", now)
        self.authenticator.add_local(task_token)
        credentials = ("TRADEWIND_TOKEN", "TRADEWIND_TASK_TOKEN", "TRADEWIND_TLS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(credentials)}
        env["TRADEWIND_TOKEN"] = secret
        env["TRADEWIND_TASK_TOKEN"] = task_secret
        if self.settings.tls_ca:
            env["TRADEWIND_TLS_CA"] = self.settings.tls_ca
        return env

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
