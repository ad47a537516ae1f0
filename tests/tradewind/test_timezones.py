"""A DAG's time zone is its start_date's, as in Airflow, and survives serialization by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pendulum
import pytest

from tradewind import DAG
from tradewind.exceptions import DagDefinitionError
from tradewind.serialization import serialize_dag
from tradewind.timezones import zone_name, zone_named


@pytest.mark.parametrize(
    ("zone", "name"),
    [
        (pendulum.timezone("America/New_York"), "America/New_York"),
        (ZoneInfo("Asia/Kolkata"), "Asia/Kolkata"),
        (pendulum.UTC, "UTC"),
        (UTC, "UTC"),
        (timezone(timedelta(hours=-5, minutes=-30)), "-05:30"),
        (pendulum.FixedTimezone(3600), "+01:00"),
        (None, "UTC"),
    ],
    ids=str,
)
def test_a_zone_is_named_and_read_back_with_the_same_offsets(zone: object, name: str) -> None:
    assert zone_name(zone) == name  # type: ignore[arg-type]
    moment = datetime(2026, 7, 1, 12, tzinfo=UTC)
    expected = moment.astimezone(zone).utcoffset() if zone is not None else timedelta(0)  # type: ignore[arg-type]
    assert moment.astimezone(zone_named(name)).utcoffset() == expected


def test_an_unknown_zone_name_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="^unknown time zone 'Mars/Olympus'$"):
        zone_named("Mars/Olympus")


def test_the_serialized_dag_records_the_zone_of_a_pendulum_start_date() -> None:
    d = DAG("ny", schedule="@daily", start_date=pendulum.datetime(2026, 11, 22, tz="America/New_York"))
    data = serialize_dag(d, "ny.py")
    assert (data["start_date"], data["timezone"]) == ("2026-11-22T05:00:00+00:00", "America/New_York")


def test_a_naive_start_date_is_utc_and_an_offset_is_kept() -> None:
    naive = DAG("naive", schedule="@daily", start_date=datetime(2026, 1, 1))
    offset = DAG("offset", schedule="@daily", start_date=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))))
    assert serialize_dag(naive, "n.py")["timezone"] == "UTC"
    assert serialize_dag(offset, "o.py")["timezone"] == "+02:00"


def test_a_start_date_in_default_args_is_the_dags_with_its_zone_as_in_airflow() -> None:
    start = pendulum.datetime(2026, 3, 1, tz="Europe/Paris")
    d = DAG("paris", schedule="0 6 * * *", default_args={"start_date": start, "owner": "ops"})
    assert d.start_date == datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Paris"))
    assert zone_name(d.timezone) == "Europe/Paris"


def test_a_start_date_whose_zone_has_no_name_or_fixed_offset_is_an_error_naming_the_dag() -> None:
    class Nameless(timezone.__base__):  # type: ignore[name-defined,misc]
        def utcoffset(self, dt: datetime | None) -> timedelta | None:
            return None if dt is None else timedelta(hours=1)

        def dst(self, dt: datetime | None) -> timedelta | None:
            return timedelta(0)

    with pytest.raises(DagDefinitionError, match="^DAG 'odd': start_date .* has no IANA name and no fixed offset$"):
        DAG("odd", schedule="@daily", start_date=datetime(2026, 1, 1, tzinfo=Nameless()))
