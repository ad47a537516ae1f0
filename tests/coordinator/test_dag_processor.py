from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.dag_processor import DagProcessor
from tests.harness import assert_eventually
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
    processor.stored(first)
    assert processor.scan().changed is False
    assert processor.parses == 2
    (tmp_path / "b.py").write_text(GOOD.format(name="b2"))
    os.utime(tmp_path / "b.py", ns=(1, 10**18))
    (tmp_path / "a.py").unlink()
    second = processor.scan()
    assert [(p.fileloc, p.dags[0]["dag_id"]) for p in second.parsed] == [("b.py", "b2")]
    assert second.removed == ["a.py"]


def test_a_scan_that_was_not_stored_is_returned_again_without_parsing_again(tmp_path: Path, forkserver) -> None:
    (tmp_path / "a.py").write_text(GOOD.format(name="a"))
    (tmp_path / "notes.sql").write_text("select 1\n")
    processor = DagProcessor(tmp_path, parse_timeout=10, processes=1, forkserver=forkserver)
    assert [p.fileloc for p in processor.scan().parsed] == ["a.py"]
    again = processor.scan()
    assert [p.fileloc for p in again.parsed] == ["a.py"]
    assert again.folder_changed
    assert processor.parses == 1
    processor.stored(again)
    assert processor.scan().changed is False


def test_a_file_whose_import_hangs_does_not_delay_other_files(tmp_path: Path, forkserver) -> None:
    (tmp_path / "hangs.py").write_text("import time\nfrom tradewind import DAG\ntime.sleep(3600)\n")
    processor = DagProcessor(tmp_path, parse_timeout=30, processes=2, forkserver=forkserver)
    processor.patience = 1.0
    started = time.monotonic()
    first = processor.scan()
    assert first.parsed == []
    processor.stored(first)
    (tmp_path / "a.py").write_text(GOOD.format(name="a"))
    (tmp_path / "b.py").write_text(GOOD.format(name="b"))

    def stored_files() -> list[str]:
        result = processor.scan()
        processor.stored(result)
        return [p.fileloc for p in result.parsed]

    found: set[str] = set()
    assert_eventually(lambda: found.update(stored_files()) or found >= {"a.py", "b.py"}, 20, "a.py and b.py parsed")
    assert time.monotonic() - started < 15
    processor.close()


def test_a_hung_file_becomes_an_import_error_when_its_own_limit_passes(tmp_path: Path, forkserver) -> None:
    (tmp_path / "hangs.py").write_text("import time\nfrom tradewind import DAG\ntime.sleep(3600)\n")
    processor = DagProcessor(tmp_path, parse_timeout=2, processes=2, forkserver=forkserver)
    processor.patience = 0.2
    assert processor.scan().parsed == []
    (tmp_path / "a.py").write_text(GOOD.format(name="a"))
    errors: dict[str, str | None] = {}

    def scanned() -> bool:
        result = processor.scan()
        processor.stored(result)
        errors.update({p.fileloc: p.error for p in result.parsed})
        return "hangs.py" in errors

    assert_eventually(scanned, 30, "the hung file to time out")
    assert errors["a.py"] is None
    assert "took longer than 2s to import" in (errors["hangs.py"] or "")
    processor.close()


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
