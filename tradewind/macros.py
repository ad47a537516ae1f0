"""Airflow's `macros` in templates: the same names, so `{{ macros.ds_add(ds, 7) }}` renders as on
Airflow. `random` is the function random.random, as in Airflow; the others are modules or types."""

from __future__ import annotations

import json
import random as _random
import time
import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace

import dateutil
import dateutil.parser
import dateutil.relativedelta
import dateutil.tz

__all__ = ["MACROS", "ds_add", "ds_format"]


def ds_add(ds: str, days: int) -> str:
    """Airflow's macros.ds_add: a YYYY-MM-DD date moved by `days`."""
    return (datetime.strptime(ds, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """Airflow's macros.ds_format: reformat a date string, e.g. ds_format(ds, "%Y-%m-%d", "%d/%m")."""
    return datetime.strptime(ds, input_format).strftime(output_format)


MACROS = SimpleNamespace(
    datetime=datetime,
    timedelta=timedelta,
    ds_add=ds_add,
    ds_format=ds_format,
    json=json,
    time=time,
    uuid=uuid,
    random=_random.random,
    dateutil=dateutil,
)
