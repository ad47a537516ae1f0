"""A first DAG: three shell commands in a row, with Airflow's templates."""

from datetime import datetime, timedelta

from tradewind import DAG, BashOperator

with DAG(
    dag_id="example_bash",
    description="Shell commands in sequence, with templated dates",
    schedule="@once",
    start_date=datetime(2024, 1, 1),
    tags=["example"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=5)},
):
    extract = BashOperator(task_id="extract", bash_command='echo "extracting data for {{ ds }}"')
    transform = BashOperator(task_id="transform", bash_command="echo transforming; sleep 1; echo done")
    load = BashOperator(
        task_id="load",
        bash_command='echo "loading into $TARGET for run {{ run_id }}"',
        env={"TARGET": "warehouse"},
        append_env=True,
    )
    extract >> transform >> load
