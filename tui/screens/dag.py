"""One DAG: the grid of recent runs by tasks, the graph by dependency level, and the list of runs."""

from __future__ import annotations

import json
from collections.abc import Iterable

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from tradewind.v1 import common_pb2, control_pb2
from tui import actions
from tui.screens.base import LiveScreen
from tui.text import clock, span
from tui.widgets.dag_graph import DagGraph
from tui.widgets.run_grid import GridData, RunGrid
from tui.widgets.state_badge import run_badge, task_badge
from tui.widgets.task_tree import TaskTree

GRID_PAGE = 25
RUNS_PAGE = 100
RUN_COLUMNS = [
    ("run_id", "Run"),
    ("state", "State"),
    ("type", "Type"),
    ("logical", "Logical date (UTC)"),
    ("start", "Started (UTC)"),
    ("duration", "Duration"),
    ("conf", "Conf"),
]


def conf_text(run: control_pb2.DagRun, limit: int = 60) -> str:
    try:
        text = json.dumps(json.loads(run.conf_json or "{}"), separators=(", ", ": "))
    except json.JSONDecodeError:
        text = run.conf_json
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DagScreen(LiveScreen):
    AUTO_FOCUS = "RunGrid"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("t", "trigger", "Trigger"),
        Binding("p", "toggle_pause", "Pause/unpause"),
        Binding("c", "clear", "Clear"),
        Binding("s", "mark('success')", "Mark success"),
        Binding("f", "mark('failed')", "Mark failed"),
        Binding("x", "cancel_run", "Cancel run"),
        Binding("space", "toggle_group", "Expand/collapse group", show=False),
        Binding("left_square_bracket", "page(1)", "Older runs"),
        Binding("right_square_bracket", "page(-1)", "Newer runs"),
        Binding("1", "tab('grid')", "Grid", show=False),
        Binding("2", "tab('graph')", "Graph", show=False),
        Binding("3", "tab('runs')", "Runs", show=False),
    ]

    def __init__(self, dag_id: str) -> None:
        super().__init__()
        self.dag_id = dag_id
        self.PLACE = f"DAG {dag_id}"
        self.dag: control_pb2.Dag | None = None
        self.tasks: list[control_pb2.Task] = []
        #: Page tokens of the grid pages from the newest one to the page shown.
        self.pages: list[str] = [""]
        self.older_token = ""
        self.runs_token = ""
        self._grid_reload_pending = False

    def body(self) -> Iterable[Widget]:
        yield Static(id="dag-header")
        with TabbedContent(initial="grid"):
            with TabPane("Grid [1]", id="grid"), Horizontal():
                yield RunGrid(id="grid-view")
                yield Static(id="grid-details", classes="details")
            with TabPane("Graph [2]", id="graph"), Horizontal():
                yield DagGraph(id="graph-view")
                yield Static(id="graph-details", classes="details")
            with TabPane("Runs [3]", id="runs"):
                table: DataTable[object] = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
                for key, label in RUN_COLUMNS:
                    table.add_column(label, key=key)
                yield table

    @property
    def grid(self) -> RunGrid:
        return self.query_one(RunGrid)

    @property
    def graph(self) -> DagGraph:
        return self.query_one(DagGraph)

    @property
    def runs_table(self) -> DataTable[object]:
        return self.query_one("#runs-table", DataTable)

    # ---- loading ------------------------------------------------------------------------
    async def reload(self) -> None:
        got = await self.tw.call(self.tw.client.get_dag, self.dag_id, quiet=self.dag is not None)
        if got is None:
            return
        self.dag, self.tasks = got.dag, list(got.tasks)
        self._header()
        tree = TaskTree(self.tasks)
        tree.keep_expanded(self.grid.task_tree)
        self.grid.task_tree = tree
        self.graph.show_tasks(tree.graph_tasks(self.tasks))
        await self.load_grid()
        await self.load_runs()

    async def load_grid(self) -> None:
        self._grid_reload_pending = False
        grid = self.grid
        response = await self.tw.call(self.tw.client.get_dag_grid, self.dag_id, GRID_PAGE, self.pages[-1], quiet=True)
        if response is None:
            return
        self.older_token = response.next_page_token
        run, key = grid.run, grid.key
        grid.show(GridData.from_response(response), run.run_id if run is not None else None, key)
        if self.query_one(TabbedContent).active == "graph":
            self._graph_states()

    async def load_runs(self) -> None:
        response = await self.tw.call(self.tw.client.list_dag_runs, self.dag_id, (), RUNS_PAGE, quiet=True)
        if response is None:
            return
        table = self.runs_table
        row = table.cursor_row
        table.clear()
        self._add_runs(response.dag_runs)
        self.runs_token = response.next_page_token
        if 0 <= row < table.row_count:
            table.move_cursor(row=row)

    def _add_runs(self, runs: Iterable[control_pb2.DagRun]) -> None:
        table = self.runs_table
        for run in runs:
            cells = self._run_cells(run)
            table.add_row(*(cells[key] for key, _ in RUN_COLUMNS), key=run.run_id)

    def _run_cells(self, run: control_pb2.DagRun) -> dict[str, object]:
        return {
            "run_id": run.run_id,
            "state": run_badge(run.state),
            "type": run.run_type,
            "logical": clock(run.logical_date),
            "start": clock(run.start_date),
            "duration": span(run.start_date, run.end_date, self.tw.now()),
            "conf": conf_text(run),
        }

    async def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if table.id == "runs-table" and self.runs_token and event.cursor_row >= table.row_count - 1:
            token, self.runs_token = self.runs_token, ""
            response = await self.tw.call(self.tw.client.list_dag_runs, self.dag_id, (), RUNS_PAGE, token)
            if response is not None:
                self._add_runs(response.dag_runs)
                self.runs_token = response.next_page_token

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "runs-table" and event.row_key.value:
            self.grid.move_to(run_id=event.row_key.value)
            if self.grid.run is not None and self.grid.run.run_id == event.row_key.value:
                self.action_tab("grid")
            else:
                self.notify("That run is older than the runs in the grid: page back with [.", title="Grid")

    # ---- what is shown ------------------------------------------------------------------
    def _header(self) -> None:
        dag = self.dag
        if dag is None:
            return
        text = Text()
        text.append(f" {dag.dag_id} ", style="bold")
        if not dag.active:
            text.append("removed: its file no longer defines it", style="bold red")
        else:
            text.append("paused" if dag.paused else "active", style="yellow" if dag.paused else "green")
        text.append(f" · schedule {dag.schedule or 'None'}")
        if dag.HasField("next_run_at") and not dag.paused:
            text.append(f" · next run {clock(dag.next_run_at)} UTC")
        text.append(f" · {dag.task_count} tasks · v{dag.version} · {dag.fileloc}")
        if dag.tags:
            text.append(f" · tags {', '.join(dag.tags)}", style="cyan")
        if dag.description:
            text.append(f"\n {dag.description}", style="dim")
        self.query_one("#dag-header", Static).update(text)

    def _graph_states(self) -> None:
        grid = self.grid
        col = grid.cursor_col
        if grid.run is None:
            self.graph.show_states({})
            return
        states = grid.data.states[col]
        self.graph.show_states(grid.task_tree.with_groups(dict(zip(grid.data.task_ids, states, strict=True))))

    def _details(self) -> Text:
        """The run and the task instance under the grid's cursor."""
        run, task_id = self.grid.run, self.grid.task_id
        state, try_number = self.grid.cell()
        text = Text()
        if run is None:
            text.append("No runs yet. Press t to trigger one.", style="dim")
            return text
        now = self.tw.now()
        text.append("Run\n", style="bold underline")
        text.append(f"{run.run_id}\n")
        text.append_text(run_badge(run.state))
        text.append(f" · {run.run_type}\n")
        text.append(f"logical  {clock(run.logical_date)}\n")
        text.append(f"started  {clock(run.start_date)}\n")
        text.append(f"duration {span(run.start_date, run.end_date, now)}\n")
        text.append(f"conf     {conf_text(run, 200)}\n\n")
        group = self.grid.group
        if group is not None:
            text.append("Task group\n", style="bold underline")
            text.append(f"{group}\n")
            text.append_text(task_badge(state))
            count = len(self.grid.row.members) if self.grid.row is not None else 0
            text.append(f" · {count} tasks")
            text.append("\n\nenter or space expands or collapses it", style="dim")
        if task_id is not None:
            text.append("Task\n", style="bold underline")
            text.append(f"{task_id}\n")
            group_of = self.grid.task_tree.path_of.get(task_id)
            if group_of:
                text.append(f"in group {group_of}\n", style="dim")
            text.append_text(task_badge(state))
            if try_number:
                text.append(f" · try {try_number}")
            instances = self.grid.instances()
            if instances is not None:
                text.append(f"\nmapped: {instances[1]}/{instances[0]} instances finished")
            text.append("\n\nenter opens it; c clears, s/f marks it", style="dim")
        return text

    def on_run_grid_moved(self, message: RunGrid.Moved) -> None:
        self._grid_details()

    def _grid_details(self) -> None:
        self.query_one("#grid-details", Static).update(self._details(), layout=False)
        if self.query_one(TabbedContent).active == "graph":
            self._sync_graph()

    def _sync_graph(self) -> None:
        self._graph_states()
        self.graph.move_to(self.grid.key)
        self._graph_details()

    def on_dag_graph_moved(self, message: DagGraph.Moved) -> None:
        self.grid.move_to(key=message.graph.task_id)

    def action_toggle_group(self) -> None:
        self.grid.action_toggle_group()

    def on_run_grid_toggled(self, message: RunGrid.Toggled) -> None:
        """The graph follows the grid: the group becomes one node again, or its tasks appear."""
        grid = self.grid
        self.graph.show_tasks(grid.task_tree.graph_tasks(self.tasks))
        if self.query_one(TabbedContent).active == "graph":
            row = grid.row
            if row is not None and row.group in grid.task_tree.expanded:
                grid.move_to(key=row.members[0])
            self._sync_graph()

    def _graph_details(self) -> None:
        text = self._details()
        task = next((t for t in self.tasks if t.task_id == self.grid.task_id), None)
        if task is not None:
            text.append("\n\nEdges\n", style="bold underline")
            text.append("↑ upstream   ", style="#5fafff")
            text.append(", ".join(task.upstream_task_ids) or "none")
            text.append("\n↓ downstream ", style="#d7af5f")
            text.append(", ".join(task.downstream_task_ids) or "none")
            text.append(f"\n\n{task.operator} · trigger rule {task.trigger_rule or 'all_success'}", style="dim")
        self.query_one("#graph-details", Static).update(text, layout=False)

    def on_run_grid_selected(self, message: RunGrid.Selected) -> None:
        self._open()

    def on_dag_graph_selected(self, message: DagGraph.Selected) -> None:
        if self.grid.group is not None:
            self.grid.action_toggle_group()
        else:
            self._open()

    def _open(self) -> None:
        run, task_id = self.grid.run, self.grid.task_id
        if run is None or task_id is None:
            return
        if self.grid.cell()[0] == common_pb2.TASK_STATE_UNSPECIFIED:
            self.notify(f"run {run.run_id} has no task {task_id}: the task is newer than the run", title="Grid")
            return
        self.tw.open_task_instance(self.dag_id, run.run_id, task_id, 0 if self.grid.instances() else -1)

    def tick(self) -> None:
        run = self.grid.run
        if run is not None and run.state == common_pb2.RUN_STATE_RUNNING:
            self._grid_details()

    # ---- live ---------------------------------------------------------------------------
    def apply(self, changes: list[control_pb2.WatchResponse]) -> None:
        grid, newest = self.grid, len(self.pages) == 1
        reload_all = False
        for change in changes:
            kind = change.WhichOneof("change")
            if kind == "task_instance":
                ti = change.task_instance
                if ti.dag_id != self.dag_id:
                    continue
                # A mapped instance changes its cell's summary, which only the server has whole.
                if ti.map_index >= 0 or not grid.set_cell(ti.run_id, ti.task_id, ti.state, ti.try_number):
                    self._grid_reload_pending |= newest
            elif kind == "dag_run":
                run = change.dag_run
                if run.dag_id != self.dag_id:
                    continue
                if not grid.set_run(run):
                    self._grid_reload_pending |= newest
                if run.run_id in self.runs_table.rows:
                    cells = self._run_cells(run)
                    for key, _ in RUN_COLUMNS:
                        self.runs_table.update_cell(run.run_id, key, cells[key], update_width=True)
                else:
                    self.soon(self.load_runs)
            elif kind == "dag" and change.dag.dag_id == self.dag_id:
                reload_all |= self.dag is None or change.dag.version != self.dag.version
                self.dag = change.dag
                self._header()
        if reload_all:
            self.soon(self.reload)
        elif self._grid_reload_pending:
            self.soon(self.load_grid)
        elif self.query_one(TabbedContent).active == "graph":
            self._graph_states()

    # ---- actions ------------------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        target = {"grid": self.grid, "graph": self.graph, "runs": self.runs_table}[tab]
        target.focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "graph":
            self._sync_graph()

    def action_page(self, direction: int) -> None:
        if self.in_flight("load_grid"):
            return  # the page asked for is on its way; its token is not known before it arrives
        if direction > 0:
            if not self.older_token:
                self.notify("These are the oldest runs.", title="Grid")
                return
            self.pages.append(self.older_token)
        else:
            if len(self.pages) == 1:
                self.notify("These are the newest runs.", title="Grid")
                return
            self.pages.pop()
        self.soon(self.load_grid)

    def _selected_run_id(self) -> str | None:
        """The run under the cursor: in the runs list when it is shown, else in the grid."""
        if self.query_one(TabbedContent).active == "runs":
            table = self.runs_table
            if table.row_count == 0:
                return None
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.grid.run.run_id if self.grid.run is not None else None

    @work(group="action")
    async def action_trigger(self) -> None:
        run = await actions.trigger_dag(self, self.dag_id)
        if run is not None:
            self.pages = [""]
            await self.load_grid()
            self.grid.move_to(run_id=run.run_id)

    @work(group="action")
    async def action_toggle_pause(self) -> None:
        if self.dag is not None:
            await actions.toggle_pause(self, self.dag)

    @work(group="action")
    async def action_clear(self) -> None:
        run, task_id = self.grid.run, self.grid.task_id
        if run is not None and task_id is not None:
            await actions.clear_task(self, self.dag_id, run.run_id, task_id)

    @work(group="action")
    async def action_mark(self, state: str) -> None:
        run, task_id = self.grid.run, self.grid.task_id
        if run is not None and task_id is not None:
            await actions.mark_task(self, self.dag_id, run.run_id, task_id, state)

    @work(group="action")
    async def action_cancel_run(self) -> None:
        run_id = self._selected_run_id()
        if run_id:
            await actions.cancel_run(self, self.dag_id, run_id)
