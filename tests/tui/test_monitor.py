"""The monitor driven as a person would, against a real coordinator and worker: keys in, screens checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Log, Static

from tests.harness import ROOT, Cluster, assert_eventually, write_dag
from tests.tui.conftest import drive, until
from tradewind.v1 import common_pb2
from tui.app import TradewindApp
from tui.screens.dag import DagScreen
from tui.screens.dags import DagsScreen
from tui.screens.import_errors import ImportErrorsScreen
from tui.screens.task_instance import TaskInstanceScreen
from tui.screens.workers import WorkersScreen
from tui.widgets.run_grid import RunGrid
from tui.widgets.state_badge import task_state_name

SIZE = (150, 45)


def gated_dag(dag_id: str, gate: Path, *, fail_until: Path | None = None) -> str:
    """`first` prints a line, waits for `gate` to exist, prints another; `second` runs after it."""
    check = f" && test -f {fail_until}" if fail_until else ""
    return f'''
from tradewind import DAG, BashOperator

with DAG(dag_id="{dag_id}", schedule=None, tags=["tui"]):
    first = BashOperator(
        task_id="first",
        bash_command="echo first line; while [ ! -f {gate} ]; do sleep 0.02; done; echo second line{check}",
    )
    first >> BashOperator(task_id="second", bash_command="echo done")
'''


def text_of(widget: Static) -> str:
    return str(widget.content)


def dag_row(app: TradewindApp, dag_id: str) -> list[str]:
    table = app.screen.query_one("#dags", DataTable)
    return [str(cell) for cell in table.get_row(dag_id)]


def cell(app: TradewindApp, run_id: str, task_id: str) -> str:
    grid = app.screen.query_one(RunGrid)
    col = grid.data.run_index(run_id)
    assert col is not None, f"run {run_id} is not in the grid"
    return task_state_name(grid.data.states[col][grid.data.task_ids.index(task_id)])


async def open_dag(pilot: Pilot[Any], app: TradewindApp, dag_id: str) -> RunGrid:
    """From the DAG list, with the cursor on `dag_id`, press enter: the DAG's screen, on its grid."""
    await until(
        pilot,
        lambda: isinstance(app.screen, DagsScreen) and app.screen.current_dag_id() == dag_id,
        message=f"{dag_id} under the cursor",
    )
    await pilot.press("enter")
    return await until(pilot, lambda: app.screen.query_one(RunGrid), message=f"the grid of {dag_id}")


def start(cluster: Cluster, *files: tuple[str, str]) -> None:
    """Write the DAG files, start a coordinator and a worker, and wait for the DAGs to be parsed."""
    for name, source in files:
        write_dag(cluster.dags, name, source)
    cluster.coordinator()
    cluster.worker("w1")
    with cluster.client() as client:
        assert_eventually(lambda: client.list_dags().dags, 30, "the DAGs to be parsed")


def test_trigger_from_the_dag_list_and_watch_the_grid_turn_green(cluster: Cluster) -> None:
    gate = cluster.home / "gate"
    start(cluster, ("gated.py", gated_dag("gated", gate)))

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: dag_row(app, "gated")[0] == "gated", message="the DAG list")
            assert app.link == "connected"
            await pilot.press("t")
            await until(pilot, lambda: app.screen.query_one("#conf", Input))
            await pilot.press(*'{"day": 1}', "enter")
            await until(pilot, lambda: isinstance(app.screen, DagsScreen))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DagScreen))
            grid = app.screen.query_one(RunGrid)
            await until(pilot, lambda: grid.data.runs, message="the triggered run in the grid")
            run_id = grid.data.runs[-1].run_id
            assert json.loads(grid.data.runs[-1].conf_json) == {"day": 1}
            await until(pilot, lambda: cell(app, run_id, "first") == "running", message="first to run")
            assert cell(app, run_id, "second") == "none"
            gate.touch()
            await until(pilot, lambda: cell(app, run_id, "second") == "success", message="second to succeed")
            assert cell(app, run_id, "first") == "success"
            details = app.screen.query_one("#grid-details", Static)
            await until(pilot, lambda: "success" in text_of(details).split("Task")[0], message="the run's state")

    drive(script)


def test_a_bad_conf_is_refused_before_it_is_sent(cluster: Cluster) -> None:
    start(cluster, ("gated.py", gated_dag("gated", cluster.home / "gate")))

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: dag_row(app, "gated"))
            await pilot.press("t")
            await until(pilot, lambda: app.screen.query_one("#conf", Input))
            await pilot.press(*"[1, 2]", "enter")
            error = app.screen.query_one("#conf-error", Static)
            await until(pilot, lambda: "conf must be a JSON object" in text_of(error))
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, DagsScreen))
        with cluster.client() as client:
            assert list(client.list_dag_runs("gated").dag_runs) == []

    drive(script)


def test_a_waiting_task_instance_says_what_it_waits_for_until_it_runs(cluster: Cluster) -> None:
    gate = cluster.home / "gate"
    start(cluster, ("gated.py", gated_dag("gated", gate)))
    with cluster.client() as client:
        run_id = client.trigger_dag("gated").dag_run.run_id

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: dag_row(app, "gated"))
            app.open_task_instance("gated", run_id, "second")
            await until(pilot, lambda: isinstance(app.screen, TaskInstanceScreen))
            details = await until(pilot, lambda: app.screen.query_one("#ti-details", Static))
            await until(pilot, lambda: "Waiting because" in text_of(details), message="the wait conditions")
            assert "trigger rule all_success is not met" in text_of(details)
            gate.touch()
            await until(pilot, lambda: "exit code 0" in text_of(details), message="second to run and succeed")
            assert "Waiting because" not in text_of(details)

    drive(script)


def test_a_running_task_log_arrives_line_by_line(cluster: Cluster) -> None:
    gate = cluster.home / "gate"
    start(cluster, ("gated.py", gated_dag("gated", gate)))
    with cluster.client() as client:
        run_id = client.trigger_dag("gated").dag_run.run_id

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await open_dag(pilot, app, "gated")
            await until(pilot, lambda: cell(app, run_id, "first") == "running", message="first to run")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TaskInstanceScreen))
            log = app.screen.query_one(Log)
            await until(pilot, lambda: "first line" in log.lines, message="the first log line")
            assert "second line" not in log.lines
            assert "following live" in text_of(app.screen.query_one("#log-title", Static))
            gate.touch()
            await until(pilot, lambda: "second line" in log.lines, message="the second log line, live")
            details = app.screen.query_one("#ti-details", Static)
            await until(pilot, lambda: "success" in text_of(details) and "exit code 0" in text_of(details))

    drive(script)


def test_clear_a_failed_task_and_it_runs_again(cluster: Cluster) -> None:
    gate, fixed = cluster.home / "gate", cluster.home / "fixed"
    gate.touch()
    start(cluster, ("flaky.py", gated_dag("flaky", gate, fail_until=fixed)))
    with cluster.client() as client:
        run_id = client.trigger_dag("flaky").dag_run.run_id

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await open_dag(pilot, app, "flaky")
            await until(pilot, lambda: cell(app, run_id, "first") == "failed", message="first to fail")
            assert cell(app, run_id, "second") == "upstream_failed"
            fixed.touch()
            await pilot.press("c")
            await pilot.press("d")
            await until(pilot, lambda: cell(app, run_id, "second") == "success", message="the cleared run to pass")
            assert cell(app, run_id, "first") == "success"
            grid = app.screen.query_one(RunGrid)
            assert grid.data.tries[grid.data.run_index(run_id) or 0][0] == 2

    drive(script)


def test_mark_a_task_and_pause_a_dag(cluster: Cluster) -> None:
    gate = cluster.home / "gate"
    start(cluster, ("gated.py", gated_dag("gated", gate)))
    with cluster.client() as client:
        run_id = client.trigger_dag("gated").dag_run.run_id
        # The first task must be running before the DAG is paused: a paused DAG starts none.
        assert_eventually(
            lambda: any(
                t.task_id == "first" and t.state == common_pb2.TASK_STATE_RUNNING
                for t in client.list_task_instances("gated", run_id).task_instances
            ),
            60,
            "the first task to run",
        )

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: dag_row(app, "gated"))
            await pilot.press("p", "y")
            await until(pilot, lambda: dag_row(app, "gated")[2] == "paused", message="the DAG to show paused")
            await pilot.press("p", "n")
            await pilot.press("enter")
            await until(pilot, lambda: cell(app, run_id, "first") == "running")
            await pilot.press("s", "y")
            await until(pilot, lambda: cell(app, run_id, "first") == "success", message="first marked success")
            assert cell(app, run_id, "second") in ("none", "scheduled"), "a paused DAG starts no tasks"
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, DagsScreen))
            await pilot.press("p", "y")
            await until(pilot, lambda: dag_row(app, "gated")[2] == "active")
        with cluster.client() as client:
            assert client.get_dag("gated").dag.paused is False
            assert_eventually(
                lambda: (
                    [
                        t.state
                        for t in client.list_task_instances("gated", run_id).task_instances
                        if t.task_id == "second"
                    ]
                    == [common_pb2.TASK_STATE_SUCCESS]
                ),
                20,
                "second to run once the DAG is unpaused",
            )

    drive(script)


def test_workers_and_drain(cluster: Cluster) -> None:
    start(cluster, ("gated.py", gated_dag("gated", cluster.home / "gate")))

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: dag_row(app, "gated"))
            await pilot.press("w")
            await until(pilot, lambda: isinstance(app.screen, WorkersScreen))
            table = app.screen.query_one("#workers", DataTable)
            await until(pilot, lambda: str(table.get_row("w1")[1]) == "active", message="w1 active")
            assert str(table.get_row("w1")[4]) == "0 / 16"
            await until(pilot, lambda: "%" in str(table.get_row("w1")[5]), message="CPU from a heartbeat")
            await pilot.press("d", "y")
            await until(pilot, lambda: str(table.get_row("w1")[1]) in ("draining", "left"), message="w1 draining")

    drive(script)


def test_import_errors_are_counted_and_listed(cluster: Cluster) -> None:
    start(
        cluster,
        ("gated.py", gated_dag("gated", cluster.home / "gate")),
        ("broken.py", "from tradewind import DAG\nraise RuntimeError('the broken DAG file')\n"),
    )

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            summary = app.screen.query_one("#summary", Static)
            await until(pilot, lambda: "1 import error" in text_of(summary), message="the import error count")
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, ImportErrorsScreen))
            traceback = app.screen.query_one("#traceback", Static)
            await until(pilot, lambda: "the broken DAG file" in text_of(traceback), message="the traceback")
            assert "broken.py" in text_of(traceback)
            (cluster.dags / "broken.py").write_text("x = 1\n")
            await until(pilot, lambda: "Every DAG file imports" in text_of(traceback), message="the error to clear")

    drive(script)


def test_the_monitor_survives_a_coordinator_restart(cluster: Cluster) -> None:
    start(cluster, ("gated.py", gated_dag("gated", cluster.home / "gate")))
    port = int(cluster.address.rsplit(":", 1)[1])

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: dag_row(app, "gated"))
            cluster.processes[0].kill()
            await until(pilot, lambda: "unreachable" in app.link, message="the UI to say the coordinator is gone")
            assert dag_row(app, "gated")[0] == "gated", "the last state stays on screen"
            bar = app.screen.query_one("#connection-bar", Static)
            assert "reconnecting" in text_of(bar)
            cluster.coordinator(port=port)
            await until(pilot, lambda: app.link == "connected", 30, message="the UI to reconnect by itself")
            (cluster.home / "gate").touch()
            with cluster.client() as client:
                client.trigger_dag("gated")
            await until(pilot, lambda: "■" in dag_row(app, "gated")[4], message="the new run's mark, live")

    drive(script)


def test_cancel_a_running_run(cluster: Cluster) -> None:
    start(cluster, ("gated.py", gated_dag("gated", cluster.home / "gate")))
    with cluster.client() as client:
        run_id = client.trigger_dag("gated").dag_run.run_id

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await open_dag(pilot, app, "gated")
            await until(pilot, lambda: cell(app, run_id, "first") == "running")
            await pilot.press("x", "y")
            grid = app.screen.query_one(RunGrid)
            await until(pilot, lambda: grid.data.runs[-1].state == common_pb2.RUN_STATE_FAILED, message="run failed")
            await until(pilot, lambda: cell(app, run_id, "first") not in ("running", "queued"), message="task stopped")
            assert cell(app, run_id, "second") != "success"

    drive(script)


def test_an_unreachable_coordinator_is_said_plainly(tmp_path: Path) -> None:
    async def script() -> None:
        app = TradewindApp("127.0.0.1:1")
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "unreachable" in app.link, message="the UI to say it cannot connect")
            bar = app.screen.query_one("#connection-bar", Static)
            assert "127.0.0.1:1 unreachable since" in text_of(bar)

    drive(script)


def test_the_example_a_new_user_tries_in_the_monitor(cluster: Cluster) -> None:
    """The README's path: trigger example_monitor, watch its log live, clear the task that failed."""
    shutil.copy(ROOT / "dags" / "example_monitor.py", cluster.dags)
    start(cluster)

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: dag_row(app, "example_monitor"))
            await pilot.press("t")
            await until(pilot, lambda: app.screen.query_one("#conf", Input))
            await pilot.press(*'{"seconds": 3}', "enter")
            await until(pilot, lambda: isinstance(app.screen, DagsScreen))
            await pilot.press("enter")
            grid = await until(pilot, lambda: app.screen.query_one(RunGrid))
            await until(pilot, lambda: grid.data.runs, message="the run")
            run_id = grid.data.runs[-1].run_id
            await until(pilot, lambda: cell(app, run_id, "count_slowly") == "running", message="count_slowly to run")
            await pilot.press("enter")
            log = await until(pilot, lambda: app.screen.query_one(Log))
            await until(pilot, lambda: "step 1 of 3" in log.lines, message="the first step, live")
            await until(pilot, lambda: "step 3 of 3" in log.lines, message="the last step, live")
            await pilot.press("escape")
            await until(pilot, lambda: cell(app, run_id, "fails_first_time") == "failed", message="the planned failure")
            await until(pilot, lambda: cell(app, run_id, "report") == "upstream_failed", message="the join")
            await pilot.press("down", "c", "d")
            await until(pilot, lambda: cell(app, run_id, "report") == "success", 30, message="the cleared tasks to run")
            assert cell(app, run_id, "fails_first_time") == "success"

    drive(script)


def test_triggering_from_the_dag_screen_puts_the_cursor_on_the_new_run(cluster: Cluster) -> None:
    (cluster.home / "gate").touch()
    start(cluster, ("gated.py", gated_dag("gated", cluster.home / "gate")))
    with cluster.client() as client:
        first = client.trigger_dag("gated").dag_run.run_id

    async def script() -> None:
        app = TradewindApp(cluster.address)
        async with app.run_test(size=SIZE) as pilot:
            await open_dag(pilot, app, "gated")
            grid = await until(pilot, lambda: app.screen.query_one(RunGrid))
            await until(pilot, lambda: grid.run is not None and grid.run.run_id == first)
            await pilot.press("t")
            await until(pilot, lambda: app.screen.query_one("#conf", Input))
            await pilot.press("enter")
            await until(pilot, lambda: len(grid.data.runs) == 2, message="the new run's column")
            await until(pilot, lambda: grid.run is not None and grid.run.run_id != first, message="the cursor on it")
            new = grid.data.runs[-1].run_id
            await until(pilot, lambda: cell(app, new, "second") == "success", message="the new run to finish")

    drive(script)
