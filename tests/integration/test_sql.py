"""SQL tasks and secrets end to end: the example SQL DAG on SQLite and on PostgreSQL, failures
that show the database's message, and a run whose logs and API answers never show a password."""

from __future__ import annotations

import json
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.harness import ROOT, Cluster, assert_eventually, write_dag
from tests.integration.test_end_to_end import finished_run, runs, tis, trigger
from tests.pg import fresh_database

PASSWORD = "Sw0rdf1sh-83x"
TOKEN = "tok-5b2e91c7"


def example_run(cluster: Cluster) -> dict[str, str]:
    shutil.copy(ROOT / "dags" / "example_sql.py", cluster.dags / "example_sql.py")
    cluster.coordinator()
    cluster.worker("w1")

    def done() -> dict[str, str] | None:
        found = [r for r in runs(cluster, "example_sql") if r["state"] in ("success", "failed")]
        return found[0] if found else None

    return assert_eventually(done, 90, "the example_sql run to finish")


def assert_example_succeeded(cluster: Cluster, run: dict[str, str]) -> None:
    states = {task_id: row["state"] for task_id, row in tis(cluster, "example_sql", run["run_id"]).items()}
    assert run["state"] == "success", states
    log = cluster.cli("tasks", "logs", "example_sql", run["run_id"], "report").stdout
    assert "3 orders, 89.75 in all; grace, linus spent 20 or more" in log


def test_the_example_sql_dag_runs_on_sqlite(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_CONN_SQLITE_DEFAULT", f"sqlite:///{cluster.home / 'orders.db'}")
    run = example_run(cluster)
    assert_example_succeeded(cluster, run)
    query_log = cluster.cli("tasks", "logs", "example_sql", run["run_id"], "query_orders").stdout
    assert "Query result: [['ada', 12.5], ['grace', 30], ['linus', 47.25]]" in query_log


def test_the_example_sql_dag_runs_on_postgresql(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_database() as url:
        monkeypatch.setenv("TRADEWIND_CONN_SQLITE_DEFAULT", url)
        run = example_run(cluster)
        assert_example_succeeded(cluster, run)
        with psycopg.connect(url) as connection:
            rows = connection.execute("SELECT customer, amount FROM example_sql_orders ORDER BY id").fetchall()
        assert rows == [("ada", Decimal("12.50")), ("grace", Decimal("30.00")), ("linus", Decimal("47.25"))]


SECRET_DAG = """
import logging
from tradewind import DAG, BashOperator, BaseHook, SQLExecuteQueryOperator, Variable, task

with DAG(dag_id="secrets", schedule=None):
    @task
    def leak():
        connection = BaseHook.get_connection("target")
        print("password:", connection.password)
        print("uri:", connection.get_uri())
        logging.info("token %s", Variable.get("api_token"))
        Variable.set("copied", "done")
        return connection.host

    bad_sql = SQLExecuteQueryOperator(
        task_id="bad_sql", conn_id="target", sql="SELEC '{{ conn.target.password }}' AS p"
    )
    echo = BashOperator(
        task_id="echo", bash_command="echo pw={{ conn.target.password }} token={{ var.value.api_token }}"
    )
    leak() >> [bad_sql, echo]
"""


def test_no_task_log_or_api_answer_of_a_run_shows_a_password(cluster: Cluster) -> None:
    write_dag(cluster.dags, "secrets.py", SECRET_DAG)
    cluster.coordinator()
    cluster.worker("w1")
    database = cluster.home / "target.db"
    cluster.cli(
        "connections",
        "add",
        "target",
        "--conn-type",
        "sqlite",
        "--conn-host",
        str(database),
        "--conn-password",
        PASSWORD,
    )
    cluster.cli("variables", "set", "api_token", TOKEN)
    run_id = trigger(cluster, "secrets")
    finished = finished_run(cluster, "secrets", run_id)
    states = tis(cluster, "secrets", run_id)
    assert (finished["state"], states["leak"]["state"], states["echo"]["state"]) == ("failed", "success", "success")
    assert states["bad_sql"]["state"] == "failed"
    bad = cluster.cli("tasks", "show", "secrets", run_id, "bad_sql").stdout
    assert 'near "SELEC": syntax error' in bad and "SELEC '***' AS p" in bad
    texts = [bad, json.dumps(runs(cluster, "secrets")), json.dumps(states)]
    for task_id in states:
        texts.append(cluster.cli("tasks", "logs", "secrets", run_id, task_id).stdout)
        texts.append(cluster.cli("tasks", "show", "secrets", run_id, task_id, "--json").stdout)
    texts += [
        cluster.cli(*args).stdout
        for args in (
            ("connections", "list", "--json"),
            ("connections", "get", "target"),
            ("variables", "list", "--json"),
        )
    ]
    everything = "\n".join(texts)
    assert "password: ***" in everything and "pw=*** token=***" in everything and "token ***" in everything
    assert PASSWORD not in everything and TOKEN not in everything
    assert cluster.cli("variables", "get", "copied").stdout.strip() == "done"
    with sqlite3.connect(cluster.home / "tradewind.db") as metastore:
        stored = metastore.execute("SELECT password FROM connection UNION ALL SELECT value FROM variable").fetchall()
    assert stored and not any(PASSWORD in text or TOKEN in text or text == "done" for (text,) in stored)


def test_a_connection_that_cannot_open_fails_its_task_naming_it(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = f"postgresql://nobody:{PASSWORD}@127.0.0.1:9/db"
    monkeypatch.setenv("TRADEWIND_CONN_NOWHERE", unreachable)
    write_dag(
        cluster.dags,
        "nowhere.py",
        """
from tradewind import DAG, SQLExecuteQueryOperator

with DAG(dag_id="nowhere", schedule=None):
    SQLExecuteQueryOperator(task_id="q", conn_id="nowhere", sql="SELECT 1")
""",
    )
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "nowhere")
    assert finished_run(cluster, "nowhere", run_id)["state"] == "failed"
    shown = cluster.cli("tasks", "show", "nowhere", run_id, "q").stdout
    log = cluster.cli("tasks", "logs", "nowhere", run_id, "q").stdout
    assert "cannot connect with connection 'nowhere' to 127.0.0.1" in shown
    assert PASSWORD not in shown + log


def test_a_role_the_database_refuses_fails_the_task_with_its_message_and_the_password_masked(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database() as url:
        parts = urlsplit(url)
        refused = f"postgresql://no_such_role:{PASSWORD}@{parts.hostname}:{parts.port or 5432}{parts.path}"
        monkeypatch.setenv("TRADEWIND_CONN_REFUSED", refused)
        write_dag(
            cluster.dags,
            "refused.py",
            """
from tradewind import DAG, SQLExecuteQueryOperator

with DAG(dag_id="refused", schedule=None):
    SQLExecuteQueryOperator(task_id="q", conn_id="refused", sql="SELECT 1")
""",
        )
        cluster.coordinator()
        cluster.worker("w1")
        run_id = trigger(cluster, "refused")
        assert finished_run(cluster, "refused", run_id)["state"] == "failed"
        shown = cluster.cli("tasks", "show", "refused", run_id, "q").stdout
        log = cluster.cli("tasks", "logs", "refused", run_id, "q").stdout
        assert 'role "no_such_role" does not exist' in shown
        assert PASSWORD not in shown + log


def test_connections_test_opens_the_connection_on_a_worker_and_reports_the_drivers_error(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.coordinator()
    refused = cluster.cli("connections", "test", "x", "--uri", f"sqlite:///{tmp_path / 'x.db'}", check=False)
    assert (refused.returncode, refused.stderr.strip()) == (
        1,
        "error: no worker is connected to test connection 'x' from; start one with `worker join`",
    )
    cluster.worker("w1")
    assert_eventually(lambda: "active" in cluster.cli("workers", "list").stdout, 30, "the worker to join")
    cluster.cli("connections", "add", "lite", "--uri", f"sqlite:///{tmp_path / 'ok.db'}")
    assert "Connection successfully tested" in cluster.cli("connections", "test", "lite").stdout
    failed = cluster.cli("connections", "test", "bad", "--uri", f"sqlite:///{tmp_path / 'no' / 'dir.db'}", check=False)
    assert failed.returncode == 1 and "from worker w1: " in failed.stderr and "unable to open database" in failed.stderr
    missing = cluster.cli("connections", "get", "gone", check=False)
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: connection 'gone' not found")


def test_variables_import_and_export_use_airflows_json_file(cluster: Cluster, tmp_path: Path) -> None:
    cluster.coordinator()
    source = tmp_path / "in.json"
    source.write_text(json.dumps({"colour": "red", "limits": {"max": 3}}))
    assert "2 variables imported" in cluster.cli("variables", "import", str(source)).stdout
    assert json.loads(cluster.cli("variables", "get", "limits", "--json").stdout) == {"max": 3}
    cluster.cli("variables", "delete", "colour")
    out = tmp_path / "out.json"
    cluster.cli("variables", "export", str(out))
    assert json.loads(out.read_text()) == {"limits": '{"max": 3}'}
    assert_eventually(lambda: "limits" in cluster.cli("variables", "list").stdout, 5, "the variable to be listed")
