"""XCom values as tagged JSON, so datetimes, dates, times, timedeltas, sets, tuples and Decimals
come back as what the task returned. Workers encode, the coordinator and workers decode: this is
the only module that knows the tags.

A tagged value is `{"__type": name, "__var": data}`; a plain dict that happens to use the key
"__type" is itself tagged as "dict", so no value is ever read back as something else.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tradewind.exceptions import SerializationError

__all__ = ["dumps", "loads"]

_TYPE, _VAR = "__type", "__var"


def dumps(value: Any) -> str:
    """JSON text of `value`; raises SerializationError naming what cannot be encoded."""
    try:
        return json.dumps(_encode(value))
    except (TypeError, ValueError) as exc:
        raise SerializationError(str(exc)) from None


def loads(text: str) -> Any:
    """The value `dumps` encoded (plain JSON reads as itself)."""
    return _decode(json.loads(text))


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        items = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"dict key {key!r} is a {type(key).__name__}; XCom dict keys must be strings")
            items[key] = _encode(item)
        return _tag("dict", items) if _TYPE in value else items
    if isinstance(value, tuple):
        return _tag("tuple", [_encode(v) for v in value])
    if isinstance(value, frozenset):
        return _tag("frozenset", [_encode(v) for v in value])
    if isinstance(value, set):
        return _tag("set", [_encode(v) for v in value])
    if isinstance(value, datetime):
        return _tag("datetime", value.isoformat())
    if isinstance(value, date):
        return _tag("date", value.isoformat())
    if isinstance(value, time):
        return _tag("time", value.isoformat())
    if isinstance(value, timedelta):
        return _tag("timedelta", [value.days, value.seconds, value.microseconds])
    if isinstance(value, Decimal):
        return _tag("decimal", str(value))
    raise TypeError(f"a {type(value).__name__} is not one of the types an XCom can hold")


def _tag(name: str, data: Any) -> dict[str, Any]:
    return {_TYPE: name, _VAR: data}


_DECODERS: dict[str, Any] = {
    "dict": lambda data: {k: _decode(v) for k, v in data.items()},
    "tuple": lambda data: tuple(_decode(v) for v in data),
    "set": lambda data: {_decode(v) for v in data},
    "frozenset": lambda data: frozenset(_decode(v) for v in data),
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "timedelta": lambda data: timedelta(days=data[0], seconds=data[1], microseconds=data[2]),
    "decimal": Decimal,
}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        tag = value.get(_TYPE) if len(value) == 2 and _VAR in value else None
        decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
        if decoder is not None:
            return decoder(value[_VAR])
        return {k: _decode(v) for k, v in value.items()}
    return value
