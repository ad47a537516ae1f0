"""ExternalTaskSensor waits for tasks (or a whole run) of another DAG at a matching logical date;
ExternalTaskMarker marks, for people and tools, the task in another DAG that depends on this one.

The sensor reads the other DAG's runs and task instances through the coordinator's
ControlService, as any client does. Clearing does not follow an ExternalTaskMarker into the
other DAG yet: that DAG's task instances are cleared by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from tradewind.baseoperator import accepts
from tradewind.config import Settings
from tradewind.exceptions import DagDefinitionError, NotFound, TaskFailed, TaskFailedNoRetry, TaskSkipped
from tradewind.operators.empty import EmptyOperator
from tradewind.sensors.base import BaseSensorOperator
from tradewind.states import RunState, TaskState
from tradewind.triggers.external_task import WorkflowTrigger
from tradewind.wire import run_state_from_pb, task_state_from_pb


class ExternalTaskSensor(BaseSensorOperator):
    """Airflow's semantics: with task ids (or a task group), every one of them in `allowed_states`
    (default success) in the other DAG's run of the same logical date (shifted by
    `execution_delta` or computed by `execution_date_fn`); without, that run in `allowed_states`.
    Any in `failed_states` fails the sensor (skipped with soft_fail); any in `skipped_states`
    skips it. With deferrable=True it waits in the triggerer (WorkflowTrigger)."""

    can_defer = True

    template_fields = ("external_dag_id", "external_task_id", "external_task_ids", "external_task_group_id")

    def __init__(
        self,
        *,
        task_id: str,
        external_dag_id: str,
        external_task_id: str | None = None,
        external_task_ids: Iterable[str] | None = None,
        external_task_group_id: str | None = None,
        allowed_states: Iterable[str] | None = None,
        skipped_states: Iterable[str] | None = None,
        failed_states: Iterable[str] | None = None,
        execution_delta: timedelta | None = None,
        execution_date_fn: Callable[..., Any] | None = None,
        check_existence: bool = False,
        poll_interval: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        where = self.where
        if external_task_id is not None and external_task_ids is not None:
            raise DagDefinitionError(f"{where}: give external_task_id or external_task_ids, not both")
        ids = [external_task_id] if external_task_id is not None else list(external_task_ids or [])
        if external_task_group_id is not None and ids:
            raise DagDefinitionError(f"{where}: give external task ids or external_task_group_id, not both")
        if execution_delta is not None and execution_date_fn is not None:
            raise DagDefinitionError(f"{where}: give execution_delta or execution_date_fn, not both")
        if execution_delta is not None and not isinstance(execution_delta, timedelta):
            raise DagDefinitionError(f"{where}: execution_delta must be a timedelta, not {execution_delta!r}")
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids = ids
        self.external_task_group_id = external_task_group_id
        by_task = bool(ids) or external_task_group_id is not None
        kind = TaskState if by_task else RunState
        self.allowed_states = _states(allowed_states, ["success"], kind, "allowed_states", where)
        self.skipped_states = _states(skipped_states, [], kind, "skipped_states", where)
        self.failed_states = _states(failed_states, [], kind, "failed_states", where)
        clash = set(self.allowed_states) & (set(self.skipped_states) | set(self.failed_states))
        if clash:
            raise DagDefinitionError(f"{where}: state {sorted(clash)[0]!r} is both allowed and skipped or failed")
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.check_existence = bool(check_existence)
        self.poll_interval = float(poll_interval)

    def _dates(self, context: dict[str, Any]) -> list[datetime]:
        logical: datetime = context["logical_date"]
        if self.execution_delta is not None:
            return [logical - self.execution_delta]
        if self.execution_date_fn is not None:
            names, positional, takes_all = accepts(self.execution_date_fn)
            wants_context = takes_all or "context" in names or len(positional) > 1
            found = self.execution_date_fn(logical, context) if wants_context else self.execution_date_fn(logical)
            return list(found) if isinstance(found, list | tuple) else [found]
        return [logical]

    def poke(self, context: dict[str, Any]) -> bool:
        dates = self.dates(context)
        if self.check_existence:
            self._check_existence()
        done, states = external_states(
            self.external_dag_id, dates, self.external_task_ids, self.external_task_group_id, self.allowed_states
        )
        shown = ", ".join(d.isoformat() for d in dates)
        print(f"Poking for {self.external_dag_id} {self._what} at {shown}: {sorted(states)}", flush=True)
        if any(state in self.failed_states for state in states):
            self._failed()
        if any(state in self.skipped_states for state in states):
            raise TaskSkipped(f"{self.where}: the external {self._what} of DAG {self.external_dag_id!r} was skipped")
        return done

    def execute(self, context: dict[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        trigger = WorkflowTrigger(
            external_dag_id=self.external_dag_id,
            logical_dates=self.dates(context),
            external_task_ids=self.external_task_ids,
            external_task_group_id=self.external_task_group_id,
            allowed_states=self.allowed_states,
            failed_states=self.failed_states,
            skipped_states=self.skipped_states,
            poke_interval=self.poll_interval,
        )
        self.defer(trigger=trigger, method_name="execute_complete", timeout=self.timeout)
        return None

    def execute_complete(self, context: dict[str, Any], event: Any = None) -> Any:
        status = event.get("status") if isinstance(event, dict) else None
        if status == "success":
            print(f"{self.where}: the external {self._what} of DAG {self.external_dag_id!r} is done", flush=True)
            return None
        if status == "skipped":
            raise TaskSkipped(f"{self.where}: the external {self._what} of DAG {self.external_dag_id!r} was skipped")
        self._failed()

    @property
    def _what(self) -> str:
        if self.external_task_ids:
            return f"tasks {self.external_task_ids}"
        if self.external_task_group_id is not None:
            return f"task group {self.external_task_group_id!r}"
        return "run"

    def _failed(self) -> NoReturn:
        message = f"{self.where}: the external {self._what} of DAG {self.external_dag_id!r} failed"
        raise TaskSkipped(message) if self.soft_fail else TaskFailed(message)

    def dates(self, context: dict[str, Any]) -> list[datetime]:
        return [d if d.tzinfo is not None else d.replace(tzinfo=UTC) for d in self._dates(context)]

    def _check_existence(self) -> None:
        from tradewind.client import Client

        try:
            with Client(Settings.load().host) as client:
                dag = client.get_dag(self.external_dag_id)
        except NotFound:
            raise TaskFailedNoRetry(f"{self.where}: the external DAG {self.external_dag_id!r} does not exist") from None
        known = {task.task_id for task in dag.tasks}
        missing = [t for t in self.external_task_ids if t not in known]
        if missing:
            raise TaskFailedNoRetry(
                f"{self.where}: the external task {missing[0]!r} does not exist in DAG {self.external_dag_id!r}"
            )


def external_states(
    dag_id: str, dates: list[datetime], task_ids: list[str], group_id: str | None, allowed: list[str]
) -> tuple[bool, list[str]]:
    """Whether every task (or the run, without tasks) of `dag_id` at every logical date is in
    `allowed`, and the states seen, read from the coordinator."""
    from tradewind.client import Client

    with Client(Settings.load().host) as client:
        runs = _runs_at(client, dag_id, dates)
        if task_ids or group_id is not None:
            states = [
                state for run_id in runs.values() for state in _task_states(client, dag_id, run_id, task_ids, group_id)
            ]
            expected = len(dates) * len(task_ids) if task_ids else len(states) or 1
        else:
            states = runs_states(client, dag_id, runs)
            expected = len(dates)
    done = len(runs) == len(dates) and sum(1 for s in states if s in allowed) == expected
    return done, states


def _task_states(client: Any, dag_id: str, run_id: str, task_ids: list[str], group_id: str | None) -> list[str]:
    listed = client.list_task_instances(dag_id, run_id).task_instances
    if task_ids:
        wanted = set(task_ids)
        return [task_state_from_pb(ti.state).value for ti in listed if ti.task_id in wanted]
    prefix = f"{group_id}."
    return [task_state_from_pb(ti.state).value for ti in listed if ti.task_id.startswith(prefix)]


def runs_states(client: Any, dag_id: str, runs: dict[datetime, str]) -> list[str]:
    wanted = set(runs.values())
    found: list[str] = []
    token = ""
    while True:
        page = client.list_dag_runs(dag_id, page_size=1000, page_token=token)
        found += [run_state_from_pb(r.state).value for r in page.dag_runs if r.run_id in wanted]
        token = page.next_page_token
        if not token:
            return found


def _runs_at(client: Any, dag_id: str, dates: list[datetime]) -> dict[datetime, str]:
    """The run id of `dag_id`'s run at each logical date that has one."""
    wanted = set(dates)
    found: dict[datetime, str] = {}
    token = ""
    while True:
        page = client.list_dag_runs(dag_id, page_size=1000, page_token=token)
        for run in page.dag_runs:
            moment = run.logical_date.ToDatetime(UTC)
            if moment in wanted:
                found[moment] = run.run_id
        token = page.next_page_token
        if not token or len(found) == len(wanted):
            return found


def _states(value: Iterable[Any] | None, default: list[str], kind: Any, what: str, where: str) -> list[str]:
    names = default if value is None else [str(getattr(s, "value", s)) for s in value]
    valid = {s.value for s in kind}
    wrong = [n for n in names if n not in valid]
    if wrong:
        noun = "task instance" if kind is TaskState else "DAG run"
        raise DagDefinitionError(f"{where}: {what} has {wrong[0]!r}, not a {noun} state ({', '.join(sorted(valid))})")
    return names


class ExternalTaskMarker(EmptyOperator):
    """Succeeds at once in the scheduler, as Airflow's; names the task of another DAG that waits on
    this one, at `logical_date` (a template)."""

    template_fields = ("external_dag_id", "external_task_id", "logical_date")

    def __init__(
        self,
        *,
        task_id: str,
        external_dag_id: str,
        external_task_id: str,
        logical_date: str | datetime | None = "{{ logical_date.isoformat() }}",
        recursion_depth: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if not isinstance(recursion_depth, int) or isinstance(recursion_depth, bool) or recursion_depth <= 0:
            raise DagDefinitionError(
                f"{self.where}: recursion_depth must be a positive integer, not {recursion_depth!r}"
            )
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.logical_date = logical_date.isoformat() if isinstance(logical_date, datetime) else logical_date
        self.recursion_depth = recursion_depth
