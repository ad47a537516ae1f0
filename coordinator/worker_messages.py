"""What a worker may send: worker.proto's rules for each message, and the events they become.

Every rule is checked here, before anything reaches the scheduler or the metastore, and a
broken one is InvalidArgument naming the field, so a worker in any language learns what to fix.
A task's request that breaks a rule is answered with an error instead: it never ends the stream.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from coordinator import validation
from coordinator.events import (
    AliasAdded,
    AttemptRef,
    ConnectionRead,
    DeferralRequest,
    Finished,
    GetConnection,
    GetVariable,
    PullXCom,
    PushXCom,
    RequestFailed,
    RequestResult,
    SetVariable,
    TaskRequested,
    VariableRead,
    VariableWrite,
    XComsPulled,
)
from coordinator.sessions import WorkerSession
from tradewind import wire
from tradewind.assets import check_uri
from tradewind.connections import to_pb
from tradewind.exceptions import DagDefinitionError, InvalidArgument
from tradewind.skipping import FollowTasks
from tradewind.v1 import common_pb2, worker_pb2
from tradewind.wire import RequestError

NAME = wire.WORKER_NAME_PATTERN
INSTANCE_ID = wire.INSTANCE_ID_PATTERN
#: The longest deferral timeout: ten years.
MAX_DEFERRAL_SECONDS = 10 * 365 * 24 * 3600.0


def attempt_ref(message: common_pb2.Attempt, what: str) -> AttemptRef:
    if message.task_instance_id <= 0 or message.try_number <= 0 or not message.attempt_token:
        raise InvalidArgument(
            f"{what}: attempt needs task_instance_id > 0, try_number > 0 and an attempt_token, got "
            f"({message.task_instance_id}, {message.try_number}, {message.attempt_token!r})"
        )
    return AttemptRef(message.task_instance_id, message.try_number, message.attempt_token)


def _text(value: str, field: str, limit: int) -> None:
    validation.text(value, f"hello.{field}", limit)


def session_from_hello(hello: worker_pb2.Hello, now: datetime | None) -> WorkerSession:
    """The session a Hello asks for; InvalidArgument naming the first field that breaks a rule."""
    if not NAME.fullmatch(hello.name):
        raise InvalidArgument(
            f"hello.name: worker name must be 1-200 characters of letters, digits and _.@:-, not {hello.name[:250]!r}"
        )
    name = hello.name
    if not 1 <= hello.slots <= 10_000:
        raise InvalidArgument(f"hello.slots: worker {name!r} slots must be between 1 and 10000, not {hello.slots}")
    if len(hello.queues) > wire.MAX_QUEUES:
        raise InvalidArgument(
            f"hello.queues: worker {name!r} may serve at most {wire.MAX_QUEUES} queues, not {len(hello.queues)}"
        )
    queues = tuple(hello.queues) or ("default",)
    for queue in queues:
        if not NAME.fullmatch(queue):
            raise InvalidArgument(f"hello.queues: worker {name!r} has an invalid queue name {queue[:250]!r}")
    kinds = {wire.task_kind_name(k) for k in hello.kinds}
    unknown = sorted(k for k in kinds if k.startswith("unknown"))
    if unknown or not kinds:
        raise InvalidArgument(f"hello.kinds: worker {name!r} must declare known task kinds, got {unknown or 'none'}")
    _text(hello.host, "host", wire.MAX_HOST_CHARS)
    _text(hello.version, "version", wire.MAX_VERSION_CHARS)
    if len(hello.labels) > wire.MAX_LABELS:
        raise InvalidArgument(
            f"hello.labels: worker {name!r} may have at most {wire.MAX_LABELS} labels, not {len(hello.labels)}"
        )
    for key, value in hello.labels.items():
        _text(key, "labels", wire.MAX_LABEL_CHARS)
        _text(value, f"labels[{key!r}]", wire.MAX_LABEL_CHARS)
    if hello.instance_id and not INSTANCE_ID.fullmatch(hello.instance_id):
        raise InvalidArgument(
            f"hello.instance_id: worker {name!r} instance_id must be 1-64 letters, digits and -, "
            f"not {hello.instance_id[:100]!r}"
        )
    if len(hello.running) > hello.slots:
        raise InvalidArgument(
            f"hello.running: worker {name!r} lists {len(hello.running)} running attempts but has {hello.slots} slots"
        )
    return WorkerSession(
        name=name,
        queues=queues,
        kinds=frozenset(kinds),
        slots=hello.slots,
        host=hello.host,
        pid=hello.pid,
        labels=dict(hello.labels),
        version=hello.version,
        connected_at=now,
        instance_id=hello.instance_id,
    )


def moment(stamp: Timestamp, present: bool, what: str) -> datetime | None:
    """A reported time; None when unset, InvalidArgument when no datetime can hold it."""
    if not present or (stamp.seconds == 0 and stamp.nanos == 0):
        return None
    return validation.timestamp(stamp, what)


def oversized_return_value(size: int) -> str:
    return f"return value is {size / wire.MiB:.1f} MB; the limit is {wire.MAX_RETURN_VALUE_BYTES // wire.MiB} MB"


def finished_from_pb(f: worker_pb2.TaskFinished, session: WorkerSession) -> Finished:
    """The Finished event of a TaskFinished; a return value over the limit fails the task."""
    outcome = wire.outcome_from_pb(f.outcome)
    error, value = f.error[: wire.MAX_ERROR_CHARS], f.return_value_json
    size = len(value.encode())
    if size > wire.MAX_RETURN_VALUE_BYTES:
        # Refusing the message would make the worker resend it forever; the task failed instead.
        outcome, error, value = wire.Outcome.FAILED, oversized_return_value(size), ""
    follow = None
    if f.HasField("follow"):
        follow, broken = _follow(f.follow)
        if broken:
            outcome, error, value, follow = wire.Outcome.FAILED, broken, "", None
    outlet_extra = None
    if f.outlet_extra_json and outcome == wire.Outcome.SUCCESS:
        outlet_extra, broken = _outlet_extra(f.outlet_extra_json)
        if broken:
            outcome, error, value, follow = wire.Outcome.FAILED, broken, "", None
    alias_events: tuple[AliasAdded, ...] = ()
    if f.outlet_alias_events_json and outcome == wire.Outcome.SUCCESS:
        alias_events, broken = _alias_events(f.outlet_alias_events_json)
        if broken:
            outcome, error, value, follow, outlet_extra = wire.Outcome.FAILED, broken, "", None, None
    reschedule_date = moment(f.reschedule_date, f.HasField("reschedule_date"), "finished.reschedule_date")
    if (outcome is wire.Outcome.UP_FOR_RESCHEDULE) != (reschedule_date is not None):
        # Refusing the message would make the worker resend it forever; the try fails instead.
        broken = "finished.reschedule_date must be set with outcome UP_FOR_RESCHEDULE, and only then"
        outcome, error, value, reschedule_date = wire.Outcome.FAILED, broken, "", None
    deferral = None
    if (outcome is wire.Outcome.DEFERRED) != f.HasField("deferral"):
        broken = "finished.deferral must be set with outcome DEFERRED, and only then"
        outcome, error, value = wire.Outcome.FAILED, broken, ""
    elif f.HasField("deferral"):
        deferral, broken = _deferral(f.deferral)
        if broken:
            outcome, error, value, deferral = wire.Outcome.FAILED, broken, "", None
    return Finished(
        worker=session.name,
        attempt=attempt_ref(f.attempt, "finished"),
        outcome=outcome,
        exit_code=f.exit_code,
        error=error,
        return_value_json=value,
        ended_at=moment(f.ended_at, f.HasField("ended_at"), "finished.ended_at"),
        cpu_user=f.usage.cpu_user_seconds,
        cpu_system=f.usage.cpu_system_seconds,
        max_rss_bytes=f.usage.max_rss_bytes,
        generation=session.generation,
        follow=follow,
        outlet_extra=outlet_extra,
        alias_events=alias_events,
        reschedule_date=reschedule_date,
        deferral=deferral,
        rendered_map_index=_rendered_map_index(f.rendered_map_index),
    )


def _outlet_extra(text: str) -> tuple[dict[str, dict[str, Any]] | None, str]:
    """TaskFinished.outlet_extra_json by its rules; (None, the reason) when it breaks one."""
    try:
        extras = wire.conf_from_json(text, "finished.outlet_extra_json")
    except InvalidArgument as exc:
        return None, str(exc)
    for uri, extra in extras.items():
        if not isinstance(extra, dict):
            return None, f"outlet_events[{uri[:250]!r}].extra must be a JSON object, not {type(extra).__name__}"
    return extras, ""


def _alias_events(text: str) -> tuple[tuple[AliasAdded, ...], str]:
    """TaskFinished.outlet_alias_events_json by its rules; ((), the reason) when it breaks one."""
    what = "finished.outlet_alias_events_json"
    try:
        items = wire.conf_from_json(f'{{"events": {text}}}', what)["events"]
    except InvalidArgument as exc:
        return (), str(exc)
    if not isinstance(items, list):
        return (), f"{what} must be a JSON array, not {type(items).__name__}"
    added = []
    for item in items:
        fields = ("alias", "uri", "name", "group")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in fields):
            return (), f"{what}: each event is an object with alias, uri, name and group strings"
        extra = item.get("extra", {})
        if not isinstance(extra, dict):
            return (), f"{what}: the extra of an event of {item['uri'][:250]!r} must be a JSON object"
        try:
            check_uri(item["uri"])
            check_uri(item["name"], "name")
        except DagDefinitionError as exc:
            return (), f"outlet_events[AssetAlias({item['alias'][:250]!r})].add(): {exc}"
        added.append(AliasAdded(item["alias"], item["uri"], item["name"], item["group"][:250], extra))
    return tuple(added), ""


def _deferral(d: worker_pb2.Deferral) -> tuple[DeferralRequest | None, str]:
    """The deferral a TaskFinished carries, and what is wrong with it (empty when nothing is)."""
    if len(d.trigger_classpath) > wire.MAX_CLASSPATH_CHARS or not wire.CLASSPATH_PATTERN.fullmatch(
        d.trigger_classpath
    ):
        return None, f"finished.deferral.trigger_classpath {d.trigger_classpath[:250]!r} is not a dotted class path"
    if not d.next_method.isidentifier() or len(d.next_method) > 250:
        return None, f"finished.deferral.next_method {d.next_method[:250]!r} is not a method name"
    for name in ("trigger_kwargs_json", "next_kwargs_json"):
        text = getattr(d, name)
        if len(text.encode()) > wire.MAX_RETURN_VALUE_BYTES:
            return None, f"finished.deferral.{name}: {oversized_return_value(len(text.encode()))}"
        try:
            decoded = json.loads(text or "{}")
        except ValueError:
            return None, f"finished.deferral.{name} is not JSON"
        if not isinstance(decoded, dict):
            return None, f"finished.deferral.{name} must be a JSON object"
    if not math.isfinite(d.timeout_seconds) or d.timeout_seconds < 0 or d.timeout_seconds > MAX_DEFERRAL_SECONDS:
        return None, f"finished.deferral.timeout_seconds must be 0 to {MAX_DEFERRAL_SECONDS:g}, not {d.timeout_seconds}"
    timeout = timedelta(seconds=d.timeout_seconds) if d.timeout_seconds else None
    return DeferralRequest(d.trigger_classpath, d.trigger_kwargs_json, d.next_method, d.next_kwargs_json, timeout), ""


def _rendered_map_index(value: str) -> str:
    """A name for people: NULs are dropped and the rest cut, as refusing the message would make
    the worker send it again forever."""
    return value.replace("\x00", "")[: wire.MAX_RENDERED_MAP_INDEX_CHARS]


def _follow(follow: worker_pb2.FollowTasks) -> tuple[FollowTasks, str]:
    """The choice a TaskFinished carries, and what is wrong with it (empty when nothing is)."""
    ids = tuple(follow.task_ids)
    if len(ids) > wire.MAX_FOLLOW_TASK_IDS:
        return FollowTasks(), f"finished.follow names {len(ids)} tasks; the limit is {wire.MAX_FOLLOW_TASK_IDS}"
    bad = next((i for i in ids if not wire.ID_PATTERN.fullmatch(i)), None)
    if bad is not None:
        return FollowTasks(), f"finished.follow: {bad[:250]!r} is not a task id"
    if ids and follow.skip_all_downstream:
        return FollowTasks(), "finished.follow: task_ids must be empty when skip_all_downstream is set"
    return FollowTasks(ids, follow.skip_all_downstream), ""


def task_request_from_pb(r: worker_pb2.TaskRequest, session: WorkerSession) -> TaskRequested | RequestFailed:
    """The event of a TaskRequest, or the error it is answered with when it breaks a rule."""
    try:
        if r.request_id <= 0:
            raise InvalidArgument(f"task_request.request_id must be > 0, not {r.request_id}")
        attempt = attempt_ref(r.attempt, f"task_request {r.request_id}")
        body = r.WhichOneof("request")
        if body == "xcom_push":
            request: PushXCom | PullXCom | GetVariable | SetVariable | GetConnection = _push(r.xcom_push)
        elif body == "xcom_pull":
            request = _pull(r.xcom_pull)
        elif body == "get_variable":
            request = GetVariable(_variable_key(r.get_variable.key, "get_variable"))
        elif body == "set_variable":
            request = _set_variable(r.set_variable)
        elif body == "get_connection":
            conn_id = r.get_connection.conn_id
            if not wire.ID_PATTERN.fullmatch(conn_id):
                raise InvalidArgument(f"get_connection.conn_id: {conn_id[:250]!r} is not a connection id")
            request = GetConnection(conn_id)
        else:
            return RequestFailed(
                RequestError.UNIMPLEMENTED,
                f"task_request {r.request_id}: worker {session.name!r} sent a request this coordinator does not know",
            )
    except InvalidArgument as exc:
        return RequestFailed(RequestError.INVALID_ARGUMENT, str(exc)[: wire.MAX_REASON_CHARS])
    return TaskRequested(session.name, session.generation, r.request_id, attempt, request)


def _key(key: str, what: str) -> str:
    if not key or len(key) > wire.MAX_XCOM_KEY_CHARS or "\x00" in key:
        raise InvalidArgument(
            f"{what}.key must be 1 to {wire.MAX_XCOM_KEY_CHARS} characters without NUL, not {key[:100]!r}"
        )
    return key


def _variable_key(key: str, what: str) -> str:
    if not key or len(key) > wire.MAX_VARIABLE_KEY_CHARS or "\x00" in key:
        raise InvalidArgument(
            f"{what}.key must be 1 to {wire.MAX_VARIABLE_KEY_CHARS} characters without NUL, not {key[:100]!r}"
        )
    return key


def _set_variable(request: worker_pb2.SetVariable) -> SetVariable:
    key = _variable_key(request.key, "set_variable")
    if len(request.value.encode()) > wire.MAX_RETURN_VALUE_BYTES:
        limit = wire.MAX_RETURN_VALUE_BYTES // wire.MiB
        raise InvalidArgument(f"set_variable: variable {key!r} is over the limit of {limit} MB")
    if (
        "\x00" in request.value
        or "\x00" in request.description
        or len(request.description) > wire.MAX_DESCRIPTION_CHARS
    ):
        raise InvalidArgument(
            f"set_variable: variable {key!r}: no NUL, description at most {wire.MAX_DESCRIPTION_CHARS} characters"
        )
    return SetVariable(key, request.value, request.description)


def _push(push: worker_pb2.XComPush) -> PushXCom:
    key = _key(push.key, "xcom_push")
    size = len(push.value_json.encode())
    if size > wire.MAX_RETURN_VALUE_BYTES:
        limit = wire.MAX_RETURN_VALUE_BYTES // wire.MiB
        raise InvalidArgument(f"xcom_push: XCom {key!r} is {size / wire.MiB:.1f} MB; the limit is {limit} MB")
    depth = wire.json_depth(push.value_json)
    if depth > wire.MAX_CONF_DEPTH:
        raise InvalidArgument(
            f"xcom_push: XCom {key!r} is nested {depth} levels deep; the limit is {wire.MAX_CONF_DEPTH}"
        )
    try:
        json.loads(push.value_json, parse_constant=_no_constant)
    except ValueError as exc:
        raise InvalidArgument(f"xcom_push: XCom {key!r} is not a JSON value: {exc}") from None
    return PushXCom(key, push.value_json)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _pull(pull: worker_pb2.XComPull) -> PullXCom:
    key = _key(pull.key, "xcom_pull")
    if not 1 <= len(pull.task_ids) <= wire.MAX_PULL_TASK_IDS:
        raise InvalidArgument(
            f"xcom_pull.task_ids must name 1 to {wire.MAX_PULL_TASK_IDS} tasks, not {len(pull.task_ids)}"
        )
    for task_id in pull.task_ids:
        if not wire.ID_PATTERN.fullmatch(task_id):
            raise InvalidArgument(f"xcom_pull.task_ids: {task_id[:250]!r} is not a task id")
    if len(pull.map_indexes) > wire.MAX_PULL_MAP_INDEXES:
        raise InvalidArgument(
            f"xcom_pull.map_indexes may name at most {wire.MAX_PULL_MAP_INDEXES}, not {len(pull.map_indexes)}"
        )
    below = [i for i in pull.map_indexes if i < -1]
    if below:
        raise InvalidArgument(f"xcom_pull.map_indexes must be -1 or more, not {below[0]}")
    if pull.dag_id and not wire.ID_PATTERN.fullmatch(pull.dag_id):
        raise InvalidArgument(f"xcom_pull.dag_id: {pull.dag_id[:250]!r} is not a DAG id")
    if pull.run_id and not wire.RUN_ID_PATTERN.fullmatch(pull.run_id):
        raise InvalidArgument(f"xcom_pull.run_id: {pull.run_id[:250]!r} is not a run id")
    return PullXCom(tuple(pull.task_ids), key, tuple(pull.map_indexes), pull.dag_id, pull.run_id)


def task_response_pb(request_id: int, result: RequestResult) -> worker_pb2.CoordinatorMessage:
    response = worker_pb2.TaskResponse(request_id=request_id)
    if isinstance(result, RequestFailed):
        response.error.code = wire.request_error_to_pb(result.code)  # type: ignore[assignment]
        response.error.message = result.message[: wire.MAX_REASON_CHARS]
    elif isinstance(result, XComsPulled):
        response.xcom_pull.values.extend(
            worker_pb2.XComValue(task_id=t, map_index=i, value_json=v) for t, i, v in result.values
        )
    elif isinstance(result, VariableRead):
        response.get_variable.found = result.value is not None
        response.get_variable.value = result.value or ""
    elif isinstance(result, ConnectionRead):
        response.get_connection.SetInParent()
        if result.connection is not None:
            response.get_connection.found = True
            response.get_connection.connection.CopyFrom(to_pb(result.connection))
    elif isinstance(result, VariableWrite):
        response.set_variable.SetInParent()
    else:
        response.xcom_push.SetInParent()
    return worker_pb2.CoordinatorMessage(task_response=response)
