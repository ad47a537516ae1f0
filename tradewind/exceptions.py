"""Every error Tradewind raises on purpose.

    TradewindError                      base of everything below
    ├── ConfigError                     a bad setting, flag or environment variable
    ├── DagDefinitionError              a DAG file defines an impossible DAG (cycle, duplicate task id,
    │                                   unknown trigger rule, bad argument); raised at parse time
    ├── SerializationError              a DAG or value cannot be turned into JSON for the wire
    ├── TemplateError                   a template failed to render
    ├── MetastoreError                  the metastore cannot be opened or used
    │   └── SchemaVersionError          the metastore was written by a newer Tradewind
    ├── StateTransitionError            a state change not in the transition table
    ├── ConnectionNotFound              no source (environment, metastore, defaults) has the conn_id
    ├── ConnectionFailed                a hook could not open its connection (names conn_id and host)
    ├── SqlStatementError               a SQL statement failed (the database's message, the statement)
    ├── ApiError                        a ControlService call failed; carries the gRPC status name
    │   ├── NotFound                    the named DAG, run, task or worker does not exist
    │   ├── InvalidArgument             a request field is malformed or out of range
    │   ├── FailedPrecondition          the request conflicts with the current state
    │   ├── AlreadyExists               the name is taken (a live worker of another identity)
    │   ├── Unavailable                 the coordinator cannot be reached
    │   ├── Unauthenticated             no token, or one unknown, expired or revoked
    │   └── PermissionDenied            the token's role may not make this call
    └── TaskOutcome                     raised inside a task to end it in a given state
        ├── TaskSkipped                 end as skipped
        ├── TaskFailedNoRetry           end as failed, without retrying
        │   └── SensorTimeout           a sensor waited longer than its timeout
        ├── TaskFailed                  end as failed (retried if retries are left)
        │   └── TaskDeferralTimeout     a deferred task's trigger did not fire within its timeout
        ├── TaskRescheduled             end this poke as up_for_reschedule until reschedule_date
        └── TaskDeferred                end this execution as deferred until its trigger fires

Airflow names are aliases: AirflowSkipException = TaskSkipped, AirflowFailException =
TaskFailedNoRetry, AirflowException = TaskFailed, AirflowSensorTimeout = SensorTimeout,
AirflowRescheduleException = TaskRescheduled; TaskDeferred and TaskDeferralTimeout keep their names.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


class TradewindError(Exception):
    """Base of every error Tradewind raises on purpose."""


class ConfigError(TradewindError):
    pass


class DagDefinitionError(TradewindError):
    pass


class SerializationError(TradewindError):
    pass


class TemplateError(TradewindError):
    pass


class MetastoreError(TradewindError):
    pass


class SchemaVersionError(MetastoreError):
    pass


class StateTransitionError(TradewindError):
    pass


class ConnectionNotFound(TradewindError):
    pass


class ConnectionFailed(TradewindError):
    pass


class SqlStatementError(TradewindError):
    pass


class ApiError(TradewindError):
    """A ControlService call failed. `code` is the gRPC status name, e.g. "NOT_FOUND"."""

    code = "UNKNOWN"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class NotFound(ApiError):
    code = "NOT_FOUND"


class InvalidArgument(ApiError):
    code = "INVALID_ARGUMENT"


class FailedPrecondition(ApiError):
    code = "FAILED_PRECONDITION"


class AlreadyExists(ApiError):
    code = "ALREADY_EXISTS"


class Unavailable(ApiError):
    code = "UNAVAILABLE"


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class PermissionDenied(ApiError):
    code = "PERMISSION_DENIED"


class TaskOutcome(TradewindError):
    """Raised inside a task to end it in a given state."""


class TaskSkipped(TaskOutcome):
    pass


class TaskFailedNoRetry(TaskOutcome):
    pass


class TaskFailed(TaskOutcome):
    pass


class SensorTimeout(TaskFailedNoRetry):
    """A sensor's condition was not met within its timeout, counted from its try's first poke."""


class TaskRescheduled(TaskOutcome):
    """A sensor in reschedule mode gives its slot back until `reschedule_date` (aware, UTC)."""

    def __init__(self, reschedule_date: datetime) -> None:
        super().__init__(f"rescheduled to {reschedule_date.isoformat()}")
        self.reschedule_date = reschedule_date


class TaskDeferralTimeout(TaskFailed):
    """A deferred task's trigger did not fire within the timeout given to defer()."""


class TaskDeferred(TaskOutcome):
    """Raised by BaseOperator.defer(): the task gives its slot back until `trigger` fires, then
    resumes in `method_name(context, event=..., **kwargs)`. `timeout` is in seconds (or None)."""

    def __init__(
        self, *, trigger: Any, method_name: str, kwargs: dict[str, Any] | None = None, timeout: Any = None
    ) -> None:
        super().__init__(f"deferred to {type(trigger).__name__}, resuming in {method_name}")
        self.trigger = trigger
        self.method_name = method_name
        self.kwargs = dict(kwargs or {})
        self.timeout = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout


AirflowException = TaskFailed
AirflowSkipException = TaskSkipped
AirflowFailException = TaskFailedNoRetry
AirflowSensorTimeout = SensorTimeout
AirflowRescheduleException = TaskRescheduled
