from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pendulum
import pytest

from tradewind import xcom_codec
from tradewind.exceptions import SerializationError


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 25, 20, 1, 2, 345678, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 1, 1, 12, 0),
        date(2026, 2, 28),
        time(23, 59, 1, 5),
        timedelta(days=-3, seconds=7, microseconds=11),
        {1, "a", (2, 3)},
        frozenset({"x"}),
        (1, [2, (3, Decimal("4.50"))]),
        Decimal("0.1000000000000000000000000001"),
        {"when": date(2026, 1, 2), "rows": ({"n": Decimal("1")},)},
        {"__type": "datetime", "__var": "not a date"},
    ],
)
def test_values_json_cannot_hold_come_back_as_the_same_type(value: Any) -> None:
    back = xcom_codec.loads(xcom_codec.dumps(value))
    assert back == value
    assert type(back) is type(value)


def test_a_pendulum_datetime_comes_back_as_the_same_moment() -> None:
    moment = pendulum.datetime(2026, 11, 22, 5, tz="America/New_York")
    back = xcom_codec.loads(xcom_codec.dumps(moment))
    assert back == moment and back.utcoffset() == moment.utcoffset()


def test_plain_json_is_itself_on_both_sides() -> None:
    value = {"a": [1, 2.5, None, True, "s"], "b": {"c": {}}}
    assert xcom_codec.dumps(value) == json.dumps(value)
    assert xcom_codec.loads(json.dumps(value)) == value


def test_a_value_no_xcom_can_hold_is_refused_naming_its_type() -> None:
    with pytest.raises(SerializationError, match="a object is not one of the types an XCom can hold"):
        xcom_codec.dumps({"x": [object()]})
    with pytest.raises(SerializationError, match="dict key 1 is a int; XCom dict keys must be strings"):
        xcom_codec.dumps({1: "one"})
