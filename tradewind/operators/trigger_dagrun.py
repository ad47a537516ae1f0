"""TriggerDagRunOperator: start a run of another DAG, and optionally wait for it to end.

It runs in its task process and calls the coordinator's ControlService like any client; the
worker hands the coordinator's address(es) to its task processes in TRADEWIND_HOST. The run id
triggered is pushed as the "trigger_run_id" XCom, and the task returns nothing, as in Airflow.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tradewind.baseoperator import BaseOperator
from tradewind.config import Settings
from tradewind.exceptions import DagDefinitionError, TaskFailed, TaskSkipped
from tradewind.states import RunState
from tradewind.wire import run_state_from_pb

XCOM_RUN_ID = "trigger_run_id"


class TriggerDagRunOperator(BaseOperator):
    template_fields = ("trigger_dag_id", "trigger_run_id", "logical_date", "conf")

    def __init__(
        self,
        *,
        task_id: str,
        trigger_dag_id: str,
        trigger_run_id: str | None = None,
        conf: dict[str, Any] | None = None,
        logical_date: str | datetime | None = None,
        reset_dag_run: bool = False,
        wait_for_completion: bool = False,
        poke_interval: float = 60,
        allowed_states: Iterable[str] | None = None,
        failed_states: Iterable[str] | None = None,
        skip_when_already_exists: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        where = self.where
        if reset_dag_run:
            raise DagDefinitionError(
                f"{where}: Tradewind does not support TriggerDagRunOperator(reset_dag_run=True) yet"
            )
        if not isinstance(trigger_dag_id, str) or not trigger_dag_id:
            raise DagDefinitionError(f"{where}: trigger_dag_id must be a DAG id, not {trigger_dag_id!r}")
        if conf is not None and not isinstance(conf, dict):
            raise DagDefinitionError(f"{where}: conf must be a dict, not {conf!r}")
        if not isinstance(poke_interval, int | float) or isinstance(poke_interval, bool) or poke_interval <= 0:
            raise DagDefinitionError(
                f"{where}: poke_interval must be a positive number of seconds, not {poke_interval!r}"
            )
        self.trigger_dag_id = trigger_dag_id
        self.trigger_run_id = trigger_run_id
        self.conf = conf
        self.logical_date = logical_date
        self.wait_for_completion = bool(wait_for_completion)
        self.poke_interval = float(poke_interval)
        self.allowed_states = _states(allowed_states, [RunState.SUCCESS], "allowed_states", where)
        self.failed_states = _states(failed_states, [RunState.FAILED], "failed_states", where)
        self.skip_when_already_exists = bool(skip_when_already_exists)
        self.deferrable = bool(deferrable)

    def execute(self, context: dict[str, Any]) -> None:
        from tradewind.client import Client
        from tradewind.credentials import Credentials

        logical = self.logical_date
        if isinstance(logical, str) and logical:
            logical = datetime.fromisoformat(logical)
        settings = Settings.load()
        with Client(settings.host, credentials=Credentials.from_settings(settings)) as client:
            if self.trigger_run_id and _find_state(client, self.trigger_dag_id, self.trigger_run_id, []):
                message = f"DAG {self.trigger_dag_id!r} already has a run with run_id {self.trigger_run_id!r}"
                raise TaskSkipped(message) if self.skip_when_already_exists else TaskFailed(message)
            run = client.trigger_dag(
                self.trigger_dag_id,
                conf=self.conf,
                run_id=self.trigger_run_id or "",
                logical_date=logical if isinstance(logical, datetime) else None,
            ).dag_run
            print(f"Triggered DAG {self.trigger_dag_id!r}: run {run.run_id!r}", flush=True)
            context["ti"].xcom_push(XCOM_RUN_ID, run.run_id)
            if self.wait_for_completion:
                self._wait(client, run.run_id)

    def _wait(self, client: Any, run_id: str) -> None:
        watched = [*self.allowed_states, *self.failed_states]
        while True:
            time.sleep(self.poke_interval)
            state = _find_state(client, self.trigger_dag_id, run_id, watched)
            print(f"Waiting for {self.trigger_dag_id!r} run {run_id!r}: {state or 'not ended'}", flush=True)
            if state in self.failed_states:
                raise TaskFailed(f"{self.trigger_dag_id} failed with failed state {state}")
            if state in self.allowed_states:
                return


def _find_state(client: Any, dag_id: str, run_id: str, states: list[str]) -> str | None:
    """The state of the run, when it is in one of `states` (any state when empty)."""
    token = ""
    while True:
        page = client.list_dag_runs(dag_id, states=states, page_size=1000, page_token=token)
        for run in page.dag_runs:
            if run.run_id == run_id:
                return str(run_state_from_pb(run.state).value)
        token = page.next_page_token
        if not token:
            return None


def _states(value: Iterable[str] | None, default: list[RunState], what: str, where: str) -> list[str]:
    if value is None:
        return [s.value for s in default]
    names = [str(getattr(s, "value", s)) for s in value]
    valid = {s.value for s in RunState}
    wrong = [n for n in names if n not in valid]
    if wrong:
        raise DagDefinitionError(f"{where}: {what} has {wrong[0]!r}, not a DAG run state ({', '.join(sorted(valid))})")
    return names
