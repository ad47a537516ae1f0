from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TriggererMessage(_message.Message):
    __slots__ = ("hello", "heartbeat", "fired", "failed")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    FIRED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    hello: TriggererHello
    heartbeat: TriggererHeartbeat
    fired: TriggerFired
    failed: TriggerFailed
    def __init__(self, hello: _Optional[_Union[TriggererHello, _Mapping]] = ..., heartbeat: _Optional[_Union[TriggererHeartbeat, _Mapping]] = ..., fired: _Optional[_Union[TriggerFired, _Mapping]] = ..., failed: _Optional[_Union[TriggerFailed, _Mapping]] = ...) -> None: ...

class TriggererHello(_message.Message):
    __slots__ = ("name", "instance_id", "host", "pid", "version", "capacity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    instance_id: str
    host: str
    pid: int
    version: str
    capacity: int
    def __init__(self, name: _Optional[str] = ..., instance_id: _Optional[str] = ..., host: _Optional[str] = ..., pid: _Optional[int] = ..., version: _Optional[str] = ..., capacity: _Optional[int] = ...) -> None: ...

class TriggererHeartbeat(_message.Message):
    __slots__ = ("running", "rss_bytes", "cpu_percent")
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    running: int
    rss_bytes: int
    cpu_percent: float
    def __init__(self, running: _Optional[int] = ..., rss_bytes: _Optional[int] = ..., cpu_percent: _Optional[float] = ...) -> None: ...

class TriggerFired(_message.Message):
    __slots__ = ("trigger_id", "event_json", "asset_watcher", "event_id")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_JSON_FIELD_NUMBER: _ClassVar[int]
    ASSET_WATCHER_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    trigger_id: int
    event_json: str
    asset_watcher: AssetWatcherRef
    event_id: str
    def __init__(self, trigger_id: _Optional[int] = ..., event_json: _Optional[str] = ..., asset_watcher: _Optional[_Union[AssetWatcherRef, _Mapping]] = ..., event_id: _Optional[str] = ...) -> None: ...

class AssetWatcherRef(_message.Message):
    __slots__ = ("asset_uri", "name")
    ASSET_URI_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    asset_uri: str
    name: str
    def __init__(self, asset_uri: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class TriggerFailed(_message.Message):
    __slots__ = ("trigger_id", "error", "asset_watcher")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ASSET_WATCHER_FIELD_NUMBER: _ClassVar[int]
    trigger_id: int
    error: str
    asset_watcher: AssetWatcherRef
    def __init__(self, trigger_id: _Optional[int] = ..., error: _Optional[str] = ..., asset_watcher: _Optional[_Union[AssetWatcherRef, _Mapping]] = ...) -> None: ...

class TriggererCommand(_message.Message):
    __slots__ = ("welcome", "run", "cancel", "fired_ack")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    FIRED_ACK_FIELD_NUMBER: _ClassVar[int]
    welcome: TriggererWelcome
    run: RunTrigger
    cancel: CancelTrigger
    fired_ack: FiredAck
    def __init__(self, welcome: _Optional[_Union[TriggererWelcome, _Mapping]] = ..., run: _Optional[_Union[RunTrigger, _Mapping]] = ..., cancel: _Optional[_Union[CancelTrigger, _Mapping]] = ..., fired_ack: _Optional[_Union[FiredAck, _Mapping]] = ...) -> None: ...

class TriggererWelcome(_message.Message):
    __slots__ = ("heartbeat_interval_ms", "heartbeat_timeout_ms")
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    heartbeat_interval_ms: int
    heartbeat_timeout_ms: int
    def __init__(self, heartbeat_interval_ms: _Optional[int] = ..., heartbeat_timeout_ms: _Optional[int] = ...) -> None: ...

class RunTrigger(_message.Message):
    __slots__ = ("trigger_id", "classpath", "kwargs_json", "bundle_hash", "waiter", "asset_watcher")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    CLASSPATH_FIELD_NUMBER: _ClassVar[int]
    KWARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_HASH_FIELD_NUMBER: _ClassVar[int]
    WAITER_FIELD_NUMBER: _ClassVar[int]
    ASSET_WATCHER_FIELD_NUMBER: _ClassVar[int]
    trigger_id: int
    classpath: str
    kwargs_json: str
    bundle_hash: str
    waiter: str
    asset_watcher: AssetWatcherRef
    def __init__(self, trigger_id: _Optional[int] = ..., classpath: _Optional[str] = ..., kwargs_json: _Optional[str] = ..., bundle_hash: _Optional[str] = ..., waiter: _Optional[str] = ..., asset_watcher: _Optional[_Union[AssetWatcherRef, _Mapping]] = ...) -> None: ...

class CancelTrigger(_message.Message):
    __slots__ = ("trigger_id",)
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    trigger_id: int
    def __init__(self, trigger_id: _Optional[int] = ...) -> None: ...

class FiredAck(_message.Message):
    __slots__ = ("trigger_id", "event_id")
    TRIGGER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    trigger_id: int
    event_id: str
    def __init__(self, trigger_id: _Optional[int] = ..., event_id: _Optional[str] = ...) -> None: ...
