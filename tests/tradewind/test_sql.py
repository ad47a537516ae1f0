"""SQL hooks and operators on SQLite (tradewind/hooks/, tradewind/operators/sql.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradewind import DAG, task
from tradewind.connections import Connection
from tradewind.exceptions import ConnectionFailed, DagDefinitionError, SqlStatementError, TaskFailed
from tradewind.hooks import BaseHook, SqliteHook, fetch_all_handler, hook_for
from tradewind.hooks.statements import split_statements
from tradewind.operators.sql import SQLCheckOperator, SQLExecuteQueryOperator, SQLValueCheckOperator
from tradewind.xcom_codec import dumps, loads


class PushedXComs:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqliteHook:
    monkeypatch.setenv("TRADEWIND_CONN_LITE", f"sqlite:///{tmp_path / 'x.db'}".replace("sqlite:///", "sqlite:////"))
    hook = SqliteHook(sqlite_conn_id="lite")
    hook.run("CREATE TABLE t (id INTEGER, name TEXT, amount NUMERIC)")
    return hook


def test_insert_rows_commits_in_batches_and_queries_take_parameters(db: SqliteHook) -> None:
    assert (
        db.insert_rows(
            "t", [(i, f"n{i}", i * 1.5) for i in range(5)], target_fields=["id", "name", "amount"], commit_every=2
        )
        == 5
    )
    assert db.get_records("SELECT id, name FROM t WHERE id >= ? ORDER BY id", parameters=[3]) == [[3, "n3"], [4, "n4"]]
    assert db.get_first("SELECT COUNT(*) FROM t") == [5]
    assert [column[0] for column in db.last_description or ()] == ["COUNT(*)"]


def test_run_returns_the_last_result_of_one_string_and_every_result_of_a_list(db: SqliteHook) -> None:
    split = "INSERT INTO t VALUES (1, 'a;b', 2); SELECT name FROM t; SELECT id FROM t"
    assert db.run(split, split_statements=True, handler=fetch_all_handler) == [[1]]
    both = db.run(split, split_statements=True, return_last=False, handler=fetch_all_handler)
    assert both == [None, [["a;b"], ["a;b"]], [[1], [1]]]
    assert db.run(["SELECT 1", "SELECT 2"], handler=fetch_all_handler) == [[[1]], [[2]]]


def test_split_statements_ignores_semicolons_in_quotes_and_comments() -> None:
    sql = "SELECT 'a;b'; -- c;d\nSELECT \"x;y\" /* e;f */; ;"
    assert split_statements(sql) == ["SELECT 'a;b'", '-- c;d\nSELECT "x;y" /* e;f */']


def test_a_failing_statement_shows_the_database_message_and_the_statement(db: SqliteHook) -> None:
    with pytest.raises(SqlStatementError, match=r'near "SELEC": syntax error.*connection .lite.*SELEC name FROM t'):
        db.run("SELEC name FROM t")


def test_a_connection_that_cannot_open_names_the_conn_id_and_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir.db"
    hook = SqliteHook(connection=Connection(conn_id="gone", conn_type="sqlite", host=str(missing)))
    with pytest.raises(ConnectionFailed, match=f"connection 'gone' to {missing}"):
        hook.get_conn()
    assert hook.test_connection()[0] is False


def test_rows_with_dates_and_decimals_can_be_stored_as_xcoms(db: SqliteHook) -> None:
    rows = db.get_records("SELECT 1, 'x'")
    rows.append([date(2024, 1, 2), Decimal("1.50")])
    assert loads(dumps(rows)) == [[1, "x"], [date(2024, 1, 2), Decimal("1.50")]]


def test_base_hook_picks_the_hook_of_the_connection_type(db: SqliteHook) -> None:
    assert isinstance(BaseHook.get_hook("lite"), SqliteHook)


def test_the_query_operator_returns_rows_and_pushes_column_names(db: SqliteHook) -> None:
    db.insert_rows("t", [(1, "a", 2), (2, "b", 3)])
    with DAG(dag_id="d", schedule=None):
        query = SQLExecuteQueryOperator(task_id="q", conn_id="lite", sql="SELECT id, name FROM t ORDER BY id")
    ti = PushedXComs()
    assert query.execute({"ti": ti}) == [[1, "a"], [2, "b"]]
    assert ti.pushed == {"descriptions": ["id", "name"]}


def test_the_check_operators_fail_with_the_query_and_results(db: SqliteHook) -> None:
    db.insert_rows("t", [(1, "a", 10)])
    with DAG(dag_id="d", schedule=None):
        good = SQLValueCheckOperator(
            task_id="good", conn_id="lite", sql="SELECT SUM(amount) FROM t", pass_value=10.5, tolerance=0.1
        )
        bad = SQLValueCheckOperator(task_id="bad", conn_id="lite", sql="SELECT SUM(amount) FROM t", pass_value=20)
        empty = SQLCheckOperator(task_id="empty", conn_id="lite", sql="SELECT COUNT(*) FROM t WHERE id > 5")
    good.execute({})
    with pytest.raises(TaskFailed, match="Pass value: 20.*10"):
        bad.execute({})
    with pytest.raises(TaskFailed, match=r"Test failed.*\[0\]"):
        empty.execute({})


def test_task_sql_runs_the_sql_its_function_returns(db: SqliteHook) -> None:
    db.insert_rows("t", [(7, "seven", 1)])
    with DAG(dag_id="d", schedule=None) as dag:

        @task.sql(conn_id="lite")
        def names() -> str:
            return "SELECT name FROM t"

        names()
    ti = PushedXComs()
    assert dag.task_dict["names"].execute({"ti": ti}) == [["seven"]]


def test_a_query_operator_without_conn_id_or_sql_is_refused_at_parse_time() -> None:
    with DAG(dag_id="d", schedule=None), pytest.raises(DagDefinitionError, match="conn_id is required"):
        SQLExecuteQueryOperator(task_id="q", sql="SELECT 1")
    with DAG(dag_id="d", schedule=None), pytest.raises(DagDefinitionError, match="sql must be"):
        SQLExecuteQueryOperator(task_id="q", conn_id="x", sql="")


def test_sql_in_a_template_file_is_found_through_template_searchpath(db: SqliteHook, tmp_path: Path) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "names.sql").write_text("SELECT name FROM t WHERE id = {{ params.id }}")
    db.insert_rows("t", [(4, "four", 1)])
    with DAG(dag_id="d", schedule=None, template_searchpath=str(tmp_path / "sql")) as dag:
        SQLExecuteQueryOperator(task_id="q", conn_id="lite", sql="names.sql", params={"id": 4})
    query = dag.task_dict["q"]
    assert query.sql == "SELECT name FROM t WHERE id = {{ params.id }}"


def test_a_generic_connection_uses_the_db_api_module_its_extra_names(tmp_path: Path) -> None:
    connection = Connection(
        conn_id="g", conn_type="generic", schema=str(tmp_path / "g.db"), extra={"driver": "sqlite3"}
    )
    hook = hook_for(connection)
    hook.run("CREATE TABLE g (a INTEGER)")
    hook.insert_rows("g", [(1,), (2,)])
    assert hook.get_first("SELECT SUM(a) FROM g") == [3]


def test_get_pandas_df_without_pandas_says_what_to_install(db: SqliteHook) -> None:
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(Exception, match="get_pandas_df needs pandas"):
            db.get_pandas_df("SELECT 1")
    else:
        assert list(db.get_pandas_df("SELECT 1 AS one")["one"]) == [1]


def test_airflows_sql_module_paths_give_tradewinds_operators_and_hooks() -> None:
    from tradewind.compat.airflow import airflow_imports

    with airflow_imports():
        from airflow.hooks.base import BaseHook as AirflowBaseHook
        from airflow.models.connection import Connection as AirflowConnection
        from airflow.models.variable import Variable as AirflowVariable
        from airflow.providers.common.sql.hooks.sql import fetch_all_handler as handler
        from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator as Query
        from airflow.providers.postgres.hooks.postgres import PostgresHook as AirflowPostgresHook
        from airflow.providers.sqlite.hooks.sqlite import SqliteHook as AirflowSqliteHook
        from airflow.sdk import Connection as SdkConnection
        from airflow.sdk import Variable as SdkVariable
    import tradewind

    assert (Query, AirflowSqliteHook, AirflowPostgresHook, AirflowBaseHook, handler) == (
        SQLExecuteQueryOperator,
        SqliteHook,
        tradewind.PostgresHook,
        BaseHook,
        fetch_all_handler,
    )
    assert AirflowConnection is SdkConnection is Connection
    assert AirflowVariable is SdkVariable is tradewind.Variable


def test_a_connections_own_hook_is_the_one_of_its_type_with_the_hook_params_given(db: SqliteHook) -> None:
    hook = Connection.get_connection_from_secrets("lite").get_hook(hook_params={"log_sql": False})
    assert isinstance(hook, SqliteHook) and hook.log_sql is False


def test_hook_params_are_set_on_the_operators_hook(db: SqliteHook) -> None:
    with DAG(dag_id="d", schedule=None):
        query = SQLExecuteQueryOperator(task_id="q", conn_id="lite", sql="SELECT 1", hook_params={"log_sql": False})
    assert query.get_db_hook().log_sql is False
