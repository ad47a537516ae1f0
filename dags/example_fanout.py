"""Fan out, fan in, and trigger rules: cleanup runs whatever happened upstream."""

from datetime import datetime

from tradewind import DAG, BashOperator, EmptyOperator, PythonOperator


def summarize(**context):
    print(f"summarizing run {context['run_id']}")
    return "ok"


with DAG(
    dag_id="example_fanout",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_tasks=4,
    tags=["example"],
):
    start = EmptyOperator(task_id="start")
    shards = [BashOperator(task_id=f"shard_{i}", bash_command=f"echo shard {i}") for i in range(4)]
    merge = PythonOperator(task_id="merge", python_callable=summarize)
    cleanup = BashOperator(task_id="cleanup", bash_command="echo cleaning up", trigger_rule="all_done")
    start >> shards >> merge >> cleanup
