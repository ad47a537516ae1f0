import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tradewind.v1 import common_pb2 as _common_pb2
from tradewind.v1 import payload_pb2 as _payload_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RefusalReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUSAL_REASON_UNSPECIFIED: _ClassVar[RefusalReason]
    REFUSAL_REASON_DRAINING: _ClassVar[RefusalReason]
    REFUSAL_REASON_NO_FREE_SLOT: _ClassVar[RefusalReason]
    REFUSAL_REASON_UNSUPPORTED_KIND: _ClassVar[RefusalReason]
    REFUSAL_REASON_OTHER: _ClassVar[RefusalReason]

class TaskOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_OUTCOME_UNSPECIFIED: _ClassVar[TaskOutcome]
    TASK_OUTCOME_SUCCESS: _ClassVar[TaskOutcome]
    TASK_OUTCOME_FAILED: _ClassVar[TaskOutcome]
    TASK_OUTCOME_FAILED_NO_RETRY: _ClassVar[TaskOutcome]
    TASK_OUTCOME_SKIPPED: _ClassVar[TaskOutcome]
    TASK_OUTCOME_TIMED_OUT: _ClassVar[TaskOutcome]
    TASK_OUTCOME_CANCELLED: _ClassVar[TaskOutcome]
    TASK_OUTCOME_LOST: _ClassVar[TaskOutcome]
    TASK_OUTCOME_DEFERRED: _ClassVar[TaskOutcome]
    TASK_OUTCOME_UP_FOR_RESCHEDULE: _ClassVar[TaskOutcome]

class TaskRequestErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_REQUEST_ERROR_UNSPECIFIED: _ClassVar[TaskRequestErrorCode]
    TASK_REQUEST_ERROR_INVALID_ARGUMENT: _ClassVar[TaskRequestErrorCode]
    TASK_REQUEST_ERROR_NOT_CURRENT: _ClassVar[TaskRequestErrorCode]
    TASK_REQUEST_ERROR_NOT_FOUND: _ClassVar[TaskRequestErrorCode]
    TASK_REQUEST_ERROR_RESOURCE_EXHAUSTED: _ClassVar[TaskRequestErrorCode]
    TASK_REQUEST_ERROR_UNIMPLEMENTED: _ClassVar[TaskRequestErrorCode]
    TASK_REQUEST_ERROR_UNAVAILABLE: _ClassVar[TaskRequestErrorCode]
REFUSAL_REASON_UNSPECIFIED: RefusalReason
REFUSAL_REASON_DRAINING: RefusalReason
REFUSAL_REASON_NO_FREE_SLOT: RefusalReason
REFUSAL_REASON_UNSUPPORTED_KIND: RefusalReason
REFUSAL_REASON_OTHER: RefusalReason
TASK_OUTCOME_UNSPECIFIED: TaskOutcome
TASK_OUTCOME_SUCCESS: TaskOutcome
TASK_OUTCOME_FAILED: TaskOutcome
TASK_OUTCOME_FAILED_NO_RETRY: TaskOutcome
TASK_OUTCOME_SKIPPED: TaskOutcome
TASK_OUTCOME_TIMED_OUT: TaskOutcome
TASK_OUTCOME_CANCELLED: TaskOutcome
TASK_OUTCOME_LOST: TaskOutcome
TASK_OUTCOME_DEFERRED: TaskOutcome
TASK_OUTCOME_UP_FOR_RESCHEDULE: TaskOutcome
TASK_REQUEST_ERROR_UNSPECIFIED: TaskRequestErrorCode
TASK_REQUEST_ERROR_INVALID_ARGUMENT: TaskRequestErrorCode
TASK_REQUEST_ERROR_NOT_CURRENT: TaskRequestErrorCode
TASK_REQUEST_ERROR_NOT_FOUND: TaskRequestErrorCode
TASK_REQUEST_ERROR_RESOURCE_EXHAUSTED: TaskRequestErrorCode
TASK_REQUEST_ERROR_UNIMPLEMENTED: TaskRequestErrorCode
TASK_REQUEST_ERROR_UNAVAILABLE: TaskRequestErrorCode

class WorkerMessage(_message.Message):
    __slots__ = ("hello", "heartbeat", "ack", "started", "finished", "log", "draining", "task_request", "connection_test_result")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    TASK_REQUEST_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_TEST_RESULT_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    heartbeat: Heartbeat
    ack: AssignmentAck
    started: TaskStarted
    finished: TaskFinished
    log: LogChunk
    draining: WorkerDraining
    task_request: TaskRequest
    connection_test_result: ConnectionTestResult
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., ack: _Optional[_Union[AssignmentAck, _Mapping]] = ..., started: _Optional[_Union[TaskStarted, _Mapping]] = ..., finished: _Optional[_Union[TaskFinished, _Mapping]] = ..., log: _Optional[_Union[LogChunk, _Mapping]] = ..., draining: _Optional[_Union[WorkerDraining, _Mapping]] = ..., task_request: _Optional[_Union[TaskRequest, _Mapping]] = ..., connection_test_result: _Optional[_Union[ConnectionTestResult, _Mapping]] = ...) -> None: ...

class CoordinatorMessage(_message.Message):
    __slots__ = ("welcome", "assignment", "cancel", "drain", "result_ack", "heartbeat_ack", "task_response", "connection_test")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    RESULT_ACK_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_ACK_FIELD_NUMBER: _ClassVar[int]
    TASK_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_TEST_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    assignment: Assignment
    cancel: Cancel
    drain: Drain
    result_ack: ResultAck
    heartbeat_ack: HeartbeatAck
    task_response: TaskResponse
    connection_test: ConnectionTest
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., assignment: _Optional[_Union[Assignment, _Mapping]] = ..., cancel: _Optional[_Union[Cancel, _Mapping]] = ..., drain: _Optional[_Union[Drain, _Mapping]] = ..., result_ack: _Optional[_Union[ResultAck, _Mapping]] = ..., heartbeat_ack: _Optional[_Union[HeartbeatAck, _Mapping]] = ..., task_response: _Optional[_Union[TaskResponse, _Mapping]] = ..., connection_test: _Optional[_Union[ConnectionTest, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("name", "host", "pid", "queues", "slots", "labels", "kinds", "version", "running", "instance_id")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    host: str
    pid: int
    queues: _containers.RepeatedScalarFieldContainer[str]
    slots: int
    labels: _containers.ScalarMap[str, str]
    kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.TaskKind]
    version: str
    running: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attempt]
    instance_id: str
    def __init__(self, name: _Optional[str] = ..., host: _Optional[str] = ..., pid: _Optional[int] = ..., queues: _Optional[_Iterable[str]] = ..., slots: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., kinds: _Optional[_Iterable[_Union[_common_pb2.TaskKind, str]]] = ..., version: _Optional[str] = ..., running: _Optional[_Iterable[_Union[_common_pb2.Attempt, _Mapping]]] = ..., instance_id: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("cpu_percent", "memory_percent", "rss_bytes", "load_average", "running")
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOAD_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    cpu_percent: float
    memory_percent: float
    rss_bytes: int
    load_average: float
    running: int
    def __init__(self, cpu_percent: _Optional[float] = ..., memory_percent: _Optional[float] = ..., rss_bytes: _Optional[int] = ..., load_average: _Optional[float] = ..., running: _Optional[int] = ...) -> None: ...

class AssignmentAck(_message.Message):
    __slots__ = ("attempt", "accepted", "reason", "refusal")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    attempt: _common_pb2.Attempt
    accepted: bool
    reason: str
    refusal: RefusalReason
    def __init__(self, attempt: _Optional[_Union[_common_pb2.Attempt, _Mapping]] = ..., accepted: _Optional[bool] = ..., reason: _Optional[str] = ..., refusal: _Optional[_Union[RefusalReason, str]] = ...) -> None: ...

class TaskStarted(_message.Message):
    __slots__ = ("attempt", "pid", "started_at")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    attempt: _common_pb2.Attempt
    pid: int
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, attempt: _Optional[_Union[_common_pb2.Attempt, _Mapping]] = ..., pid: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TaskFinished(_message.Message):
    __slots__ = ("attempt", "outcome", "exit_code", "error", "return_value_json", "ended_at", "usage", "follow", "outlet_extra_json", "outlet_alias_events_json", "reschedule_date", "deferral", "rendered_map_index")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RETURN_VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    OUTLET_EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    OUTLET_ALIAS_EVENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    RESCHEDULE_DATE_FIELD_NUMBER: _ClassVar[int]
    DEFERRAL_FIELD_NUMBER: _ClassVar[int]
    RENDERED_MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    attempt: _common_pb2.Attempt
    outcome: TaskOutcome
    exit_code: int
    error: str
    return_value_json: str
    ended_at: _timestamp_pb2.Timestamp
    usage: _common_pb2.ResourceUsage
    follow: FollowTasks
    outlet_extra_json: str
    outlet_alias_events_json: str
    reschedule_date: _timestamp_pb2.Timestamp
    deferral: Deferral
    rendered_map_index: str
    def __init__(self, attempt: _Optional[_Union[_common_pb2.Attempt, _Mapping]] = ..., outcome: _Optional[_Union[TaskOutcome, str]] = ..., exit_code: _Optional[int] = ..., error: _Optional[str] = ..., return_value_json: _Optional[str] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., usage: _Optional[_Union[_common_pb2.ResourceUsage, _Mapping]] = ..., follow: _Optional[_Union[FollowTasks, _Mapping]] = ..., outlet_extra_json: _Optional[str] = ..., outlet_alias_events_json: _Optional[str] = ..., reschedule_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deferral: _Optional[_Union[Deferral, _Mapping]] = ..., rendered_map_index: _Optional[str] = ...) -> None: ...

class Deferral(_message.Message):
    __slots__ = ("trigger_classpath", "trigger_kwargs_json", "next_method", "next_kwargs_json", "timeout_seconds")
    TRIGGER_CLASSPATH_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_KWARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    NEXT_METHOD_FIELD_NUMBER: _ClassVar[int]
    NEXT_KWARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    trigger_classpath: str
    trigger_kwargs_json: str
    next_method: str
    next_kwargs_json: str
    timeout_seconds: float
    def __init__(self, trigger_classpath: _Optional[str] = ..., trigger_kwargs_json: _Optional[str] = ..., next_method: _Optional[str] = ..., next_kwargs_json: _Optional[str] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...

class FollowTasks(_message.Message):
    __slots__ = ("task_ids", "skip_all_downstream")
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    SKIP_ALL_DOWNSTREAM_FIELD_NUMBER: _ClassVar[int]
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    skip_all_downstream: bool
    def __init__(self, task_ids: _Optional[_Iterable[str]] = ..., skip_all_downstream: _Optional[bool] = ...) -> None: ...

class LogChunk(_message.Message):
    __slots__ = ("attempt", "data")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    attempt: _common_pb2.Attempt
    data: bytes
    def __init__(self, attempt: _Optional[_Union[_common_pb2.Attempt, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class WorkerDraining(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_message_bytes", "max_return_value_bytes", "max_log_chunk_bytes", "max_error_bytes")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_RETURN_VALUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_LOG_CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_ERROR_BYTES_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    max_return_value_bytes: int
    max_log_chunk_bytes: int
    max_error_bytes: int
    def __init__(self, max_message_bytes: _Optional[int] = ..., max_return_value_bytes: _Optional[int] = ..., max_log_chunk_bytes: _Optional[int] = ..., max_error_bytes: _Optional[int] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("heartbeat_interval_ms", "heartbeat_timeout_ms", "reclaimed", "rejected", "ack_timeout_ms", "kill_grace_period_ms", "limits")
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    RECLAIMED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    ACK_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    KILL_GRACE_PERIOD_MS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    heartbeat_interval_ms: int
    heartbeat_timeout_ms: int
    reclaimed: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attempt]
    rejected: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attempt]
    ack_timeout_ms: int
    kill_grace_period_ms: int
    limits: Limits
    def __init__(self, heartbeat_interval_ms: _Optional[int] = ..., heartbeat_timeout_ms: _Optional[int] = ..., reclaimed: _Optional[_Iterable[_Union[_common_pb2.Attempt, _Mapping]]] = ..., rejected: _Optional[_Iterable[_Union[_common_pb2.Attempt, _Mapping]]] = ..., ack_timeout_ms: _Optional[int] = ..., kill_grace_period_ms: _Optional[int] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ...) -> None: ...

class HeartbeatAck(_message.Message):
    __slots__ = ("server_time",)
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("attempt", "dag_id", "run_id", "task_id", "execution_timeout_ms", "payload", "queue", "map_index", "callbacks", "reschedule_started_at", "reschedule_count", "resume")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    CALLBACKS_FIELD_NUMBER: _ClassVar[int]
    RESCHEDULE_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    RESCHEDULE_COUNT_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    attempt: _common_pb2.Attempt
    dag_id: str
    run_id: str
    task_id: str
    execution_timeout_ms: int
    payload: _payload_pb2.TaskPayload
    queue: str
    map_index: int
    callbacks: TaskCallbacks
    reschedule_started_at: _timestamp_pb2.Timestamp
    reschedule_count: int
    resume: Resume
    def __init__(self, attempt: _Optional[_Union[_common_pb2.Attempt, _Mapping]] = ..., dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., execution_timeout_ms: _Optional[int] = ..., payload: _Optional[_Union[_payload_pb2.TaskPayload, _Mapping]] = ..., queue: _Optional[str] = ..., map_index: _Optional[int] = ..., callbacks: _Optional[_Union[TaskCallbacks, _Mapping]] = ..., reschedule_started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reschedule_count: _Optional[int] = ..., resume: _Optional[_Union[Resume, _Mapping]] = ...) -> None: ...

class Resume(_message.Message):
    __slots__ = ("next_method", "next_kwargs_json")
    NEXT_METHOD_FIELD_NUMBER: _ClassVar[int]
    NEXT_KWARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    next_method: str
    next_kwargs_json: str
    def __init__(self, next_method: _Optional[str] = ..., next_kwargs_json: _Optional[str] = ...) -> None: ...

class Cancel(_message.Message):
    __slots__ = ("attempt", "reason")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    attempt: _common_pb2.Attempt
    reason: str
    def __init__(self, attempt: _Optional[_Union[_common_pb2.Attempt, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class Drain(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ResultAck(_message.Message):
    __slots__ = ("attempt",)
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    attempt: _common_pb2.Attempt
    def __init__(self, attempt: _Optional[_Union[_common_pb2.Attempt, _Mapping]] = ...) -> None: ...

class FetchBundleRequest(_message.Message):
    __slots__ = ("bundle_hash",)
    BUNDLE_HASH_FIELD_NUMBER: _ClassVar[int]
    bundle_hash: str
    def __init__(self, bundle_hash: _Optional[str] = ...) -> None: ...

class FetchBundleResponse(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    def __init__(self, chunk: _Optional[bytes] = ...) -> None: ...

class TaskRequest(_message.Message):
    __slots__ = ("request_id", "attempt", "xcom_push", "xcom_pull", "get_variable", "set_variable", "get_connection")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    XCOM_PUSH_FIELD_NUMBER: _ClassVar[int]
    XCOM_PULL_FIELD_NUMBER: _ClassVar[int]
    GET_VARIABLE_FIELD_NUMBER: _ClassVar[int]
    SET_VARIABLE_FIELD_NUMBER: _ClassVar[int]
    GET_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    attempt: _common_pb2.Attempt
    xcom_push: XComPush
    xcom_pull: XComPull
    get_variable: GetVariable
    set_variable: SetVariable
    get_connection: GetConnection
    def __init__(self, request_id: _Optional[int] = ..., attempt: _Optional[_Union[_common_pb2.Attempt, _Mapping]] = ..., xcom_push: _Optional[_Union[XComPush, _Mapping]] = ..., xcom_pull: _Optional[_Union[XComPull, _Mapping]] = ..., get_variable: _Optional[_Union[GetVariable, _Mapping]] = ..., set_variable: _Optional[_Union[SetVariable, _Mapping]] = ..., get_connection: _Optional[_Union[GetConnection, _Mapping]] = ...) -> None: ...

class XComPush(_message.Message):
    __slots__ = ("key", "value_json")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    value_json: str
    def __init__(self, key: _Optional[str] = ..., value_json: _Optional[str] = ...) -> None: ...

class XComPull(_message.Message):
    __slots__ = ("task_ids", "key", "map_indexes", "dag_id", "run_id")
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEXES_FIELD_NUMBER: _ClassVar[int]
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    key: str
    map_indexes: _containers.RepeatedScalarFieldContainer[int]
    dag_id: str
    run_id: str
    def __init__(self, task_ids: _Optional[_Iterable[str]] = ..., key: _Optional[str] = ..., map_indexes: _Optional[_Iterable[int]] = ..., dag_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class XComPushResult(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class XComValue(_message.Message):
    __slots__ = ("task_id", "map_index", "value_json")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    VALUE_JSON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    map_index: int
    value_json: str
    def __init__(self, task_id: _Optional[str] = ..., map_index: _Optional[int] = ..., value_json: _Optional[str] = ...) -> None: ...

class XComPullResult(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[XComValue]
    def __init__(self, values: _Optional[_Iterable[_Union[XComValue, _Mapping]]] = ...) -> None: ...

class TaskRequestError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: TaskRequestErrorCode
    message: str
    def __init__(self, code: _Optional[_Union[TaskRequestErrorCode, str]] = ..., message: _Optional[str] = ...) -> None: ...

class TaskResponse(_message.Message):
    __slots__ = ("request_id", "error", "xcom_push", "xcom_pull", "get_variable", "set_variable", "get_connection")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    XCOM_PUSH_FIELD_NUMBER: _ClassVar[int]
    XCOM_PULL_FIELD_NUMBER: _ClassVar[int]
    GET_VARIABLE_FIELD_NUMBER: _ClassVar[int]
    SET_VARIABLE_FIELD_NUMBER: _ClassVar[int]
    GET_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    error: TaskRequestError
    xcom_push: XComPushResult
    xcom_pull: XComPullResult
    get_variable: GetVariableResult
    set_variable: SetVariableResult
    get_connection: GetConnectionResult
    def __init__(self, request_id: _Optional[int] = ..., error: _Optional[_Union[TaskRequestError, _Mapping]] = ..., xcom_push: _Optional[_Union[XComPushResult, _Mapping]] = ..., xcom_pull: _Optional[_Union[XComPullResult, _Mapping]] = ..., get_variable: _Optional[_Union[GetVariableResult, _Mapping]] = ..., set_variable: _Optional[_Union[SetVariableResult, _Mapping]] = ..., get_connection: _Optional[_Union[GetConnectionResult, _Mapping]] = ...) -> None: ...

class GetVariable(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class GetVariableResult(_message.Message):
    __slots__ = ("found", "value")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    found: bool
    value: str
    def __init__(self, found: _Optional[bool] = ..., value: _Optional[str] = ...) -> None: ...

class SetVariable(_message.Message):
    __slots__ = ("key", "value", "description")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    description: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class SetVariableResult(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetConnection(_message.Message):
    __slots__ = ("conn_id",)
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    conn_id: str
    def __init__(self, conn_id: _Optional[str] = ...) -> None: ...

class GetConnectionResult(_message.Message):
    __slots__ = ("found", "connection")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    found: bool
    connection: _common_pb2.Connection
    def __init__(self, found: _Optional[bool] = ..., connection: _Optional[_Union[_common_pb2.Connection, _Mapping]] = ...) -> None: ...

class ConnectionTest(_message.Message):
    __slots__ = ("test_id", "connection")
    TEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    test_id: int
    connection: _common_pb2.Connection
    def __init__(self, test_id: _Optional[int] = ..., connection: _Optional[_Union[_common_pb2.Connection, _Mapping]] = ...) -> None: ...

class ConnectionTestResult(_message.Message):
    __slots__ = ("test_id", "ok", "message")
    TEST_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    test_id: int
    ok: bool
    message: str
    def __init__(self, test_id: _Optional[int] = ..., ok: _Optional[bool] = ..., message: _Optional[str] = ...) -> None: ...

class TaskCallbacks(_message.Message):
    __slots__ = ("bundle_hash", "dag_file", "context_json", "kinds", "retry_left")
    BUNDLE_HASH_FIELD_NUMBER: _ClassVar[int]
    DAG_FILE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    RETRY_LEFT_FIELD_NUMBER: _ClassVar[int]
    bundle_hash: str
    dag_file: str
    context_json: str
    kinds: _containers.RepeatedScalarFieldContainer[str]
    retry_left: bool
    def __init__(self, bundle_hash: _Optional[str] = ..., dag_file: _Optional[str] = ..., context_json: _Optional[str] = ..., kinds: _Optional[_Iterable[str]] = ..., retry_left: _Optional[bool] = ...) -> None: ...
