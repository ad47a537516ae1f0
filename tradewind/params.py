"""Params: a DAG's or a task's named inputs, each with a default and a JSON Schema, as in Airflow.

A trigger's conf overrides params (Airflow's precedence, dag params < task params < conf); the
coordinator checks a trigger's conf against the DAG's schemas and refuses it naming the field.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

__all__ = ["NOTSET", "DagParam", "Param", "check_param", "conf_error", "split_params"]


class _NotSet:
    def __repr__(self) -> str:
        return "NOTSET"


#: A Param given no default: a trigger must supply it.
NOTSET: Any = _NotSet()


class Param:
    """`Param(5, type="integer", minimum=1)`: a default and a JSON Schema (Draft 2020-12, with
    `format` checked) its value must match."""

    def __init__(self, default: Any = NOTSET, description: str | None = None, **schema: Any) -> None:
        self.value = default
        self.description = description
        self.schema = schema

    def __repr__(self) -> str:
        return f"Param({self.value!r}, {self.schema!r})"

    def resolve(self, value: Any = NOTSET) -> Any:
        """The value (the default when none is given), checked against the schema; ValueError says why."""
        value = self.value if value is NOTSET else value
        if value is NOTSET:
            raise ValueError("no value was given and the param has no default")
        reason = check_param(value, self.schema)
        if reason:
            raise ValueError(reason)
        return value


class DagParam:
    """An @dag function's parameter inside the function: the run's value of that param."""

    def __init__(self, name: str, default: Any = NOTSET) -> None:
        self.name = name
        self.default = default

    def __repr__(self) -> str:
        return f"DagParam({self.name!r})"

    def __str__(self) -> str:
        return f"{{{{ params[{self.name!r}] }}}}"

    def resolve(self, params: dict[str, Any]) -> Any:
        return params.get(self.name, None if self.default is NOTSET else self.default)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_RFC3339.match(value)) and bool(datetime.fromisoformat(value.upper().replace("Z", "+00:00")))


@functools.cache
def _formats() -> Any:
    """jsonschema's format checks, with "date-time" checked as RFC 3339 (Airflow installs a checker
    for it; without one jsonschema would let any string pass). jsonschema is imported only when a
    DAG has Params: it costs every process that imports tradewind a tenth of a second."""
    import jsonschema

    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


def check_param(value: Any, schema: dict[str, Any]) -> str:
    """Why `value` does not match `schema`, or "" when it does."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema, format_checker=_formats())
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    return "" if error is None else error.message


def split_params(params: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Values (the defaults; a Param without one has none) and the schemas of the Params among them.
    A default that does not match its schema raises ValueError naming the param."""
    values: dict[str, Any] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for name, value in params.items():
        if not isinstance(value, Param):
            values[name] = value
            continue
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(value.schema)
        except jsonschema.exceptions.SchemaError as exc:
            raise ValueError(f"{where}: param {name!r} has an invalid schema: {exc.message}") from None
        schemas[name] = value.schema
        if value.value is not NOTSET:
            reason = check_param(value.value, value.schema)
            if reason:
                raise ValueError(f"{where}: param {name!r}: default {value.value!r} is not valid: {reason}")
            values[name] = value.value
    return values, schemas


def conf_error(params: dict[str, Any], schemas: dict[str, dict[str, Any]], conf: dict[str, Any]) -> str:
    """Why a trigger's conf, over the params' defaults, breaks a param's schema ("" when it does
    not): the first param in definition order, named, with the reason."""
    for name, schema in schemas.items():
        if name in conf:
            value = conf[name]
        elif name in params:
            value = params[name]
        else:
            return f"param {name!r} has no default, so the conf must give it"
        reason = check_param(value, schema)
        if reason:
            return f"param {name!r}: {reason}"
    return ""
