"""The committed stubs in tradewind/v1 must be what tools/gen_protos.py writes today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_stubs_match_the_protos(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "tools" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.generate(tmp_path)
    fresh = {p.name: p.read_text() for p in (tmp_path / "tradewind" / "v1").iterdir() if p.is_file()}
    committed = {p.name: p.read_text() for p in (ROOT / "tradewind" / "v1").iterdir() if p.is_file()}
    stale = sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
    assert not stale, f"stubs out of date: {stale}; run `python tools/gen_protos.py` and commit the result"
