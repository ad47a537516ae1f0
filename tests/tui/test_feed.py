"""The monitor's Watch feed: a resync (changes dropped for a slow reader) makes it read a fresh snapshot."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from tests.tui.conftest import drive, until
from tests.tui.fixture_service import FixtureControlService
from tui.app import TradewindApp


# The app quits within gRPC's 0.2 s connectivity poll of connecting; grpcio's poller thread may then
# ask the closed channel and raise in its own daemon thread. That is grpcio's race, not the feed's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_resync_makes_the_shown_screen_read_its_snapshot_again(
    served: tuple[TradewindApp, FixtureControlService],
) -> None:
    app, service = served

    async def script() -> None:
        async with app.run_test(size=(150, 45)) as pilot:
            await until(pilot, lambda: app.screen.query_one("#dags", DataTable).row_count, message="the DAG list")
            before = service.list_dags_calls
            service.resync.set()
            await until(pilot, lambda: service.list_dags_calls > before, message="the DAG list read again")
            assert app.link == "connected"

    drive(script)
