from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.dag_processor import DagProcessor
from tradewind.bundles import build_bundle, extract_bundle
from tradewind.forkserver import ForkServer

GOOD = (
    "from tradewind import DAG, BashOperator\nwith DAG('{name}'):\n    BashOperator(task_id='t', bash_command='true')\n"
)


@pytest.fixture
def forkserver() -> Iterator[ForkServer]:
    server = ForkServer()
    server.start()
    yield server
    server.close()


def test_only_new_or_changed_files_are_parsed_and_removed_files_are_reported(tmp_path: Path, forkserver) -> None:
    (tmp_path / "a.py").write_text(GOOD.format(name="a"))
    (tmp_path / "b.py").write_text(GOOD.format(name="b"))
    (tmp_path / "notes.py").write_text("print('not a DAG file')\n")
    processor = DagProcessor(tmp_path, parse_timeout=10, processes=2, forkserver=forkserver)
    first = processor.scan()
    assert sorted((p.fileloc, [d["dag_id"] for d in p.dags]) for p in first.parsed) == [
        ("a.py", ["a"]),
        ("b.py", ["b"]),
    ]
    assert processor.scan().changed is False
    assert processor.parses == 2
    (tmp_path / "b.py").write_text(GOOD.format(name="b2"))
    os.utime(tmp_path / "b.py", ns=(1, 10**18))
    (tmp_path / "a.py").unlink()
    second = processor.scan()
    assert [(p.fileloc, p.dags[0]["dag_id"]) for p in second.parsed] == [("b.py", "b2")]
    assert second.removed == ["a.py"]


def test_a_crashing_file_is_an_import_error_naming_the_signal(tmp_path: Path, forkserver) -> None:
    (tmp_path / "crash.py").write_text(
        "import os, signal\nfrom tradewind import DAG\nos.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    (tmp_path / "exits.py").write_text("import sys\nfrom tradewind import DAG\nsys.exit(3)\n")
    results = {
        p.fileloc: p.error
        for p in DagProcessor(tmp_path, parse_timeout=10, processes=1, forkserver=forkserver).scan().parsed
    }
    assert "killed by signal SIGSEGV" in results["crash.py"]
    assert "SystemExit: 3" in results["exits.py"]


def test_bundles_are_deterministic_and_extract_safely(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.py").write_text("x = 1\n")
    (folder / "sub" / "helper.py").write_text("y = 2\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    first, second = build_bundle(folder), build_bundle(folder)
    assert first.hash == second.hash
    (folder / "a.py").write_text("x = 2\n")
    assert build_bundle(folder).hash != first.hash
    extract_bundle(first.data, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.py")) == [
        "a.py",
        "sub/helper.py",
    ]
