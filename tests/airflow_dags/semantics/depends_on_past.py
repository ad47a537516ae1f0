"""depends_on_past as Airflow users write it: three daily runs, the middle one's task fails, so the
third run's instance of it waits."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="depends_on_past",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    end_date=pendulum.datetime(2026, 1, 3, tz="UTC"),
    catchup=True,
    max_active_runs=3,
    default_args={"depends_on_past": True},
):
    load = BashOperator(task_id="load", bash_command='[ "{{ ds }}" != "2026-01-02" ]')
    report = BashOperator(task_id="report", bash_command="echo report", depends_on_past=False)
    load >> report
