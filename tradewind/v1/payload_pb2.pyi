from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BashPayload(_message.Message):
    __slots__ = ("bash_command", "env", "append_env", "cwd", "skip_on_exit_code")
    class EnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BASH_COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    APPEND_ENV_FIELD_NUMBER: _ClassVar[int]
    CWD_FIELD_NUMBER: _ClassVar[int]
    SKIP_ON_EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    bash_command: str
    env: _containers.ScalarMap[str, str]
    append_env: bool
    cwd: str
    skip_on_exit_code: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, bash_command: _Optional[str] = ..., env: _Optional[_Mapping[str, str]] = ..., append_env: _Optional[bool] = ..., cwd: _Optional[str] = ..., skip_on_exit_code: _Optional[_Iterable[int]] = ...) -> None: ...

class PythonPayload(_message.Message):
    __slots__ = ("bundle_hash", "dag_file", "dag_id", "task_id", "xcom_inputs_json", "context_json", "mapped_kwargs_json")
    BUNDLE_HASH_FIELD_NUMBER: _ClassVar[int]
    DAG_FILE_FIELD_NUMBER: _ClassVar[int]
    DAG_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    XCOM_INPUTS_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_JSON_FIELD_NUMBER: _ClassVar[int]
    MAPPED_KWARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    bundle_hash: str
    dag_file: str
    dag_id: str
    task_id: str
    xcom_inputs_json: str
    context_json: str
    mapped_kwargs_json: str
    def __init__(self, bundle_hash: _Optional[str] = ..., dag_file: _Optional[str] = ..., dag_id: _Optional[str] = ..., task_id: _Optional[str] = ..., xcom_inputs_json: _Optional[str] = ..., context_json: _Optional[str] = ..., mapped_kwargs_json: _Optional[str] = ...) -> None: ...

class TaskPayload(_message.Message):
    __slots__ = ("bash", "python")
    BASH_FIELD_NUMBER: _ClassVar[int]
    PYTHON_FIELD_NUMBER: _ClassVar[int]
    bash: BashPayload
    python: PythonPayload
    def __init__(self, bash: _Optional[_Union[BashPayload, _Mapping]] = ..., python: _Optional[_Union[PythonPayload, _Mapping]] = ...) -> None: ...
