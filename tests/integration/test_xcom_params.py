"""XCom values, params and templates end to end: a coordinator, a worker and the CLI on loopback."""

from __future__ import annotations

import json

from tests.harness import Cluster, write_dag
from tests.integration.test_end_to_end import finished_run, tis, trigger

XCOM_DAG = """
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from tradewind import BashOperator, Param, dag, task


@dag(schedule=None, params={"limit": Param(5, type="integer", minimum=1)})
def values(table: str = "sales"):
    @task
    def nothing():
        return None

    @task
    def takes_none(value):
        assert value is None, value
        return "got None"

    @task
    def typed():
        return {
            "when": datetime(2026, 11, 25, 6, 30, tzinfo=timezone(timedelta(hours=1))),
            "day": date(2026, 11, 25),
            "gap": timedelta(hours=1, microseconds=5),
            "tags": {"a", "b"},
            "pair": (1, 2),
            "amount": Decimal("10.05"),
        }

    @task
    def check(value, table, params=None):
        assert type(value["when"]) is datetime and value["when"].utcoffset() == timedelta(hours=1), value
        assert value["day"] == date(2026, 11, 25) and value["gap"] == timedelta(hours=1, microseconds=5), value
        assert value["tags"] == {"a", "b"} and value["pair"] == (1, 2), value
        assert value["amount"] == Decimal("10.05"), value
        return f"{table} {params['limit']}"

    data = typed()
    takes_none(nothing())
    checked = check(data, table)
    BashOperator(task_id="echo", bash_command=f"echo 'result:{checked}:{data['amount']}:{{{{ params.table }}}}'")


values()
"""


def test_xcom_values_params_and_conf_reach_tasks_and_templates(cluster: Cluster) -> None:
    write_dag(cluster.dags, "values.py", XCOM_DAG)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "values", "--conf", json.dumps({"table": "orders", "limit": 7}))
    run = finished_run(cluster, "values", run_id, timeout=90)
    states = {task_id: row["state"] for task_id, row in tis(cluster, "values", run_id).items()}
    assert run["state"] == "success", states
    log = cluster.cli("tasks", "logs", "values", run_id, "echo").stdout
    assert "result:orders 7:10.05:orders" in log
    shown = cluster.cli("tasks", "show", "values", run_id, "echo").stdout
    assert "rendered (try 1): echo 'result:orders 7:10.05:orders'" in shown
    shown = cluster.cli("tasks", "show", "values", run_id, "check").stdout
    assert "Decimal('10.05')" in shown and "'orders'" in shown and "XComArg" not in shown, shown


def test_a_conf_that_breaks_a_param_is_refused_at_trigger_with_the_field(cluster: Cluster) -> None:
    write_dag(cluster.dags, "values.py", XCOM_DAG)
    cluster.coordinator()
    trigger(cluster, "values")
    result = cluster.cli("dags", "trigger", "values", "--conf", '{"limit": 0}', check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: DAG 'values': conf_json: param 'limit': 0 is less than the minimum of 1"


FILES_DAG = """
from tradewind import DAG, BashOperator, PythonOperator


def show(templates_dict=None):
    print("config", templates_dict["config"])
    return templates_dict["config"]


with DAG("files", user_defined_macros={"team": "data"}, render_template_as_native_obj=True):
    script = BashOperator(task_id="script", bash_command="run.sh")
    python = PythonOperator(
        task_id="python", python_callable=show, templates_dict={"config": "cfg.json"}, templates_exts=[".json"]
    )
    script >> python
"""


def test_template_files_render_in_bash_and_python_tasks(cluster: Cluster) -> None:
    write_dag(cluster.dags, "files.py", FILES_DAG)
    (cluster.dags / "run.sh").write_text("echo 'script for {{ team }} on {{ ds }}'\n")
    (cluster.dags / "cfg.json").write_text('{"team": "{{ team }}", "n": {{ 1 + 1 }}}')
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "files")
    run = finished_run(cluster, "files", run_id, timeout=90)
    assert run["state"] == "success", tis(cluster, "files", run_id)
    assert "script for data on 20" in cluster.cli("tasks", "logs", "files", run_id, "script").stdout
    assert "config {'team': 'data', 'n': 2}" in cluster.cli("tasks", "logs", "files", run_id, "python").stdout


# Written for Airflow 3, as its docs write params, templates and XComs; not a word of Tradewind.
AIRFLOW_PARAMS_DAG = """
import pendulum

from airflow.sdk import DAG, Param, task
from airflow.providers.standard.operators.bash import BashOperator

with DAG(
    dag_id="airflow_params",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={
        "rows": Param(10, type="integer", minimum=1, maximum=100),
        "table": Param("sales", enum=["sales", "orders"]),
    },
):
    @task
    def push(params=None):
        return {"rows": params["rows"], "when": pendulum.datetime(2026, 11, 25, tz="UTC")}

    pushed = push()
    report = BashOperator(
        task_id="report",
        bash_command=(
            "echo 'rows={{ ti.xcom_pull(task_ids=\\"push\\")[\\"rows\\"] }} table={{ params.table }} "
            "week={{ macros.ds_add(ds, 7) }} key={{ task_instance_key_str }} "
            "when={{ ti.xcom_pull(task_ids=\\"push\\")[\\"when\\"].year }}'"
        ),
    )
    pushed >> report
"""


def test_an_airflow_dag_with_params_conf_templates_and_xcoms_runs_unchanged(cluster: Cluster) -> None:
    write_dag(cluster.dags, "airflow_params.py", AIRFLOW_PARAMS_DAG)
    cluster.coordinator()
    cluster.worker("w1")
    run_id = trigger(cluster, "airflow_params", "--conf", '{"rows": 42, "table": "orders"}')
    run = finished_run(cluster, "airflow_params", run_id, timeout=90)
    assert run["state"] == "success", tis(cluster, "airflow_params", run_id)
    log = cluster.cli("tasks", "logs", "airflow_params", run_id, "report").stdout
    day = run_id.split("__")[1][:10]
    assert "rows=42 table=orders week=" in log and "when=2026" in log, log
    assert f"key=airflow_params__report__{day.replace('-', '')}" in log, log
    refused = cluster.cli("dags", "trigger", "airflow_params", "--conf", '{"table": "users"}', check=False)
    assert refused.stderr.strip() == (
        "error: DAG 'airflow_params': conf_json: param 'table': 'users' is not one of ['sales', 'orders']"
    )
