"""dagrun_timeout: the run fails after two seconds; the sleeping task is killed and skipped."""

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="dagrun_timeout",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    dagrun_timeout=timedelta(seconds=2),
):
    quick = BashOperator(task_id="quick", bash_command="echo quick")
    slow = BashOperator(task_id="slow", bash_command="sleep 987")
    after = BashOperator(task_id="after", bash_command="echo after")
    quick >> slow >> after
