"""Airflow's common SQL operators: run queries through a connection's hook, check results.

The query result is the `return_value` XCom (rows as lists) and the column names of each result
are the `descriptions` XCom. `@task.sql` runs the SQL its function returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tradewind.baseoperator import BaseOperator
from tradewind.connections import Connection
from tradewind.exceptions import DagDefinitionError, TaskFailed
from tradewind.hooks.dbapi import DbApiHook, fetch_all_handler, return_single_query_results
from tradewind.operators.python import PythonOperator
from tradewind.templates import render

__all__ = [
    "SQLCheckOperator",
    "SQLExecuteQueryOperator",
    "SQLValueCheckOperator",
    "SqlDecoratedOperator",
    "SqlExecuteQueryOperator",
]

DESCRIPTIONS = "descriptions"


class _SqlTask:
    """What every SQL operator shares: its connection and how it gets the hook."""

    conn_id: str
    database: str | None
    hook_params: dict[str, Any]

    def get_db_hook(self) -> DbApiHook:
        """The connection's hook, with `hook_params` set on it and `database` as its schema."""
        hook: DbApiHook = Connection.get_connection_from_secrets(self.conn_id).get_hook(hook_params=self.hook_params)
        if self.database:
            hook.schema = self.database
        return hook

    def _execute_sql(self, sql: str | list[str], context: dict[str, Any], options: dict[str, Any]) -> Any:
        hook = self.get_db_hook()
        push = options["do_xcom_push"]
        output = hook.run(
            sql=sql,
            autocommit=options["autocommit"],
            parameters=options["parameters"],
            handler=options["handler"] if push else None,
            split_statements=options["split_statements"],
            return_last=options["return_last"],
        )
        if not push:
            return None
        names = [[column[0] for column in d] if d else None for d in hook.descriptions]
        single = return_single_query_results(sql, options["return_last"], options["split_statements"])
        context["ti"].xcom_push(key=DESCRIPTIONS, value=names[-1] if single else names)
        if options["show_return_value_in_logs"]:
            print(f"Query result: {output!r}", flush=True)
        return output


def _sql_options(
    autocommit: bool,
    parameters: Any,
    handler: Callable[[Any], Any] | None,
    split_statements: bool | None,
    return_last: bool,
    show_return_value_in_logs: bool,
    where: str,
) -> dict[str, Any]:
    if parameters is not None and not isinstance(parameters, dict | list | tuple):
        raise DagDefinitionError(f"{where}: parameters must be a dict, list or tuple, not {parameters!r}")
    if handler is not None and not callable(handler):
        raise DagDefinitionError(f"{where}: handler must be callable, not {handler!r}")
    return {
        "autocommit": bool(autocommit),
        "parameters": parameters,
        "handler": handler,
        "split_statements": bool(split_statements),
        "return_last": bool(return_last),
        "show_return_value_in_logs": bool(show_return_value_in_logs),
    }


def _check_sql(sql: Any, where: str) -> str | list[str]:
    if isinstance(sql, str) and sql.strip():
        return sql
    if isinstance(sql, list | tuple) and sql and all(isinstance(s, str) for s in sql):
        return list(sql)
    raise DagDefinitionError(f"{where}: sql must be a non-empty string or a list of strings, not {sql!r}")


class SQLExecuteQueryOperator(_SqlTask, BaseOperator):
    """Run `sql` (a string, a list of statements, or a .sql template file) on `conn_id`."""

    template_fields = ("sql", "parameters", "conn_id", "database", "hook_params")
    template_ext = (".sql", ".json")

    def __init__(
        self,
        *,
        sql: str | Iterable[str],
        conn_id: str | None = None,
        autocommit: bool = False,
        parameters: Any = None,
        handler: Callable[[Any], Any] | None = fetch_all_handler,
        split_statements: bool | None = None,
        return_last: bool = True,
        show_return_value_in_logs: bool = False,
        database: str | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not conn_id:
            raise DagDefinitionError(f"{self.where}: conn_id is required")
        self.conn_id = conn_id
        self.sql = _check_sql(sql, self.where)
        self.options = _sql_options(
            autocommit, parameters, handler, split_statements, return_last, show_return_value_in_logs, self.where
        )
        self.parameters = parameters
        self.database = database
        self.hook_params = dict(hook_params or {})

    def execute(self, context: dict[str, Any]) -> Any:
        options = {**self.options, "parameters": self.parameters, "do_xcom_push": self.do_xcom_push}
        return self._execute_sql(self.sql, context, options)


SqlExecuteQueryOperator = SQLExecuteQueryOperator


class SqlDecoratedOperator(_SqlTask, PythonOperator):
    """@task.sql: the function returns the SQL to run (rendered as a template first)."""

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        autocommit: bool = False,
        parameters: Any = None,
        handler: Callable[[Any], Any] | None = fetch_all_handler,
        split_statements: bool | None = None,
        return_last: bool = True,
        show_return_value_in_logs: bool = False,
        database: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not conn_id:
            raise DagDefinitionError(f"{self.where}: @task.sql needs conn_id")
        self.conn_id = conn_id
        self.database = database
        self.hook_params = {}
        self.options = _sql_options(
            autocommit, parameters, handler, split_statements, return_last, show_return_value_in_logs, self.where
        )

    def execute(self, context: dict[str, Any]) -> Any:
        sql = super().execute(context)
        if not (isinstance(sql, str) and sql.strip()) and not (isinstance(sql, list) and sql):
            raise TaskFailed(f"{self.where}: the function of @task.sql must return SQL text, not {sql!r}")
        options = {**self.options, "do_xcom_push": self.do_xcom_push}
        return self._execute_sql(render(sql, context), context, options)


class SQLCheckOperator(_SqlTask, BaseOperator):
    """Fails unless the first row of `sql` exists and every value in it is truthy."""

    template_fields = ("sql", "parameters", "conn_id", "database")
    template_ext = (".sql",)

    def __init__(
        self,
        *,
        sql: str,
        conn_id: str | None = None,
        database: str | None = None,
        parameters: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not conn_id:
            raise DagDefinitionError(f"{self.where}: conn_id is required")
        self.conn_id, self.database, self.parameters = conn_id, database, parameters
        self.sql = _check_sql(sql, self.where)
        self.hook_params = {}

    def execute(self, context: dict[str, Any]) -> Any:
        records = self.get_db_hook().get_first(self.sql, self.parameters)
        if not records:
            raise TaskFailed(f"The following query returned zero rows: {self.sql}")
        if not all(records):
            raise TaskFailed(f"Test failed. Query: {self.sql} Results: {records!r}")
        print("Success.", flush=True)
        return None


class SQLValueCheckOperator(_SqlTask, BaseOperator):
    """Fails unless every value of the first row of `sql` equals `pass_value` (within `tolerance`,
    a fraction, for numbers)."""

    template_fields = ("sql", "pass_value", "conn_id", "database")
    template_ext = (".sql",)

    def __init__(
        self,
        *,
        sql: str,
        pass_value: Any,
        tolerance: Any = None,
        conn_id: str | None = None,
        database: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not conn_id:
            raise DagDefinitionError(f"{self.where}: conn_id is required")
        self.conn_id, self.database = conn_id, database
        self.sql = _check_sql(sql, self.where)
        self.pass_value = str(pass_value)
        self.tol = float(tolerance) if tolerance is not None else None
        self.hook_params = {}

    def execute(self, context: dict[str, Any]) -> Any:
        records = self.get_db_hook().get_first(self.sql)
        if not records:
            raise TaskFailed(f"The following query returned zero rows: {self.sql}")
        expected = _float_or_text(self.pass_value)
        if isinstance(expected, float):
            values = [_float_or_text(r) for r in records]
            if self.tol is not None:
                low, high = expected * (1 - self.tol), expected * (1 + self.tol)
                passed = [isinstance(v, float) and low <= v <= high for v in values]
            else:
                passed = [v == expected for v in values]
        else:
            passed = [str(r) == expected for r in records]
        if not all(passed):
            tolerance = "" if self.tol is None else f" (tolerance {self.tol:.1%})"
            raise TaskFailed(
                f"Test failed. Pass value: {self.pass_value}{tolerance}; results: {list(records)!r}; query: {self.sql}"
            )
        print("Success.", flush=True)
        return None


def _float_or_text(value: Any) -> float | str:
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
