"""Scan the DAG folder and parse new or changed files in children forked with a time limit.

A file that hangs, crashes or loops only ever costs its own child: it becomes an import error
with its traceback, and every other file is parsed as usual.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewind.bundles import bundle_files
from tradewind.dagbag import load_dag_file, might_contain_dag
from tradewind.forkserver import ForkServer
from tradewind.serialization import serialize_dag

#: A file's (mtime in ns, size): a change to either means the file must be parsed again.
FileKey = tuple[int, int]


@dataclass(frozen=True)
class ParsedFile:
    fileloc: str
    mtime: float
    dags: list[dict[str, Any]]
    error: str | None
    key: FileKey


_NONE = ParsedFile("", 0.0, [], None, (-1, -1))


@dataclass(frozen=True)
class ScanResult:
    parsed: list[ParsedFile] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Any file of the folder changed (not only DAG files), so the bundle must be rebuilt.
    folder_changed: bool = False
    #: The folder's files that are not DAG files, as seen by this scan.
    others: dict[str, FileKey] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.parsed or self.removed or self.folder_changed)


class DagProcessor:
    """Finds what changed in the DAG folder since the last scan whose results were stored.

    A file counts as seen only once `stored()` says its DAGs are in the metastore, so a failed
    store is retried at the next scan (from the parse already made, not by parsing again).
    Each file is parsed in its own forked child with its own time limit; a scan waits for its
    parses at most `patience` seconds and returns what finished, so a file whose import hangs
    delays only itself: it becomes an import error when its own limit passes.
    """

    def __init__(self, dags_folder: Path, *, parse_timeout: float, processes: int, forkserver: ForkServer) -> None:
        self.folder = dags_folder
        self.parse_timeout = parse_timeout
        self.processes = processes
        self.forkserver = forkserver
        self.patience = min(parse_timeout, 5.0)
        self._stored: dict[str, FileKey] = {}
        self._stored_others: dict[str, FileKey] = {}
        self._parsed: dict[str, ParsedFile] = {}
        self._running: dict[str, tuple[FileKey, Future[ParsedFile]]] = {}
        self._pool = ThreadPoolExecutor(max_workers=processes, thread_name_prefix="dag-parse")
        self._scan_lock = threading.Lock()
        self._restart_lock = threading.Lock()
        self.parses = 0

    def scan(self) -> ScanResult:
        """Parse what changed since the last stored scan; a rescan of unchanged files parses nothing."""
        with self._scan_lock:
            current, others = self._files()
            todo = sorted(f for f, key in current.items() if self._stored.get(f) != key)
            for fileloc in todo:
                key = current[fileloc]
                running = self._running.get(fileloc)
                if self._parsed.get(fileloc, _NONE).key != key and (running is None or running[0] != key):
                    self._running[fileloc] = (key, self._pool.submit(self._parse, fileloc, key))
            if self._running:
                wait([future for _, future in self._running.values()], timeout=self.patience)
            for fileloc, (_, future) in list(self._running.items()):
                if future.done():
                    del self._running[fileloc]
                    self._parsed[fileloc] = future.result()
            parsed = [self._parsed[f] for f in todo if self._parsed.get(f, _NONE).key == current[f]]
            removed = sorted(set(self._stored) - set(current))
            return ScanResult(parsed, removed, others != self._stored_others, others)

    def stored(self, result: ScanResult) -> None:
        """`result` is in the metastore: its files count as seen from now on."""
        with self._scan_lock:
            for item in result.parsed:
                self._stored[item.fileloc] = item.key
            for fileloc in result.removed:
                self._stored.pop(fileloc, None)
                self._parsed.pop(fileloc, None)
            self._stored_others = result.others

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _files(self) -> tuple[dict[str, FileKey], dict[str, FileKey]]:
        current: dict[str, FileKey] = {}
        others: dict[str, FileKey] = {}
        for path in bundle_files(self.folder) if self.folder.is_dir() else []:
            fileloc = path.relative_to(self.folder).as_posix()
            try:
                stat = path.stat()
            except OSError:
                continue
            key = (stat.st_mtime_ns, stat.st_size)
            if path.suffix == ".py" and might_contain_dag(path):
                current[fileloc] = key
            else:
                others[fileloc] = key
        return current, others

    def _parse(self, fileloc: str, key: FileKey) -> ParsedFile:
        self.parses += 1
        with self._restart_lock:
            self.forkserver.ensure_running()
        path = self.folder / fileloc
        mtime = path.stat().st_mtime if path.exists() else 0.0
        with tempfile.TemporaryDirectory(prefix="tw-parse-") as tmp:
            result_path = Path(tmp) / "result.json"
            output_path = Path(tmp) / "output"
            with open(output_path, "wb") as output:
                child = self.forkserver.spawn(
                    "coordinator.dag_processor:parse_in_child",
                    {"path": str(path), "dags_folder": str(self.folder), "result_path": str(result_path)},
                    stdout=output.fileno(),
                )
            try:
                end = child.exit.result(timeout=self.parse_timeout)
            except FutureTimeout:
                child.kill()
                child.exit.result(timeout=10)
                return ParsedFile(
                    fileloc,
                    mtime,
                    [],
                    f"DAG file {fileloc} took longer than {self.parse_timeout:g}s to import (parse_timeout); "
                    "it was stopped",
                    key,
                )
            if result_path.exists():
                result = json.loads(result_path.read_text())
                return ParsedFile(fileloc, mtime, result["dags"], result["error"], key)
            printed = output_path.read_text(errors="replace")[-4000:]
            if end.returncode < 0:
                how = f"was killed by signal {signal.Signals(-end.returncode).name}"
            else:
                how = f"exited with code {end.returncode}"
            return ParsedFile(fileloc, mtime, [], f"importing DAG file {fileloc} {how}\n{printed}".rstrip(), key)


def parse_in_child(path: str, dags_folder: str, result_path: str) -> None:
    """Runs in a forked child: import one DAG file and write its serialized DAGs as JSON."""
    folder = Path(dags_folder)
    try:
        dags = [serialize_dag(d, d.fileloc) for d in load_dag_file(Path(path), folder)]
        result: dict[str, Any] = {"dags": dags, "error": None}
    except BaseException:  # noqa: BLE001 - every failure of a DAG file is an import error
        result = {"dags": [], "error": traceback.format_exc()}
    tmp = result_path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(result, handle)
    os.replace(tmp, result_path)
