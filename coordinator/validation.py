"""control.proto's input rules, checked on every ControlService request before its handler runs.

One walk over the fields a request sets applies the rules by field name, so a new request
message gets them without a line of its own; a rule broken anywhere is INVALID_ARGUMENT
naming the field. What is required differs by call, so the handlers check presence with
`required`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from tradewind.assets import check_uri
from tradewind.exceptions import DagDefinitionError, InvalidArgument
from tradewind.wire import (
    ID_PATTERN,
    MAX_DESCRIPTION_CHARS,
    MAX_TIMESTAMP,
    MIN_LOGICAL_DATE,
    MIN_TIMESTAMP,
    RUN_ID_PATTERN,
    WORKER_NAME_PATTERN,
    conf_from_json,
    from_timestamp,
)

#: A worker's name (worker.proto Hello.name).
WORKER_NAME = WORKER_NAME_PATTERN
#: Page tokens are row ids this service gave out; an int64 has at most 19 digits.
PAGE_TOKEN = re.compile(r"[0-9]{1,18}")
#: Page size ranges per request; 0 means the default.
PAGE_SIZES = {"ListDagRunsRequest": 1000, "GetDagGridRequest": 100, "ListAssetEventsRequest": 1000}
_TIMESTAMP = Timestamp.DESCRIPTOR.full_name


def _pattern(pattern: re.Pattern[str], allowed: str, most: int = 250) -> Callable[[str, str], None]:
    def check(value: str, what: str) -> None:
        if not pattern.fullmatch(value):
            raise InvalidArgument(f"{what} {value[:300]!r} is not valid: use 1 to {most} letters, digits and {allowed}")

    return check


def _description(value: str, what: str) -> None:
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise InvalidArgument(f"{what} is {len(value):,} characters; the limit is {MAX_DESCRIPTION_CHARS:,}")


def _page_token(value: str, what: str) -> None:
    if not PAGE_TOKEN.fullmatch(value):
        raise InvalidArgument(f"{what} {value[:40]!r} is not one this server gave out")


def _uri(value: str, what: str) -> None:
    try:
        check_uri(value)
    except DagDefinitionError as exc:
        raise InvalidArgument(f"{what}: {exc}") from None


def _contains(value: str, what: str) -> None:
    if len(value) > 250:
        raise InvalidArgument(f"{what} is {len(value):,} characters; the limit is 250")


_ident = _pattern(ID_PATTERN, "_ . -")
_STRINGS: dict[str, Callable[[str, str], None]] = {
    "dag_id": _ident,
    "conn_id": _ident,
    "task_id": _ident,
    "task_ids": _ident,
    "run_id": _pattern(RUN_ID_PATTERN, "_ . : + -"),
    "description": _description,
    "conf_json": lambda value, what: None if conf_from_json(value, what) else None,
    "page_token": _page_token,
    "dag_id_contains": _contains,
    "uri": _uri,
    "uri_contains": _contains,
    "extra_json": lambda value, what: None if conf_from_json(value, what) else None,
}
#: Fields named `name` are pool names, except a worker's.
_worker_name = _pattern(WORKER_NAME, "_ . @ : -", 200)
#: Token names are worker names, since a worker token is named for its worker.
_NAMES = {"DrainWorkerRequest": _worker_name, "CreateTokenRequest": _worker_name, "RevokeTokenRequest": _worker_name}
_LEAST = {"map_index": -1, "try_number": 0, "slots": 0, "backfill_id": 1, "max_active_runs": 0}


def check_request(request: Message) -> None:
    """Every input rule that applies to the fields `request` sets; InvalidArgument on the first broken."""
    _walk(request, request.DESCRIPTOR.name, "")


def _walk(message: Message, request: str, prefix: str) -> None:
    for field, value in message.ListFields():
        what = prefix + field.name
        for item in value if field.is_repeated else (value,):
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                if field.message_type.full_name == _TIMESTAMP:
                    timestamp(item, what)
                else:
                    _walk(item, request, what + ".")
            elif field.type == FieldDescriptor.TYPE_STRING:
                _string(item, what, field.name, request)
            elif field.type == FieldDescriptor.TYPE_ENUM:
                if field.enum_type.values_by_number.get(item) is None:
                    raise InvalidArgument(f"{what} {item} is not a known {field.enum_type.name}")
            elif field.name in _LEAST and item < _LEAST[field.name]:
                raise InvalidArgument(f"{what} must be {_LEAST[field.name]} or more, not {item}")
            elif field.name == "page_size":
                most = PAGE_SIZES.get(request, 1000)
                if not 0 <= item <= most:
                    raise InvalidArgument(f"{what} must be between 1 and {most}, not {item}")


def text(value: str, what: str, most: int | None = None) -> None:
    """The rule every string on the wire follows: no NUL, and at most `most` characters."""
    if most is not None and len(value) > most:
        raise InvalidArgument(f"{what} must be at most {most} characters, not {len(value)}")
    if "\x00" in value:
        raise InvalidArgument(f"{what} must not contain a NUL character")


def _string(value: str, what: str, name: str, request: str) -> None:
    text(value, what)
    rule = _NAMES.get(request, _ident) if name == "name" else _STRINGS.get(name)
    if rule is not None:
        rule(value, what)


def timestamp(stamp: Timestamp, what: str) -> datetime:
    """A Timestamp between 0001-01-01 and 9999-12-31 as an aware datetime."""
    if not 0 <= stamp.nanos <= 999_999_999:
        raise InvalidArgument(f"{what} has nanos {stamp.nanos}; they must be between 0 and 999,999,999")
    try:
        moment = stamp.ToDatetime(tzinfo=MIN_TIMESTAMP.tzinfo)
    except (ValueError, OverflowError):
        raise InvalidArgument(
            f"{what} ({stamp.seconds} seconds) must lie between {_day(MIN_TIMESTAMP)} and {_day(MAX_TIMESTAMP)}"
        ) from None
    return moment


def logical_date(stamp: Timestamp, present: bool) -> datetime | None:
    """A requested logical date, None when unset; one a schedule can compute (1970 to 9999)."""
    moment = from_timestamp(stamp, present)
    if moment is not None and moment < MIN_LOGICAL_DATE:
        raise InvalidArgument(
            f"logical_date {_day(moment)} must lie between {_day(MIN_LOGICAL_DATE)} and {_day(MAX_TIMESTAMP)}"
        )
    return moment


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def required(value: str, what: str) -> str:
    if not value:
        raise InvalidArgument(f"{what} is required")
    return value


def map_index(request: Message) -> int:
    """The request's map_index; -1 (a task that is not mapped) when unset."""
    return request.map_index if request.HasField("map_index") else -1  # type: ignore[attr-defined]
