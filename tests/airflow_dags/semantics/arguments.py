"""Arguments Airflow users pass: display names, mail settings (accepted, no mail is sent),
owner, docs, a task's own start_date, default_args for an operator's own arguments, and
max_consecutive_failed_dag_runs."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="arguments",
    dag_display_name="Nightly arguments",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    end_date=pendulum.datetime(2026, 1, 2, tz="UTC"),
    catchup=True,
    default_args={
        "owner": "data-team",
        "email": ["oncall@example.com"],
        "email_on_failure": True,
        "email_on_retry": False,
        "env": {"GREETING": "hello from default_args"},
    },
):
    first = BashOperator(
        task_id="greet",
        task_display_name="Say hello",
        bash_command="echo $GREETING",
        doc_md="Says hello.",
        doc="plain",
        doc_rst="rst",
        doc_json="{}",
        doc_yaml="a: 1",
    )
    later = BashOperator(
        task_id="from_day_two",
        bash_command="echo day two",
        start_date=pendulum.datetime(2026, 1, 2, tz="UTC"),
    )
    first >> later >> BashOperator(task_id="last", bash_command="echo last")

with DAG(
    dag_id="gives_up",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    max_consecutive_failed_dag_runs=2,
):
    BashOperator(task_id="fails", bash_command="exit 1")
