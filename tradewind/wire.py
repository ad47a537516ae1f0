"""Domain values <-> protobuf. The one place where wire messages are built and read.

Enum names on the wire carry a prefix (TASK_STATE_SUCCESS); in the domain, the CLI and the
TUI they are the lowercase Airflow names ("success").
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from tradewind.exceptions import InvalidArgument
from tradewind.states import RunState, TaskState
from tradewind.v1 import common_pb2, control_pb2, worker_pb2

# ---- limits (worker.proto's Limits and package comment; control.proto's input rules) -------
MiB = 1024 * 1024
#: The largest message either side sends on any stream or call.
MAX_MESSAGE_BYTES = 16 * MiB
#: The largest TaskFinished.return_value_json (an XCom value).
MAX_RETURN_VALUE_BYTES = 1 * MiB
#: The largest LogChunk.data, and the largest TailLogsResponse.data.
MAX_LOG_CHUNK_BYTES = 1 * MiB
#: The largest TaskFinished.error; longer is cut.
MAX_ERROR_CHARS = 65_536
#: The longest TaskFinished.rendered_map_index kept (Airflow's column is as long).
MAX_RENDERED_MAP_INDEX_CHARS = 250
#: A stream must send its Hello within this long.
HELLO_TIMEOUT_SECONDS = 10.0
#: Between SIGTERM and SIGKILL when an attempt is cancelled or times out.
KILL_GRACE_SECONDS = 5.0
#: Longest Hello.host, Hello.version, label key or value, free-text reason.
MAX_HOST_CHARS = 255
MAX_VERSION_CHARS = 64
MAX_LABELS = 64
MAX_LABEL_CHARS = 255
MAX_QUEUES = 64
MAX_REASON_CHARS = 4096
#: Longest description (pools) and conf.
MAX_DESCRIPTION_CHARS = 4096
MAX_CONF_BYTES = 1 * MiB
MAX_CONF_DEPTH = 100
#: Changes a Watch stream may have waiting before it is sent a resync.
MAX_WATCH_BACKLOG = 10_000
#: The longest XCom key; the most task ids and map indexes one XComPull names.
MAX_XCOM_KEY_CHARS = 250
MAX_PULL_TASK_IDS = 1000
MAX_PULL_MAP_INDEXES = 10_000
#: The most task ids one TaskFinished.follow names.
MAX_FOLLOW_TASK_IDS = 10_000
#: A variable's key; a connection's text fields (conn_type, host, login, password, schema); its extra.
MAX_VARIABLE_KEY_CHARS = 250
MAX_CONNECTION_FIELD_CHARS = 500
MAX_CONNECTION_EXTRA_CHARS = 65_536
#: dag_id, task_id and pool names; run ids also allow : and + (control.proto's input rules).
ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,250}")
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:+\-]{1,250}")
#: A worker's name and its queues' names (worker.proto Hello.name, Hello.queues).
WORKER_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.@:\-]{1,200}")
#: Hello.instance_id.
INSTANCE_ID_PATTERN = re.compile(r"[A-Za-z0-9\-]{1,64}")
#: The range of a Timestamp, and of a logical date a schedule can compute.
MIN_TIMESTAMP = datetime(1, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MIN_LOGICAL_DATE = datetime(1970, 1, 1, tzinfo=UTC)
#: The most logical dates one backfill may cover; its max_active_runs when 0, and at most.
MAX_BACKFILL_DATES = 10_000
DEFAULT_BACKFILL_ACTIVE_RUNS = 10
MAX_BACKFILL_ACTIVE_RUNS = 1000


class Outcome(StrEnum):
    """How an attempt ended on its worker (TaskOutcome)."""

    SUCCESS = "success"
    FAILED = "failed"
    FAILED_NO_RETRY = "failed_no_retry"
    SKIPPED = "skipped"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    #: Not the task's fault: the same try runs again elsewhere.
    LOST = "lost"
    #: A sensor in reschedule mode: the same try runs again at its reschedule date.
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    #: The task deferred itself: the same try resumes when its trigger fires.
    DEFERRED = "deferred"


#: Resume.next_method of a deferred task whose trigger timed out or failed (as in Airflow).
RESUME_FAIL_METHOD = "__fail__"
#: The "error" a RESUME_FAIL_METHOD resumption carries when the deferral timed out.
TRIGGER_TIMEOUT_ERROR = "Trigger timeout"
#: Deferral.trigger_classpath: a dotted Python path.
CLASSPATH_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
MAX_CLASSPATH_CHARS = 1000


class Refusal(StrEnum):
    """Why a worker refused an assignment (RefusalReason)."""

    DRAINING = "draining"
    NO_FREE_SLOT = "no_free_slot"
    UNSUPPORTED_KIND = "unsupported_kind"
    OTHER = "other"


class RequestError(StrEnum):
    """Why a task's request was not carried out (TaskRequestErrorCode)."""

    INVALID_ARGUMENT = "invalid_argument"
    #: The attempt is not current, or not held by the session that sent the request.
    NOT_CURRENT = "not_current"
    NOT_FOUND = "not_found"
    RESOURCE_EXHAUSTED = "resource_exhausted"
    UNIMPLEMENTED = "unimplemented"
    #: Not the request's fault: the same request may succeed later.
    UNAVAILABLE = "unavailable"


class WaitReason(StrEnum):
    """What holds a task instance back (control.proto WaitReason)."""

    UPSTREAM = "upstream"
    POOL_FULL = "pool_full"
    POOL_MISSING = "pool_missing"
    MAX_ACTIVE_TASKS = "max_active_tasks"
    MAX_ACTIVE_RUNS = "max_active_runs"
    NO_WORKER = "no_worker"
    NO_FREE_SLOT = "no_free_slot"
    RETRY_DELAY = "retry_delay"
    DAG_PAUSED = "dag_paused"
    WAITING_FOR_ACK = "waiting_for_ack"
    SEQUENTIAL = "sequential"
    QUEUE_ORDER = "queue_order"
    NOT_WAITING = "not_waiting"
    WORKER_RECONNECTING = "worker_reconnecting"
    PREVIOUS_RUN = "previous_run"
    RESCHEDULE_DELAY = "reschedule_delay"
    TRIGGER = "trigger"


class Reprocess(StrEnum):
    """What a backfill does with a logical date that already has a run (ReprocessBehavior)."""

    NONE = "none"
    FAILED = "failed"
    COMPLETED = "completed"


class BackfillState(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


def _by_prefix(enum: type[StrEnum], pb_enum: Any, prefix: str) -> dict[Any, int]:
    return {member: pb_enum.Value(f"{prefix}{member.name}") for member in enum}


_OUTCOME_TO_PB = _by_prefix(Outcome, worker_pb2.TaskOutcome, "TASK_OUTCOME_")
_OUTCOME_FROM_PB = {v: k for k, v in _OUTCOME_TO_PB.items()}
_REFUSAL_TO_PB = _by_prefix(Refusal, worker_pb2.RefusalReason, "REFUSAL_REASON_")
_REFUSAL_FROM_PB = {v: k for k, v in _REFUSAL_TO_PB.items()}
_REQUEST_ERROR_TO_PB = _by_prefix(RequestError, worker_pb2.TaskRequestErrorCode, "TASK_REQUEST_ERROR_")
_REQUEST_ERROR_FROM_PB = {v: k for k, v in _REQUEST_ERROR_TO_PB.items()}
_WAIT_TO_PB = _by_prefix(WaitReason, control_pb2.WaitReason, "WAIT_REASON_")
_WAIT_FROM_PB = {v: k for k, v in _WAIT_TO_PB.items()}
_REPROCESS_TO_PB = _by_prefix(Reprocess, control_pb2.ReprocessBehavior, "REPROCESS_BEHAVIOR_")
_REPROCESS_FROM_PB = {v: k for k, v in _REPROCESS_TO_PB.items()}
_BACKFILL_TO_PB = _by_prefix(BackfillState, control_pb2.BackfillState, "BACKFILL_STATE_")
_BACKFILL_FROM_PB = {v: k for k, v in _BACKFILL_TO_PB.items()}


def outcome_to_pb(outcome: Outcome | str) -> int:
    return _OUTCOME_TO_PB[Outcome(outcome)]


def outcome_from_pb(value: int) -> Outcome:
    """Raise InvalidArgument for TASK_OUTCOME_UNSPECIFIED or an unknown number."""
    try:
        return _OUTCOME_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"finished.outcome must be set to a known value, not {value}") from None


def refusal_to_pb(refusal: Refusal | str) -> int:
    return _REFUSAL_TO_PB[Refusal(refusal)]


def refusal_from_pb(value: int) -> Refusal:
    """Raise InvalidArgument for REFUSAL_REASON_UNSPECIFIED or an unknown number."""
    try:
        return _REFUSAL_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"ack.refusal must be set to a known value when accepted is false, not {value}") from None


def request_error_to_pb(code: RequestError | str) -> int:
    return _REQUEST_ERROR_TO_PB[RequestError(code)]


def request_error_from_pb(value: int) -> RequestError:
    """UNAVAILABLE for TASK_REQUEST_ERROR_UNSPECIFIED or a code this version does not know: a
    task cannot tell what went wrong, so it may try again."""
    return _REQUEST_ERROR_FROM_PB.get(value, RequestError.UNAVAILABLE)


def wait_reason_to_pb(reason: WaitReason | str) -> int:
    return _WAIT_TO_PB[WaitReason(reason)]


def wait_reason_from_pb(value: int) -> WaitReason:
    try:
        return _WAIT_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"wait reason must be a known value, not {value}") from None

#: Token roles (control.proto TokenRole), as the lowercase names the CLI and the metastore use.
TOKEN_ROLES = ("worker", "viewer", "operator", "admin")
_ROLE_TO_PB = {role: control_pb2.TokenRole.Value(f"TOKEN_ROLE_{role.upper()}") for role in TOKEN_ROLES}
_ROLE_FROM_PB = {v: k for k, v in _ROLE_TO_PB.items()}
#: The longest a token may live: 100 years, in seconds (CreateTokenRequest.expires_in_seconds).
MAX_TOKEN_SECONDS = 3_153_600_000


def token_role_to_pb(role: str) -> int:
    return _ROLE_TO_PB[role]


def token_role_from_pb(value: int) -> str:
    try:
        return _ROLE_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"role must be one of {', '.join(TOKEN_ROLES)}, not {value}") from None

def reprocess_to_pb(reprocess: Reprocess | str) -> int:
    return _REPROCESS_TO_PB[Reprocess(reprocess)]


def reprocess_from_pb(value: int) -> Reprocess:
    """REPROCESS_BEHAVIOR_UNSPECIFIED reads as NONE, Airflow's default."""
    if value == control_pb2.REPROCESS_BEHAVIOR_UNSPECIFIED:
        return Reprocess.NONE
    try:
        return _REPROCESS_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"reprocess_behavior must be a known value, not {value}") from None


def backfill_state_to_pb(state: BackfillState | str) -> int:
    return _BACKFILL_TO_PB[BackfillState(state)]


def backfill_state_from_pb(value: int) -> BackfillState:
    try:
        return _BACKFILL_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"backfill state must be a known value, not {value}") from None


_TASK_TO_PB: dict[TaskState, common_pb2.TaskState] = {
    state: common_pb2.TaskState.Value(f"TASK_STATE_{state.name}")  # type: ignore[misc]
    for state in TaskState
}
_TASK_FROM_PB: dict[int, TaskState] = {value: state for state, value in _TASK_TO_PB.items()}
_RUN_TO_PB: dict[RunState, common_pb2.RunState] = {
    state: common_pb2.RunState.Value(f"RUN_STATE_{state.name}")  # type: ignore[misc]
    for state in RunState
}
_RUN_FROM_PB: dict[int, RunState] = {value: state for state, value in _RUN_TO_PB.items()}
_KIND_NAMES: dict[str, common_pb2.TaskKind] = {
    "bash": common_pb2.TASK_KIND_BASH,
    "python": common_pb2.TASK_KIND_PYTHON,
}


def task_state_to_pb(state: TaskState | str) -> common_pb2.TaskState:
    return _TASK_TO_PB[TaskState(state)]


def task_state_from_pb(value: int) -> TaskState:
    """Raise InvalidArgument for TASK_STATE_UNSPECIFIED or an unknown number."""
    try:
        return _TASK_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"task state must be set to a known value, not {value}") from None


def run_state_to_pb(state: RunState | str) -> common_pb2.RunState:
    return _RUN_TO_PB[RunState(state)]


def run_state_from_pb(value: int) -> RunState:
    try:
        return _RUN_FROM_PB[value]
    except KeyError:
        raise InvalidArgument(f"run state must be set to a known value, not {value}") from None


def task_kind_to_pb(kind: str) -> common_pb2.TaskKind:
    return _KIND_NAMES[kind]


def task_kind_name(value: int) -> str:
    """ "bash" for TASK_KIND_BASH; "unknown(N)" for a number this version does not know."""
    for name, number in _KIND_NAMES.items():
        if number == value:
            return name
    return f"unknown({value})"


def to_timestamp(value: datetime | None) -> Timestamp | None:
    """A timezone-aware datetime (naive ones are taken as UTC) as a Timestamp; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def from_timestamp(stamp: Timestamp, present: bool = True) -> datetime | None:
    """An aware UTC datetime, or None when the field is unset (`present` False or all zero)."""
    if not present or (stamp.seconds == 0 and stamp.nanos == 0):
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def conf_from_json(text: str, what: str) -> dict[str, Any]:
    """A DAG run's conf: empty text is {}; anything but a JSON object within control.proto's
    limits (1 MiB, nested 100 deep, no NaN or Infinity) is InvalidArgument naming `what`.

    The depth is measured before parsing so that a conf nested thousands deep is an answer,
    not a RecursionError; NaN and Infinity are refused because they are not JSON and would
    be stored as text no other reader accepts.
    """
    if not text:
        return {}
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CONF_BYTES:
        raise InvalidArgument(f"{what} is {size:,} bytes; the limit is {MAX_CONF_BYTES:,}")
    depth = json_depth(text)
    if depth > MAX_CONF_DEPTH:
        raise InvalidArgument(f"{what} is nested {depth} levels deep; the limit is {MAX_CONF_DEPTH}")
    try:
        conf = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except ValueError as exc:
        raise InvalidArgument(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(conf, dict):
        raise InvalidArgument(f"{what} must be a JSON object, not {type(conf).__name__}")
    _check_strings(conf, what)
    return conf


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings ignored)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _check_strings(value: Any, what: str) -> None:
    """Refuse NUL characters and lone surrogates in keys and values: no backend or task stores or passes them."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, what)
            _check_strings(item, what)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, what)
    elif isinstance(value, str):
        if "\x00" in value:
            raise InvalidArgument(f"{what} must not contain a NUL character (\\u0000)")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgument(f"{what} must not contain a lone surrogate ({value!r:.40})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a number")
    return value
