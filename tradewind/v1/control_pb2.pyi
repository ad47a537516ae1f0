import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tradewind.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WaitReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WAIT_REASON_UNSPECIFIED: _ClassVar[WaitReason]
    WAIT_REASON_UPSTREAM: _ClassVar[WaitReason]
    WAIT_REASON_POOL_FULL: _ClassVar[WaitReason]
    WAIT_REASON_POOL_MISSING: _ClassVar[WaitReason]
    WAIT_REASON_MAX_ACTIVE_TASKS: _ClassVar[WaitReason]
    WAIT_REASON_MAX_ACTIVE_RUNS: _ClassVar[WaitReason]
    WAIT_REASON_NO_WORKER: _ClassVar[WaitReason]
    WAIT_REASON_NO_FREE_SLOT: _ClassVar[WaitReason]
    WAIT_REASON_RETRY_DELAY: _ClassVar[WaitReason]
    WAIT_REASON_DAG_PAUSED: _ClassVar[WaitReason]
    WAIT_REASON_WAITING_FOR_ACK: _ClassVar[WaitReason]
    WAIT_REASON_SEQUENTIAL: _ClassVar[WaitReason]
    WAIT_REASON_QUEUE_ORDER: _ClassVar[WaitReason]
    WAIT_REASON_NOT_WAITING: _ClassVar[WaitReason]
    WAIT_REASON_WORKER_RECONNECTING: _ClassVar[WaitReason]
    WAIT_REASON_PREVIOUS_RUN: _ClassVar[WaitReason]
    WAIT_REASON_RESCHEDULE_DELAY: _ClassVar[WaitReason]
    WAIT_REASON_TRIGGER: _ClassVar[WaitReason]

class TokenRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOKEN_ROLE_UNSPECIFIED: _ClassVar[TokenRole]
    TOKEN_ROLE_WORKER: _ClassVar[TokenRole]
    TOKEN_ROLE_VIEWER: _ClassVar[TokenRole]
    TOKEN_ROLE_OPERATOR: _ClassVar[TokenRole]
    TOKEN_ROLE_ADMIN: _ClassVar[TokenRole]

class ReprocessBehavior(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPROCESS_BEHAVIOR_UNSPECIFIED: _ClassVar[ReprocessBehavior]
    REPROCESS_BEHAVIOR_NONE: _ClassVar[ReprocessBehavior]
    REPROCESS_BEHAVIOR_FAILED: _ClassVar[ReprocessBehavior]
    REPROCESS_BEHAVIOR_COMPLETED: _ClassVar[ReprocessBehavior]

class BackfillState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKFILL_STATE_UNSPECIFIED: _ClassVar[BackfillState]
    BACKFILL_STATE_RUNNING: _ClassVar[BackfillState]
    BACKFILL_STATE_COMPLETED: _ClassVar[BackfillState]
    BACKFILL_STATE_CANCELLED: _ClassVar[BackfillState]
WAIT_REASON_UNSPECIFIED: WaitReason
WAIT_REASON_UPSTREAM: WaitReason
WAIT_REASON_POOL_FULL: WaitReason
WAIT_REASON_POOL_MISSING: WaitReason
WAIT_REASON_MAX_ACTIVE_TASKS: WaitReason
WAIT_REASON_MAX_ACTIVE_RUNS: WaitReason
WAIT_REASON_NO_WORKER: WaitReason
WAIT_REASON_NO_FREE_SLOT: WaitReason
WAIT_REASON_RETRY_DELAY: WaitReason
WAIT_REASON_DAG_PAUSED: WaitReason
WAIT_REASON_WAITING_FOR_ACK: WaitReason
WAIT_REASON_SEQUENTIAL: WaitReason
WAIT_REASON_QUEUE_ORDER: WaitReason
WAIT_REASON_NOT_WAITING: WaitReason
WAIT_REASON_WORKER_RECONNECTING: WaitReason
WAIT_REASON_PREVIOUS_RUN: WaitReason
WAIT_REASON_RESCHEDULE_DELAY: WaitReason
WAIT_REASON_TRIGGER: WaitReason
TOKEN_ROLE_UNSPECIFIED: TokenRole
TOKEN_ROLE_WORKER: TokenRole
TOKEN_ROLE_VIEWER: TokenRole
TOKEN_ROLE_OPERATOR: TokenRole
TOKEN_ROLE_ADMIN: TokenRole
REPROCESS_BEHAVIOR_UNSPECIFIED: ReprocessBehavior
REPROCESS_BEHAVIOR_NONE: ReprocessBehavior
REPROCESS_BEHAVIOR_FAILED: ReprocessBehavior
REPROCESS_BEHAVIOR_COMPLETED: ReprocessBehavior
BACKFILL_STATE_UNSPECIFIED: BackfillState
BACKFILL_STATE_RUNNING: BackfillState
BACKFILL_STATE_COMPLETED: BackfillState
BACKFILL_STATE_CANCELLED: BackfillState

class Dag(_message.Message):
    __slots__ = ("dag_id", "description", "fileloc", "schedule", "paused", "active", "tags", "max_active_runs", "max_active_tasks", "catchup", "next_run_at", "version", "task_count", "last_parsed_at", "running_tasks", "recent_run_states", "owner", "display_name")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FILELOC_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_TASKS_FIELD_NUMBER: _ClassVar[int]
    CATCHUP_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_PARSED_AT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_TASKS_FIELD_NUMBER: _ClassVar[int]
    RECENT_RUN_STATES_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    description: str
    fileloc: str
    schedule: str
    paused: bool
    active: bool
    tags: _containers.RepeatedScalarFieldContainer[str]
    max_active_runs: int
    max_active_tasks: int
    catchup: bool
    next_run_at: _timestamp_pb2.Timestamp
    version: int
    task_count: int
    last_parsed_at: _timestamp_pb2.Timestamp
    running_tasks: int
    recent_run_states: _containers.RepeatedScalarFieldContainer[_common_pb2.RunState]
    owner: str
    display_name: str
    def __init__(self, dag_id: _Optional[str] = ..., description: _Optional[str] = ..., fileloc: _Optional[str] = ..., schedule: _Optional[str] = ..., paused: _Optional[bool] = ..., active: _Optional[bool] = ..., tags: _Optional[_Iterable[str]] = ..., max_active_runs: _Optional[int] = ..., max_active_tasks: _Optional[int] = ..., catchup: _Optional[bool] = ..., next_run_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., task_count: _Optional[int] = ..., last_parsed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., running_tasks: _Optional[int] = ..., recent_run_states: _Optional[_Iterable[_Union[_common_pb2.RunState, str]]] = ..., owner: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "operator", "upstream_task_ids", "downstream_task_ids", "trigger_rule", "retries", "queue", "pool", "priority_weight", "group_id", "display_name", "is_setup", "is_teardown")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    DOWNSTREAM_TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_RULE_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    IS_SETUP_FIELD_NUMBER: _ClassVar[int]
    IS_TEARDOWN_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    operator: str
    upstream_task_ids: _containers.RepeatedScalarFieldContainer[str]
    downstream_task_ids: _containers.RepeatedScalarFieldContainer[str]
    trigger_rule: str
    retries: int
    queue: str
    pool: str
    priority_weight: int
    group_id: str
    display_name: str
    is_setup: bool
    is_teardown: bool
    def __init__(self, task_id: _Optional[str] = ..., operator: _Optional[str] = ..., upstream_task_ids: _Optional[_Iterable[str]] = ..., downstream_task_ids: _Optional[_Iterable[str]] = ..., trigger_rule: _Optional[str] = ..., retries: _Optional[int] = ..., queue: _Optional[str] = ..., pool: _Optional[str] = ..., priority_weight: _Optional[int] = ..., group_id: _Optional[str] = ..., display_name: _Optional[str] = ..., is_setup: _Optional[bool] = ..., is_teardown: _Optional[bool] = ...) -> None: ...

class DagRun(_message.Message):
    __slots__ = ("dag_id", "run_id", "state", "run_type", "logical_date", "data_interval_start", "data_interval_end", "conf_json", "queued_at", "start_date", "end_date", "dag_version", "backfill_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RUN_TYPE_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_DATE_FIELD_NUMBER: _ClassVar[int]
    DATA_INTERVAL_START_FIELD_NUMBER: _ClassVar[int]
    DATA_INTERVAL_END_FIELD_NUMBER: _ClassVar[int]
    CONF_JSON_FIELD_NUMBER: _ClassVar[int]
    QUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    DAG_VERSION_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    state: _common_pb2.RunState
    run_type: str
    logical_date: _timestamp_pb2.Timestamp
    data_interval_start: _timestamp_pb2.Timestamp
    data_interval_end: _timestamp_pb2.Timestamp
    conf_json: str
    queued_at: _timestamp_pb2.Timestamp
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    dag_version: int
    backfill_id: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.RunState, str]] = ..., run_type: _Optional[str] = ..., logical_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_interval_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_interval_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., conf_json: _Optional[str] = ..., queued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dag_version: _Optional[int] = ..., backfill_id: _Optional[int] = ...) -> None: ...

class TaskInstance(_message.Message):
    __slots__ = ("id", "dag_id", "run_id", "task_id", "state", "try_number", "max_tries", "operator", "queue", "pool", "priority_weight", "worker", "start_date", "end_date", "next_retry_at", "map_index", "rendered_map_index")
    ID_FIELD_NUMBER: _ClassVar[int]
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MAX_TRIES_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    NEXT_RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    RENDERED_MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    id: int
    dag_id: str
    run_id: str
    task_id: str
    state: _common_pb2.TaskState
    try_number: int
    max_tries: int
    operator: str
    queue: str
    pool: str
    priority_weight: int
    worker: str
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    next_retry_at: _timestamp_pb2.Timestamp
    map_index: int
    rendered_map_index: str
    def __init__(self, id: _Optional[int] = ..., dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.TaskState, str]] = ..., try_number: _Optional[int] = ..., max_tries: _Optional[int] = ..., operator: _Optional[str] = ..., queue: _Optional[str] = ..., pool: _Optional[str] = ..., priority_weight: _Optional[int] = ..., worker: _Optional[str] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_retry_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., map_index: _Optional[int] = ..., rendered_map_index: _Optional[str] = ...) -> None: ...

class TaskAttempt(_message.Message):
    __slots__ = ("attempt_id", "try_number", "lost", "state", "worker", "ready_at", "queued_at", "sent_at", "acked_at", "started_at", "ended_at", "exit_code", "error", "usage", "rendered")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LOST_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    READY_AT_FIELD_NUMBER: _ClassVar[int]
    QUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    ACKED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    RENDERED_FIELD_NUMBER: _ClassVar[int]
    attempt_id: int
    try_number: int
    lost: bool
    state: _common_pb2.TaskState
    worker: str
    ready_at: _timestamp_pb2.Timestamp
    queued_at: _timestamp_pb2.Timestamp
    sent_at: _timestamp_pb2.Timestamp
    acked_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    exit_code: int
    error: str
    usage: _common_pb2.ResourceUsage
    rendered: str
    def __init__(self, attempt_id: _Optional[int] = ..., try_number: _Optional[int] = ..., lost: _Optional[bool] = ..., state: _Optional[_Union[_common_pb2.TaskState, str]] = ..., worker: _Optional[str] = ..., ready_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., queued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exit_code: _Optional[int] = ..., error: _Optional[str] = ..., usage: _Optional[_Union[_common_pb2.ResourceUsage, _Mapping]] = ..., rendered: _Optional[str] = ...) -> None: ...

class Worker(_message.Message):
    __slots__ = ("name", "host", "pid", "queues", "slots", "running", "state", "labels", "kinds", "connected_at", "last_heartbeat_at", "cpu_percent", "memory_percent", "rss_bytes", "version", "reason", "cpu_history", "memory_history")
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
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_AT_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CPU_HISTORY_FIELD_NUMBER: _ClassVar[int]
    MEMORY_HISTORY_FIELD_NUMBER: _ClassVar[int]
    name: str
    host: str
    pid: int
    queues: _containers.RepeatedScalarFieldContainer[str]
    slots: int
    running: int
    state: str
    labels: _containers.ScalarMap[str, str]
    kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.TaskKind]
    connected_at: _timestamp_pb2.Timestamp
    last_heartbeat_at: _timestamp_pb2.Timestamp
    cpu_percent: float
    memory_percent: float
    rss_bytes: int
    version: str
    reason: str
    cpu_history: _containers.RepeatedScalarFieldContainer[float]
    memory_history: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, name: _Optional[str] = ..., host: _Optional[str] = ..., pid: _Optional[int] = ..., queues: _Optional[_Iterable[str]] = ..., slots: _Optional[int] = ..., running: _Optional[int] = ..., state: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., kinds: _Optional[_Iterable[_Union[_common_pb2.TaskKind, str]]] = ..., connected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_heartbeat_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cpu_percent: _Optional[float] = ..., memory_percent: _Optional[float] = ..., rss_bytes: _Optional[int] = ..., version: _Optional[str] = ..., reason: _Optional[str] = ..., cpu_history: _Optional[_Iterable[float]] = ..., memory_history: _Optional[_Iterable[float]] = ...) -> None: ...

class ImportError(_message.Message):
    __slots__ = ("fileloc", "traceback", "timestamp")
    FILELOC_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    fileloc: str
    traceback: str
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, fileloc: _Optional[str] = ..., traceback: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Pool(_message.Message):
    __slots__ = ("name", "slots", "occupied", "waiting", "description", "include_deferred")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    OCCUPIED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DEFERRED_FIELD_NUMBER: _ClassVar[int]
    name: str
    slots: int
    occupied: int
    waiting: int
    description: str
    include_deferred: bool
    def __init__(self, name: _Optional[str] = ..., slots: _Optional[int] = ..., occupied: _Optional[int] = ..., waiting: _Optional[int] = ..., description: _Optional[str] = ..., include_deferred: _Optional[bool] = ...) -> None: ...

class ListDagsRequest(_message.Message):
    __slots__ = ("dag_id_contains", "include_inactive")
    DAG_ID_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    dag_id_contains: str
    include_inactive: bool
    def __init__(self, dag_id_contains: _Optional[str] = ..., include_inactive: _Optional[bool] = ...) -> None: ...

class ListDagsResponse(_message.Message):
    __slots__ = ("dags",)
    DAGS_FIELD_NUMBER: _ClassVar[int]
    dags: _containers.RepeatedCompositeFieldContainer[Dag]
    def __init__(self, dags: _Optional[_Iterable[_Union[Dag, _Mapping]]] = ...) -> None: ...

class GetDagRequest(_message.Message):
    __slots__ = ("dag_id",)
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    def __init__(self, dag_id: _Optional[str] = ...) -> None: ...

class GetDagResponse(_message.Message):
    __slots__ = ("dag", "tasks")
    DAG_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    dag: Dag
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    def __init__(self, dag: _Optional[_Union[Dag, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ...) -> None: ...

class SetDagPausedRequest(_message.Message):
    __slots__ = ("dag_id", "paused")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    paused: bool
    def __init__(self, dag_id: _Optional[str] = ..., paused: _Optional[bool] = ...) -> None: ...

class SetDagPausedResponse(_message.Message):
    __slots__ = ("dag",)
    DAG_FIELD_NUMBER: _ClassVar[int]
    dag: Dag
    def __init__(self, dag: _Optional[_Union[Dag, _Mapping]] = ...) -> None: ...

class TriggerDagRequest(_message.Message):
    __slots__ = ("dag_id", "conf_json", "run_id", "logical_date")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    CONF_JSON_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LOGICAL_DATE_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    conf_json: str
    run_id: str
    logical_date: _timestamp_pb2.Timestamp
    def __init__(self, dag_id: _Optional[str] = ..., conf_json: _Optional[str] = ..., run_id: _Optional[str] = ..., logical_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TriggerDagResponse(_message.Message):
    __slots__ = ("dag_run",)
    DAG_RUN_FIELD_NUMBER: _ClassVar[int]
    dag_run: DagRun
    def __init__(self, dag_run: _Optional[_Union[DagRun, _Mapping]] = ...) -> None: ...

class ListDagRunsRequest(_message.Message):
    __slots__ = ("dag_id", "states", "page_size", "page_token")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    states: _containers.RepeatedScalarFieldContainer[_common_pb2.RunState]
    page_size: int
    page_token: str
    def __init__(self, dag_id: _Optional[str] = ..., states: _Optional[_Iterable[_Union[_common_pb2.RunState, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDagRunsResponse(_message.Message):
    __slots__ = ("dag_runs", "next_page_token")
    DAG_RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_runs: _containers.RepeatedCompositeFieldContainer[DagRun]
    next_page_token: str
    def __init__(self, dag_runs: _Optional[_Iterable[_Union[DagRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListTaskInstancesRequest(_message.Message):
    __slots__ = ("dag_id", "run_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class ListTaskInstancesResponse(_message.Message):
    __slots__ = ("task_instances",)
    TASK_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    task_instances: _containers.RepeatedCompositeFieldContainer[TaskInstance]
    def __init__(self, task_instances: _Optional[_Iterable[_Union[TaskInstance, _Mapping]]] = ...) -> None: ...

class GetDagGridRequest(_message.Message):
    __slots__ = ("dag_id", "page_size", "page_token")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    page_size: int
    page_token: str
    def __init__(self, dag_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetDagGridResponse(_message.Message):
    __slots__ = ("dag_runs", "task_ids", "columns", "next_page_token")
    DAG_RUNS_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dag_runs: _containers.RepeatedCompositeFieldContainer[DagRun]
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    columns: _containers.RepeatedCompositeFieldContainer[GridColumn]
    next_page_token: str
    def __init__(self, dag_runs: _Optional[_Iterable[_Union[DagRun, _Mapping]]] = ..., task_ids: _Optional[_Iterable[str]] = ..., columns: _Optional[_Iterable[_Union[GridColumn, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GridColumn(_message.Message):
    __slots__ = ("states", "try_numbers", "mapped_counts", "mapped_finished")
    STATES_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    MAPPED_COUNTS_FIELD_NUMBER: _ClassVar[int]
    MAPPED_FINISHED_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[_common_pb2.TaskState]
    try_numbers: _containers.RepeatedScalarFieldContainer[int]
    mapped_counts: _containers.RepeatedScalarFieldContainer[int]
    mapped_finished: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, states: _Optional[_Iterable[_Union[_common_pb2.TaskState, str]]] = ..., try_numbers: _Optional[_Iterable[int]] = ..., mapped_counts: _Optional[_Iterable[int]] = ..., mapped_finished: _Optional[_Iterable[int]] = ...) -> None: ...

class GetTaskInstanceRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "map_index")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., map_index: _Optional[int] = ...) -> None: ...

class GetTaskInstanceResponse(_message.Message):
    __slots__ = ("task_instance", "attempts")
    TASK_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    task_instance: TaskInstance
    attempts: _containers.RepeatedCompositeFieldContainer[TaskAttempt]
    def __init__(self, task_instance: _Optional[_Union[TaskInstance, _Mapping]] = ..., attempts: _Optional[_Iterable[_Union[TaskAttempt, _Mapping]]] = ...) -> None: ...

class ClearTaskInstancesRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_ids", "include_downstream")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DOWNSTREAM_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_ids: _containers.RepeatedScalarFieldContainer[str]
    include_downstream: bool
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_ids: _Optional[_Iterable[str]] = ..., include_downstream: _Optional[bool] = ...) -> None: ...

class ClearTaskInstancesResponse(_message.Message):
    __slots__ = ("task_instances",)
    TASK_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    task_instances: _containers.RepeatedCompositeFieldContainer[TaskInstance]
    def __init__(self, task_instances: _Optional[_Iterable[_Union[TaskInstance, _Mapping]]] = ...) -> None: ...

class MarkTaskInstanceRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "state", "map_index")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    state: _common_pb2.TaskState
    map_index: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.TaskState, str]] = ..., map_index: _Optional[int] = ...) -> None: ...

class MarkTaskInstanceResponse(_message.Message):
    __slots__ = ("task_instance",)
    TASK_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    task_instance: TaskInstance
    def __init__(self, task_instance: _Optional[_Union[TaskInstance, _Mapping]] = ...) -> None: ...

class CancelDagRunRequest(_message.Message):
    __slots__ = ("dag_id", "run_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class CancelDagRunResponse(_message.Message):
    __slots__ = ("dag_run",)
    DAG_RUN_FIELD_NUMBER: _ClassVar[int]
    dag_run: DagRun
    def __init__(self, dag_run: _Optional[_Union[DagRun, _Mapping]] = ...) -> None: ...

class TailLogsRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "try_number", "follow", "map_index")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    try_number: int
    follow: bool
    map_index: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., try_number: _Optional[int] = ..., follow: _Optional[bool] = ..., map_index: _Optional[int] = ...) -> None: ...

class TailLogsResponse(_message.Message):
    __slots__ = ("try_number", "data")
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    try_number: int
    data: bytes
    def __init__(self, try_number: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class ListWorkersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListWorkersResponse(_message.Message):
    __slots__ = ("workers", "triggerers")
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    TRIGGERERS_FIELD_NUMBER: _ClassVar[int]
    workers: _containers.RepeatedCompositeFieldContainer[Worker]
    triggerers: _containers.RepeatedCompositeFieldContainer[Triggerer]
    def __init__(self, workers: _Optional[_Iterable[_Union[Worker, _Mapping]]] = ..., triggerers: _Optional[_Iterable[_Union[Triggerer, _Mapping]]] = ...) -> None: ...

class Triggerer(_message.Message):
    __slots__ = ("name", "host", "pid", "triggers", "capacity", "rss_bytes", "cpu_percent", "connected_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    host: str
    pid: int
    triggers: int
    capacity: int
    rss_bytes: int
    cpu_percent: float
    connected_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., host: _Optional[str] = ..., pid: _Optional[int] = ..., triggers: _Optional[int] = ..., capacity: _Optional[int] = ..., rss_bytes: _Optional[int] = ..., cpu_percent: _Optional[float] = ..., connected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DrainWorkerRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DrainWorkerResponse(_message.Message):
    __slots__ = ("worker",)
    WORKER_FIELD_NUMBER: _ClassVar[int]
    worker: Worker
    def __init__(self, worker: _Optional[_Union[Worker, _Mapping]] = ...) -> None: ...

class ListImportErrorsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListImportErrorsResponse(_message.Message):
    __slots__ = ("import_errors",)
    IMPORT_ERRORS_FIELD_NUMBER: _ClassVar[int]
    import_errors: _containers.RepeatedCompositeFieldContainer[ImportError]
    def __init__(self, import_errors: _Optional[_Iterable[_Union[ImportError, _Mapping]]] = ...) -> None: ...

class ListPoolsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPoolsResponse(_message.Message):
    __slots__ = ("pools",)
    POOLS_FIELD_NUMBER: _ClassVar[int]
    pools: _containers.RepeatedCompositeFieldContainer[Pool]
    def __init__(self, pools: _Optional[_Iterable[_Union[Pool, _Mapping]]] = ...) -> None: ...

class SetPoolRequest(_message.Message):
    __slots__ = ("name", "slots", "description", "include_deferred")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DEFERRED_FIELD_NUMBER: _ClassVar[int]
    name: str
    slots: int
    description: str
    include_deferred: bool
    def __init__(self, name: _Optional[str] = ..., slots: _Optional[int] = ..., description: _Optional[str] = ..., include_deferred: _Optional[bool] = ...) -> None: ...

class SetPoolResponse(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: Pool
    def __init__(self, pool: _Optional[_Union[Pool, _Mapping]] = ...) -> None: ...

class DeletePoolRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeletePoolResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("dag_id",)
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    def __init__(self, dag_id: _Optional[str] = ...) -> None: ...

class WatchReady(_message.Message):
    __slots__ = ("server_time",)
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchResync(_message.Message):
    __slots__ = ("dropped",)
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    dropped: int
    def __init__(self, dropped: _Optional[int] = ...) -> None: ...

class WatchResponse(_message.Message):
    __slots__ = ("ready", "resync", "task_instance", "dag_run", "worker", "dag", "import_error")
    READY_FIELD_NUMBER: _ClassVar[int]
    RESYNC_FIELD_NUMBER: _ClassVar[int]
    TASK_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    DAG_RUN_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    DAG_FIELD_NUMBER: _ClassVar[int]
    IMPORT_ERROR_FIELD_NUMBER: _ClassVar[int]
    ready: WatchReady
    resync: WatchResync
    task_instance: TaskInstance
    dag_run: DagRun
    worker: Worker
    dag: Dag
    import_error: ImportError
    def __init__(self, ready: _Optional[_Union[WatchReady, _Mapping]] = ..., resync: _Optional[_Union[WatchResync, _Mapping]] = ..., task_instance: _Optional[_Union[TaskInstance, _Mapping]] = ..., dag_run: _Optional[_Union[DagRun, _Mapping]] = ..., worker: _Optional[_Union[Worker, _Mapping]] = ..., dag: _Optional[_Union[Dag, _Mapping]] = ..., import_error: _Optional[_Union[ImportError, _Mapping]] = ...) -> None: ...

class ExplainTaskInstanceRequest(_message.Message):
    __slots__ = ("dag_id", "run_id", "task_id", "map_index")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ..., task_id: _Optional[str] = ..., map_index: _Optional[int] = ...) -> None: ...

class WaitCondition(_message.Message):
    __slots__ = ("reason", "message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: WaitReason
    message: str
    def __init__(self, reason: _Optional[_Union[WaitReason, str]] = ..., message: _Optional[str] = ...) -> None: ...

class ExplainTaskInstanceResponse(_message.Message):
    __slots__ = ("task_instance", "conditions")
    TASK_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    task_instance: TaskInstance
    conditions: _containers.RepeatedCompositeFieldContainer[WaitCondition]
    def __init__(self, task_instance: _Optional[_Union[TaskInstance, _Mapping]] = ..., conditions: _Optional[_Iterable[_Union[WaitCondition, _Mapping]]] = ...) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections",)
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[_common_pb2.Connection]
    def __init__(self, connections: _Optional[_Iterable[_Union[_common_pb2.Connection, _Mapping]]] = ...) -> None: ...

class GetConnectionRequest(_message.Message):
    __slots__ = ("conn_id", "reveal")
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    REVEAL_FIELD_NUMBER: _ClassVar[int]
    conn_id: str
    reveal: bool
    def __init__(self, conn_id: _Optional[str] = ..., reveal: _Optional[bool] = ...) -> None: ...

class GetConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _common_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_common_pb2.Connection, _Mapping]] = ...) -> None: ...

class SetConnectionRequest(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _common_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_common_pb2.Connection, _Mapping]] = ...) -> None: ...

class SetConnectionResponse(_message.Message):
    __slots__ = ("connection",)
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    connection: _common_pb2.Connection
    def __init__(self, connection: _Optional[_Union[_common_pb2.Connection, _Mapping]] = ...) -> None: ...

class DeleteConnectionRequest(_message.Message):
    __slots__ = ("conn_id",)
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    conn_id: str
    def __init__(self, conn_id: _Optional[str] = ...) -> None: ...

class DeleteConnectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TestConnectionRequest(_message.Message):
    __slots__ = ("conn_id", "connection")
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    conn_id: str
    connection: _common_pb2.Connection
    def __init__(self, conn_id: _Optional[str] = ..., connection: _Optional[_Union[_common_pb2.Connection, _Mapping]] = ...) -> None: ...

class TestConnectionResponse(_message.Message):
    __slots__ = ("ok", "message")
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    message: str
    def __init__(self, ok: _Optional[bool] = ..., message: _Optional[str] = ...) -> None: ...

class Variable(_message.Message):
    __slots__ = ("key", "value", "description")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    description: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ListVariablesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVariablesResponse(_message.Message):
    __slots__ = ("variables",)
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    variables: _containers.RepeatedCompositeFieldContainer[Variable]
    def __init__(self, variables: _Optional[_Iterable[_Union[Variable, _Mapping]]] = ...) -> None: ...

class GetVariableRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class GetVariableResponse(_message.Message):
    __slots__ = ("variable",)
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    variable: Variable
    def __init__(self, variable: _Optional[_Union[Variable, _Mapping]] = ...) -> None: ...

class SetVariableRequest(_message.Message):
    __slots__ = ("variable",)
    VARIABLE_FIELD_NUMBER: _ClassVar[int]
    variable: Variable
    def __init__(self, variable: _Optional[_Union[Variable, _Mapping]] = ...) -> None: ...

class SetVariableResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteVariableRequest(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class DeleteVariableResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ApiToken(_message.Message):
    __slots__ = ("name", "role", "created_at", "expires_at", "revoked_at", "created_by")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: TokenRole
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    created_by: str
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[TokenRole, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ...) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("name", "role", "expires_in_seconds")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: TokenRole
    expires_in_seconds: int
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[TokenRole, str]] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("token", "secret")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    token: ApiToken
    secret: str
    def __init__(self, token: _Optional[_Union[ApiToken, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[ApiToken]
    def __init__(self, tokens: _Optional[_Iterable[_Union[ApiToken, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[ApiToken]
    def __init__(self, tokens: _Optional[_Iterable[_Union[ApiToken, _Mapping]]] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("timestamp", "actor", "rpc", "subject")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    actor: str
    rpc: str
    subject: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., rpc: _Optional[str] = ..., subject: _Optional[str] = ...) -> None: ...

class ListAuditLogRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuditLogResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Backfill(_message.Message):
    __slots__ = ("id", "dag_id", "from_date", "to_date", "reprocess_behavior", "max_active_runs", "run_backwards", "state", "created_at", "completed_at", "total_runs", "queued_runs", "running_runs", "success_runs", "failed_runs", "skipped_dates")
    ID_FIELD_NUMBER: _ClassVar[int]
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_BEHAVIOR_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    RUN_BACKWARDS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RUNS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_RUNS_FIELD_NUMBER: _ClassVar[int]
    RUNNING_RUNS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RUNS_FIELD_NUMBER: _ClassVar[int]
    FAILED_RUNS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_DATES_FIELD_NUMBER: _ClassVar[int]
    id: int
    dag_id: str
    from_date: _timestamp_pb2.Timestamp
    to_date: _timestamp_pb2.Timestamp
    reprocess_behavior: ReprocessBehavior
    max_active_runs: int
    run_backwards: bool
    state: BackfillState
    created_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    total_runs: int
    queued_runs: int
    running_runs: int
    success_runs: int
    failed_runs: int
    skipped_dates: int
    def __init__(self, id: _Optional[int] = ..., dag_id: _Optional[str] = ..., from_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reprocess_behavior: _Optional[_Union[ReprocessBehavior, str]] = ..., max_active_runs: _Optional[int] = ..., run_backwards: _Optional[bool] = ..., state: _Optional[_Union[BackfillState, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., total_runs: _Optional[int] = ..., queued_runs: _Optional[int] = ..., running_runs: _Optional[int] = ..., success_runs: _Optional[int] = ..., failed_runs: _Optional[int] = ..., skipped_dates: _Optional[int] = ...) -> None: ...

class BackfillDate(_message.Message):
    __slots__ = ("logical_date", "run_id", "state", "skipped")
    LOGICAL_DATE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    logical_date: _timestamp_pb2.Timestamp
    run_id: str
    state: _common_pb2.RunState
    skipped: str
    def __init__(self, logical_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.RunState, str]] = ..., skipped: _Optional[str] = ...) -> None: ...

class CreateBackfillRequest(_message.Message):
    __slots__ = ("dag_id", "from_date", "to_date", "reprocess_behavior", "max_active_runs", "run_backwards", "dry_run", "conf_json")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_BEHAVIOR_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_RUNS_FIELD_NUMBER: _ClassVar[int]
    RUN_BACKWARDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    CONF_JSON_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    from_date: _timestamp_pb2.Timestamp
    to_date: _timestamp_pb2.Timestamp
    reprocess_behavior: ReprocessBehavior
    max_active_runs: int
    run_backwards: bool
    dry_run: bool
    conf_json: str
    def __init__(self, dag_id: _Optional[str] = ..., from_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reprocess_behavior: _Optional[_Union[ReprocessBehavior, str]] = ..., max_active_runs: _Optional[int] = ..., run_backwards: _Optional[bool] = ..., dry_run: _Optional[bool] = ..., conf_json: _Optional[str] = ...) -> None: ...

class CreateBackfillResponse(_message.Message):
    __slots__ = ("backfill", "dates")
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    DATES_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    dates: _containers.RepeatedCompositeFieldContainer[BackfillDate]
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ..., dates: _Optional[_Iterable[_Union[BackfillDate, _Mapping]]] = ...) -> None: ...

class ListBackfillsRequest(_message.Message):
    __slots__ = ("dag_id",)
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    def __init__(self, dag_id: _Optional[str] = ...) -> None: ...

class ListBackfillsResponse(_message.Message):
    __slots__ = ("backfills",)
    BACKFILLS_FIELD_NUMBER: _ClassVar[int]
    backfills: _containers.RepeatedCompositeFieldContainer[Backfill]
    def __init__(self, backfills: _Optional[_Iterable[_Union[Backfill, _Mapping]]] = ...) -> None: ...

class GetBackfillRequest(_message.Message):
    __slots__ = ("backfill_id",)
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    backfill_id: int
    def __init__(self, backfill_id: _Optional[int] = ...) -> None: ...

class GetBackfillResponse(_message.Message):
    __slots__ = ("backfill", "dates")
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    DATES_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    dates: _containers.RepeatedCompositeFieldContainer[BackfillDate]
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ..., dates: _Optional[_Iterable[_Union[BackfillDate, _Mapping]]] = ...) -> None: ...

class CancelBackfillRequest(_message.Message):
    __slots__ = ("backfill_id",)
    BACKFILL_ID_FIELD_NUMBER: _ClassVar[int]
    backfill_id: int
    def __init__(self, backfill_id: _Optional[int] = ...) -> None: ...

class CancelBackfillResponse(_message.Message):
    __slots__ = ("backfill",)
    BACKFILL_FIELD_NUMBER: _ClassVar[int]
    backfill: Backfill
    def __init__(self, backfill: _Optional[_Union[Backfill, _Mapping]] = ...) -> None: ...

class Asset(_message.Message):
    __slots__ = ("uri", "name", "group", "extra_json", "consuming_dag_ids", "producing_tasks", "last_event_at", "watchers")
    URI_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    CONSUMING_DAG_IDS_FIELD_NUMBER: _ClassVar[int]
    PRODUCING_TASKS_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_AT_FIELD_NUMBER: _ClassVar[int]
    WATCHERS_FIELD_NUMBER: _ClassVar[int]
    uri: str
    name: str
    group: str
    extra_json: str
    consuming_dag_ids: _containers.RepeatedScalarFieldContainer[str]
    producing_tasks: _containers.RepeatedScalarFieldContainer[str]
    last_event_at: _timestamp_pb2.Timestamp
    watchers: _containers.RepeatedCompositeFieldContainer[AssetWatcherStatus]
    def __init__(self, uri: _Optional[str] = ..., name: _Optional[str] = ..., group: _Optional[str] = ..., extra_json: _Optional[str] = ..., consuming_dag_ids: _Optional[_Iterable[str]] = ..., producing_tasks: _Optional[_Iterable[str]] = ..., last_event_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., watchers: _Optional[_Iterable[_Union[AssetWatcherStatus, _Mapping]]] = ...) -> None: ...

class AssetWatcherStatus(_message.Message):
    __slots__ = ("name", "classpath", "triggerer")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CLASSPATH_FIELD_NUMBER: _ClassVar[int]
    TRIGGERER_FIELD_NUMBER: _ClassVar[int]
    name: str
    classpath: str
    triggerer: str
    def __init__(self, name: _Optional[str] = ..., classpath: _Optional[str] = ..., triggerer: _Optional[str] = ...) -> None: ...

class AssetEvent(_message.Message):
    __slots__ = ("id", "uri", "extra_json", "timestamp", "source_dag_id", "source_run_id", "source_task_id", "source_map_index", "created_runs", "source_aliases")
    ID_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_DAG_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TASK_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MAP_INDEX_FIELD_NUMBER: _ClassVar[int]
    CREATED_RUNS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ALIASES_FIELD_NUMBER: _ClassVar[int]
    id: int
    uri: str
    extra_json: str
    timestamp: _timestamp_pb2.Timestamp
    source_dag_id: str
    source_run_id: str
    source_task_id: str
    source_map_index: int
    created_runs: _containers.RepeatedCompositeFieldContainer[AssetEventRun]
    source_aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[int] = ..., uri: _Optional[str] = ..., extra_json: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source_dag_id: _Optional[str] = ..., source_run_id: _Optional[str] = ..., source_task_id: _Optional[str] = ..., source_map_index: _Optional[int] = ..., created_runs: _Optional[_Iterable[_Union[AssetEventRun, _Mapping]]] = ..., source_aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class AssetEventRun(_message.Message):
    __slots__ = ("dag_id", "run_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class EmitAssetEventRequest(_message.Message):
    __slots__ = ("uri", "extra_json")
    URI_FIELD_NUMBER: _ClassVar[int]
    EXTRA_JSON_FIELD_NUMBER: _ClassVar[int]
    uri: str
    extra_json: str
    def __init__(self, uri: _Optional[str] = ..., extra_json: _Optional[str] = ...) -> None: ...

class EmitAssetEventResponse(_message.Message):
    __slots__ = ("event", "dag_runs")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DAG_RUNS_FIELD_NUMBER: _ClassVar[int]
    event: AssetEvent
    dag_runs: _containers.RepeatedCompositeFieldContainer[DagRun]
    def __init__(self, event: _Optional[_Union[AssetEvent, _Mapping]] = ..., dag_runs: _Optional[_Iterable[_Union[DagRun, _Mapping]]] = ...) -> None: ...

class ListAssetsRequest(_message.Message):
    __slots__ = ("uri_contains",)
    URI_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    uri_contains: str
    def __init__(self, uri_contains: _Optional[str] = ...) -> None: ...

class ListAssetsResponse(_message.Message):
    __slots__ = ("assets",)
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    assets: _containers.RepeatedCompositeFieldContainer[Asset]
    def __init__(self, assets: _Optional[_Iterable[_Union[Asset, _Mapping]]] = ...) -> None: ...

class ListAssetEventsRequest(_message.Message):
    __slots__ = ("uri", "page_size", "page_token")
    URI_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    uri: str
    page_size: int
    page_token: str
    def __init__(self, uri: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssetEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AssetEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[AssetEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDagRunCallbackLogRequest(_message.Message):
    __slots__ = ("dag_id", "run_id")
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    dag_id: str
    run_id: str
    def __init__(self, dag_id: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class GetDagRunCallbackLogResponse(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...
