from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class TaskState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATE_UNSPECIFIED: _ClassVar[TaskState]
    TASK_STATE_NONE: _ClassVar[TaskState]
    TASK_STATE_SCHEDULED: _ClassVar[TaskState]
    TASK_STATE_QUEUED: _ClassVar[TaskState]
    TASK_STATE_RUNNING: _ClassVar[TaskState]
    TASK_STATE_SUCCESS: _ClassVar[TaskState]
    TASK_STATE_FAILED: _ClassVar[TaskState]
    TASK_STATE_UP_FOR_RETRY: _ClassVar[TaskState]
    TASK_STATE_UP_FOR_RESCHEDULE: _ClassVar[TaskState]
    TASK_STATE_DEFERRED: _ClassVar[TaskState]
    TASK_STATE_SKIPPED: _ClassVar[TaskState]
    TASK_STATE_UPSTREAM_FAILED: _ClassVar[TaskState]
    TASK_STATE_REMOVED: _ClassVar[TaskState]

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_QUEUED: _ClassVar[RunState]
    RUN_STATE_RUNNING: _ClassVar[RunState]
    RUN_STATE_SUCCESS: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]

class TaskKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_KIND_UNSPECIFIED: _ClassVar[TaskKind]
    TASK_KIND_BASH: _ClassVar[TaskKind]
    TASK_KIND_PYTHON: _ClassVar[TaskKind]
TASK_STATE_UNSPECIFIED: TaskState
TASK_STATE_NONE: TaskState
TASK_STATE_SCHEDULED: TaskState
TASK_STATE_QUEUED: TaskState
TASK_STATE_RUNNING: TaskState
TASK_STATE_SUCCESS: TaskState
TASK_STATE_FAILED: TaskState
TASK_STATE_UP_FOR_RETRY: TaskState
TASK_STATE_UP_FOR_RESCHEDULE: TaskState
TASK_STATE_DEFERRED: TaskState
TASK_STATE_SKIPPED: TaskState
TASK_STATE_UPSTREAM_FAILED: TaskState
TASK_STATE_REMOVED: TaskState
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_QUEUED: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_SUCCESS: RunState
RUN_STATE_FAILED: RunState
TASK_KIND_UNSPECIFIED: TaskKind
TASK_KIND_BASH: TaskKind
TASK_KIND_PYTHON: TaskKind

class Attempt(_message.Message):
    __slots__ = ("task_instance_id", "try_number", "attempt_token")
    TASK_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    TRY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    task_instance_id: int
    try_number: int
    attempt_token: str
    def __init__(self, task_instance_id: _Optional[int] = ..., try_number: _Optional[int] = ..., attempt_token: _Optional[str] = ...) -> None: ...

class ResourceUsage(_message.Message):
    __slots__ = ("cpu_user_seconds", "cpu_system_seconds", "max_rss_bytes")
    CPU_USER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CPU_SYSTEM_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    cpu_user_seconds: float
    cpu_system_seconds: float
    max_rss_bytes: int
    def __init__(self, cpu_user_seconds: _Optional[float] = ..., cpu_system_seconds: _Optional[float] = ..., max_rss_bytes: _Optional[int] = ...) -> None: ...

class Connection(_message.Message):
    __slots__ = ("conn_id", "conn_type", "host", "login", "password", "schema", "port", "extra", "description")
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    CONN_TYPE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    conn_id: str
    conn_type: str
    host: str
    login: str
    password: str
    schema: str
    port: int
    extra: str
    description: str
    def __init__(self, conn_id: _Optional[str] = ..., conn_type: _Optional[str] = ..., host: _Optional[str] = ..., login: _Optional[str] = ..., password: _Optional[str] = ..., schema: _Optional[str] = ..., port: _Optional[int] = ..., extra: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...
