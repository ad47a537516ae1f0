"""docs/architecture.md's state table is the code's: a move added or removed in one must be in both."""

from __future__ import annotations

import re
from pathlib import Path

from tradewind.states import ALLOWED, TaskState

DOC = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"


def documented_moves() -> set[tuple[TaskState, TaskState]]:
    moves = set()
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("from", "---"):
            continue
        sources = re.split(r",\s*", cells[0])
        if not all(s in TaskState._value2member_map_ for s in sources):
            continue
        targets = cells[1]
        for source in map(TaskState, sources):
            if "the other of success/failed" in targets:
                others = {TaskState.SUCCESS, TaskState.FAILED} - {source}
                named = {TaskState.NONE, *others}
            else:
                named = {TaskState(t) for t in re.split(r",\s*", targets)}
            moves |= {(source, target) for target in named}
    return moves


def test_the_documented_state_table_is_the_one_in_code() -> None:
    in_code = {(source, target) for source, targets in ALLOWED.items() for target in targets}
    documented = documented_moves()
    assert documented - in_code == set(), "documented but not allowed"
    assert in_code - documented == set(), "allowed but not documented"
