"""BaseSensorOperator: a task that waits for a condition by poking it, with Airflow's semantics.

`poke(context)` returns a bool or a PokeReturnValue. In mode "poke" the sensor holds its worker
slot and sleeps between pokes; in mode "reschedule" each poke is a short execution of the same
try, and between pokes the task instance is up_for_reschedule and holds no slot. `timeout`
counts from the first poke of the try (in reschedule mode, the first execution's start, which
the coordinator sends with every later one); past it the sensor fails without retry
(SensorTimeout), or is skipped with `soft_fail`. A sensor that can defer (`deferrable=True`)
pokes once, then waits in the triggerer holding no slot; a deferral past `timeout` is the same
timeout.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tradewind import unsupported
from tradewind.baseoperator import BaseOperator, seconds
from tradewind.exceptions import (
    DagDefinitionError,
    SensorTimeout,
    TaskDeferralTimeout,
    TaskRescheduled,
    TaskSkipped,
)

MODES = ("poke", "reschedule")
#: Airflow's default timeout: seven days.
DEFAULT_TIMEOUT = 7 * 24 * 3600.0


@dataclass(frozen=True)
class PokeReturnValue:
    """What a poke may return instead of a bool: whether the wait is over, and the sensor's XCom."""

    is_done: bool
    xcom_value: Any = None

    def __bool__(self) -> bool:
        return self.is_done


class BaseSensorOperator(BaseOperator):
    """Subclasses implement `poke(context)`; `execute` runs the loop around it. A sensor that
    can wait in the triggerer sets `can_defer` and defers in execute() when `deferrable`."""

    can_defer = False

    def __init__(
        self,
        *,
        task_id: str,
        poke_interval: float | timedelta = 60,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        soft_fail: bool = False,
        mode: str = "poke",
        exponential_backoff: bool = False,
        max_wait: float | timedelta | None = None,
        silent_fail: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        where = self.where
        if deferrable and not self.can_defer:
            unsupported.not_yet(f"deferrable=True for {type(self).__name__}", where)
        self.poke_interval = seconds(poke_interval, "poke_interval", where) or 0.0
        timeout_seconds = seconds(timeout, "timeout", where)
        self.timeout = DEFAULT_TIMEOUT if timeout_seconds is None else timeout_seconds
        self.max_wait = seconds(max_wait, "max_wait", where)
        if mode not in MODES:
            raise DagDefinitionError(f"{where}: mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.soft_fail = bool(soft_fail)
        self.silent_fail = bool(silent_fail)
        self.exponential_backoff = bool(exponential_backoff)
        self.deferrable = bool(deferrable)

    @property
    def reschedule(self) -> bool:
        return self.mode == "reschedule"

    def poke(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        """Whether the condition is met; sensors override this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement poke(context)")

    def execute(self, context: dict[str, Any]) -> Any:
        ti = context.get("ti")
        first_poke_at: datetime | None = getattr(ti, "reschedule_started_at", None) if self.reschedule else None
        started_at = first_poke_at or datetime.now(UTC)
        pokes = getattr(ti, "reschedule_count", 0) if self.reschedule else 0
        while True:
            result = self._poke_once(context)
            if result:
                return result.xcom_value if isinstance(result, PokeReturnValue) else None
            waited = (datetime.now(UTC) - started_at).total_seconds()
            if waited > self.timeout:
                message = f"{self.where}: sensor timed out after {waited:.1f}s (timeout {self.timeout:g}s)"
                if self.soft_fail:
                    raise TaskSkipped(message)
                raise SensorTimeout(message)
            pokes += 1
            interval = self.next_poke_interval(started_at, waited, pokes)
            print(f"Poke {pokes}: condition not met; next poke in {interval:g}s", flush=True)
            if self.reschedule:
                raise TaskRescheduled(datetime.now(UTC) + timedelta(seconds=interval))
            time.sleep(interval)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any], context: dict[str, Any]) -> Any:
        """A deferral that timed out is the sensor's timeout: failed without retry, or skipped
        with soft_fail, as in Airflow."""
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except TaskDeferralTimeout as exc:
            if self.soft_fail:
                raise TaskSkipped(str(exc)) from None
            raise SensorTimeout(str(exc)) from None

    def execute_complete(self, context: dict[str, Any], event: Any = None) -> Any:
        """Where a deferred sensor resumes: its trigger fired, so the condition holds."""
        print(f"{self.where}: the trigger fired ({event!r})", flush=True)
        return None

    def _poke_once(self, context: dict[str, Any]) -> bool | PokeReturnValue:
        try:
            return self.poke(context)
        except (SensorTimeout, TaskSkipped):
            raise
        except Exception as exc:
            if not self.silent_fail:
                raise
            print(f"{self.where}: poke raised {type(exc).__name__}: {exc}; silent_fail treats it as False", flush=True)
            return False

    def next_poke_interval(self, started_at: datetime, waited: float, pokes: int) -> float:
        """Airflow's interval: poke_interval, or with exponential_backoff a doubling, jittered
        (by a hash of the task, its start and the poke count) delay, at most max_wait and never
        past the timeout."""
        if not self.exponential_backoff:
            return self.poke_interval
        if pokes < 1:
            return self.poke_interval
        least = max(int(self.poke_interval * (2 ** (pokes - 2))), 1)
        dag_id = self.dag.dag_id if self.dag is not None else ""
        digest = hashlib.sha1(f"{dag_id}#{self.task_id}#{started_at}#{pokes}".encode()).hexdigest()
        interval = float(min(least + int(digest, 16) % least, self.timeout - int(waited)))
        if self.max_wait is not None:
            interval = min(self.max_wait, interval)
        return max(interval, 0.0)
