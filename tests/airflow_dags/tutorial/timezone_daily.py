import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

local_tz = pendulum.timezone("Europe/Amsterdam")

with DAG(
    dag_id="timezone_daily",
    schedule="@daily",
    start_date=pendulum.now(local_tz).start_of("day").subtract(days=3),
    catchup=True,
    tags=["tutorial"],
) as dag:
    BashOperator(
        task_id="report",
        bash_command="echo 'interval {{ data_interval_start }} to {{ data_interval_end }} ds={{ ds }}'",
    )
