"""What a person changes from the monitor, each asked for confirmation first and reported back.

Each returns the coordinator's answer, or None when the person said no or the coordinator
refused (the refusal is shown as a notification with the server's own message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewind.v1 import control_pb2
from tui.screens.dialogs import ConfirmScreen, TriggerScreen
from tui.widgets.state_badge import run_state_name, task_state_name

if TYPE_CHECKING:
    from tui.screens.base import LiveScreen


async def trigger_dag(screen: LiveScreen, dag_id: str) -> control_pb2.DagRun | None:
    conf = await screen.app.push_screen_wait(TriggerScreen(dag_id))
    if conf is None:
        return None
    response = await screen.tw.call(screen.tw.client.trigger_dag, dag_id, conf)
    if response is None:
        return None
    screen.notify(f"{dag_id}: run {response.dag_run.run_id} created", title="Triggered")
    return response.dag_run


async def toggle_pause(screen: LiveScreen, dag: control_pb2.Dag) -> control_pb2.Dag | None:
    verb = "Unpause" if dag.paused else "Pause"
    if await screen.app.push_screen_wait(ConfirmScreen(f"{verb} DAG {dag.dag_id}?")) != "y":
        return None
    response = await screen.tw.call(screen.tw.client.set_dag_paused, dag.dag_id, not dag.paused)
    if response is None:
        return None
    screen.notify(f"{dag.dag_id} is {'paused' if response.dag.paused else 'active'}", title=f"{verb}d")
    return response.dag


async def clear_task(screen: LiveScreen, dag_id: str, run_id: str, task_id: str) -> bool:
    answer = await screen.app.push_screen_wait(
        ConfirmScreen(
            f"Clear {task_id} in run {run_id} so it runs again?",
            {"y": "clear it", "d": "clear it and its downstream"},
        )
    )
    if not answer:
        return False
    response = await screen.tw.call(screen.tw.client.clear_task_instances, dag_id, run_id, [task_id], answer == "d")
    if response is None:
        return False
    screen.notify(f"{len(response.task_instances)} task instance(s) cleared", title="Cleared")
    return True


async def mark_task(
    screen: LiveScreen, dag_id: str, run_id: str, task_id: str, state: str, map_index: int = -1
) -> None:
    """Mark one task instance: of a mapped task, the instance at `map_index`."""
    name = f"{task_id}[{map_index}]" if map_index >= 0 else task_id
    if await screen.app.push_screen_wait(ConfirmScreen(f"Mark {name} in run {run_id} as {state}?")) != "y":
        return
    response = await screen.tw.call(screen.tw.client.mark_task_instance, dag_id, run_id, task_id, state, map_index)
    if response is not None:
        screen.notify(f"{name} is {task_state_name(response.task_instance.state)}", title="Marked")


async def cancel_run(screen: LiveScreen, dag_id: str, run_id: str) -> None:
    if await screen.app.push_screen_wait(ConfirmScreen(f"Cancel run {run_id}? Its unfinished tasks stop.")) != "y":
        return
    response = await screen.tw.call(screen.tw.client.cancel_dag_run, dag_id, run_id)
    if response is not None:
        screen.notify(f"run {run_id} is {run_state_name(response.dag_run.state)}", title="Cancelled")


async def cancel_backfill(screen: LiveScreen, backfill_id: int) -> bool:
    question = f"Cancel backfill {backfill_id}? Its queued runs fail; its running runs finish."
    if await screen.app.push_screen_wait(ConfirmScreen(question)) != "y":
        return False
    response = await screen.tw.call(screen.tw.client.cancel_backfill, backfill_id)
    if response is None:
        return False
    screen.notify(f"backfill {backfill_id} is cancelled", title="Cancelled")
    return True


async def drain_worker(screen: LiveScreen, name: str) -> control_pb2.Worker | None:
    question = f"Drain worker {name}? It takes no new tasks and leaves when its running tasks end."
    if await screen.app.push_screen_wait(ConfirmScreen(question)) != "y":
        return None
    response = await screen.tw.call(screen.tw.client.drain_worker, name)
    if response is None:
        return None
    screen.notify(f"{name} is draining", title="Drain")
    return response.worker
