"""Rows and records as the messages clients read."""

from __future__ import annotations

from types import SimpleNamespace

from coordinator import messages


def attempt_row(exit_code: int | None) -> SimpleNamespace:
    return SimpleNamespace(
        id=7,
        try_number=1,
        state="failed",
        worker="",
        exit_code=exit_code,
        error="template did not render",
        cpu_user=0.0,
        cpu_system=0.0,
        max_rss_bytes=0,
        rendered="",
        lost=False,
        ready_at=None,
        queued_at=None,
        sent_at=None,
        acked_at=None,
        started_at=None,
        ended_at=None,
    )


def test_an_attempt_no_process_ran_for_has_no_exit_code_and_a_real_zero_is_kept() -> None:
    assert not messages.attempt_row_pb(attempt_row(None)).HasField("exit_code")  # type: ignore[arg-type]
    zero = messages.attempt_row_pb(attempt_row(0))  # type: ignore[arg-type]
    assert zero.HasField("exit_code") and zero.exit_code == 0
    assert messages.attempt_row_pb(attempt_row(-15)).exit_code == -15  # type: ignore[arg-type]
