from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from coordinator.clock import FakeClock
from coordinator.dagspec import DagSpec
from coordinator.scheduler import Ids, Scheduler
from coordinator.scheduling.effects import Assign
from coordinator.scheduling.slots import invariant_errors
from coordinator.sessions import WorkerSession


def task(task_id: str, upstream: list[str] | None = None, kind: str = "bash", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task_id": task_id,
        "operator": "BashOperator",
        "kind": kind,
        "upstream": sorted(upstream or []),
        "trigger_rule": "all_success",
        "retries": 0,
        "retry_delay": 0.0,
        "retry_exponential_backoff": False,
        "max_retry_delay": None,
        "queue": "default",
        "pool": "default_pool",
        "pool_slots": 1,
        "priority_weight": 1,
        "weight_rule": "downstream",
        "execution_timeout": None,
        "do_xcom_push": True,
        "bash": {
            "bash_command": f"echo {task_id}",
            "env": None,
            "append_env": False,
            "cwd": None,
            "skip_on_exit_code": [99],
        },
    }
    data.update(extra)
    return data


def dag(dag_id: str, tasks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": 1,
        "dag_id": dag_id,
        "fileloc": f"{dag_id}.py",
        "description": "",
        "owner": "",
        "schedule": None,
        "start_date": None,
        "end_date": None,
        "catchup": False,
        "max_active_runs": 16,
        "max_active_tasks": 16,
        "tags": [],
        "params": {},
        "is_paused_upon_creation": None,
        "tasks": tasks,
    }
    data.update(extra)
    return data


#: Every way an event or command enters the scheduler; the harness checks the counters after each.
ENTRIES = (
    "register_dag",
    "deactivate",
    "set_paused",
    "trigger",
    "join",
    "left",
    "draining",
    "expect",
    "drain",
    "acked",
    "started",
    "finished",
    "clear",
    "mark",
    "cancel_run",
    "set_pool",
    "delete_pool",
    "fire_timers",
    "dispatch",
    "emit_external",
    "check_assets",
)


class Harness:
    """A scheduler with a fake clock and helpers to drive it the way the engine does."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.scheduler = Scheduler(self.clock, Ids(), ack_timeout=5.0, heartbeat_timeout=10.0)
        self.scheduler.pools = {"default_pool": 128}
        self.versions = 0
        self.effects: list[Any] = []
        for name in ENTRIES:
            setattr(self.scheduler, name, self._checked(getattr(self.scheduler, name)))

    def _checked(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self.check()
            return result

        return call

    def add_dag(self, data: dict[str, Any], paused: bool = False) -> DagSpec:
        self.versions += 1
        spec = DagSpec.build(self.versions, data, "0" * 64)
        self.scheduler.register_dag(spec, paused, None)
        return spec

    def worker(self, name: str = "w1", slots: int = 4, queues: tuple[str, ...] = ("default",)) -> WorkerSession:
        session = WorkerSession(name, queues, frozenset({"bash", "python"}), slots, instance_id=f"{name}-1")
        self.scheduler.join(session, ())
        self.check()
        return session

    def gen(self, name: str = "w1") -> int:
        """The generation of a worker's live session, as its stream's events carry it."""
        return self.scheduler.workers[name].generation

    def check(self) -> None:
        """The counters that must agree do; run after every event."""
        errors = invariant_errors(self.scheduler)
        assert not errors, errors

    def advance(self, seconds: float) -> None:
        """Move time on while every connected worker keeps heartbeating."""
        self.clock.advance(seconds)
        for worker in self.scheduler.workers.values():
            if worker.connected:
                worker.last_seen = self.clock.monotonic()

    def turn(self) -> list[Any]:
        self.scheduler.fire_timers()
        self.check()
        self.scheduler.dispatch()
        self.check()
        _, effects = self.scheduler.take()
        self.effects.extend(effects)
        return effects

    def assignments(self, effects: list[Any]) -> list[Any]:
        return [e.ti for e in effects if isinstance(e, Assign)]


@pytest.fixture
def harness() -> Harness:
    return Harness()
