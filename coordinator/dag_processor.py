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
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewind.bundles import bundle_files
from tradewind.dagbag import load_dag_file, might_contain_dag
from tradewind.forkserver import ForkServer
from tradewind.serialization import serialize_dag


@dataclass(frozen=True)
class ParsedFile:
    fileloc: str
    mtime: float
    dags: list[dict[str, Any]]
    error: str | None


@dataclass(frozen=True)
class ScanResult:
    parsed: list[ParsedFile] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Any file of the folder changed (not only DAG files), so the bundle must be rebuilt.
    folder_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.parsed or self.removed or self.folder_changed)


class DagProcessor:
    def __init__(self, dags_folder: Path, *, parse_timeout: float, processes: int, forkserver: ForkServer) -> None:
        self.folder = dags_folder
        self.parse_timeout = parse_timeout
        self.processes = processes
        self.forkserver = forkserver
        self._known: dict[str, tuple[int, int]] = {}
        self._others: dict[str, tuple[int, int]] = {}
        self._restart_lock = threading.Lock()
        self.parses = 0

    def scan(self) -> ScanResult:
        """Parse what changed since the last scan; a rescan of unchanged files parses nothing."""
        current: dict[str, tuple[int, int]] = {}
        others: dict[str, tuple[int, int]] = {}
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
        todo = sorted(f for f, key in current.items() if self._known.get(f) != key)
        removed = sorted(set(self._known) - set(current))
        folder_changed = others != self._others
        self._others = others
        parsed: list[ParsedFile] = []
        if todo:
            with ThreadPoolExecutor(max_workers=self.processes, thread_name_prefix="dag-parse") as pool:
                parsed = list(pool.map(self._parse, todo))
        for item in parsed:
            self._known[item.fileloc] = current[item.fileloc]
        for fileloc in removed:
            del self._known[fileloc]
        return ScanResult(parsed, removed, folder_changed)

    def _parse(self, fileloc: str) -> ParsedFile:
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
                )
            if result_path.exists():
                result = json.loads(result_path.read_text())
                return ParsedFile(fileloc, mtime, result["dags"], result["error"])
            printed = output_path.read_text(errors="replace")[-4000:]
            if end.returncode < 0:
                how = f"was killed by signal {signal.Signals(-end.returncode).name}"
            else:
                how = f"exited with code {end.returncode}"
            return ParsedFile(fileloc, mtime, [], f"importing DAG file {fileloc} {how}\n{printed}".rstrip())


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
