"""Triggers that wait on another DAG through the coordinator's ControlService, for a deferrable
ExternalTaskSensor: WorkflowTrigger (tasks, or whole runs, at given logical dates reach an
allowed, failed or skipped state) and DagStateTrigger (runs reach one of some states).

They ask the coordinator every `poke_interval` seconds from a thread, so the triggerer's loop
never waits on the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from tradewind.triggers.base import BaseTrigger, TriggerEvent


class WorkflowTrigger(BaseTrigger):
    """Fires {"status": "success"} once every external task (or run) at every logical date is in
    `allowed_states`, {"status": "failed"} when one is in `failed_states`, {"status": "skipped"}
    when one is in `skipped_states`."""

    def __init__(
        self,
        external_dag_id: str,
        logical_dates: list[datetime],
        external_task_ids: list[str] | None = None,
        external_task_group_id: str | None = None,
        allowed_states: list[str] | None = None,
        failed_states: list[str] | None = None,
        skipped_states: list[str] | None = None,
        poke_interval: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.external_dag_id = external_dag_id
        self.logical_dates = list(logical_dates)
        self.external_task_ids = list(external_task_ids or [])
        self.external_task_group_id = external_task_group_id
        self.allowed_states = list(allowed_states or ["success"])
        self.failed_states = list(failed_states or [])
        self.skipped_states = list(skipped_states or [])
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "tradewind.triggers.external_task.WorkflowTrigger",
            {
                "external_dag_id": self.external_dag_id,
                "logical_dates": self.logical_dates,
                "external_task_ids": self.external_task_ids,
                "external_task_group_id": self.external_task_group_id,
                "allowed_states": self.allowed_states,
                "failed_states": self.failed_states,
                "skipped_states": self.skipped_states,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from tradewind.operators.external_task import external_states

        while True:
            done, states = await asyncio.to_thread(
                external_states,
                self.external_dag_id,
                self.logical_dates,
                self.external_task_ids,
                self.external_task_group_id,
                self.allowed_states,
            )
            if any(state in self.failed_states for state in states):
                yield TriggerEvent({"status": "failed"})
                return
            if any(state in self.skipped_states for state in states):
                yield TriggerEvent({"status": "skipped"})
                return
            if done:
                yield TriggerEvent({"status": "success"})
                return
            await asyncio.sleep(self.poke_interval)


class DagStateTrigger(BaseTrigger):
    """Fires with its arguments once `dag_id`'s runs at every logical date are in `states`."""

    def __init__(
        self, dag_id: str, states: list[str], logical_dates: list[datetime], poll_interval: float = 5.0, **kwargs: Any
    ) -> None:
        super().__init__()
        self.dag_id = dag_id
        self.states = list(states)
        self.logical_dates = list(logical_dates)
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "tradewind.triggers.external_task.DagStateTrigger",
            {
                "dag_id": self.dag_id,
                "states": self.states,
                "logical_dates": self.logical_dates,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from tradewind.operators.external_task import external_states

        while True:
            done, _ = await asyncio.to_thread(external_states, self.dag_id, self.logical_dates, [], None, self.states)
            if done:
                yield TriggerEvent(self.serialize()[1])
                return
            await asyncio.sleep(self.poll_interval)
