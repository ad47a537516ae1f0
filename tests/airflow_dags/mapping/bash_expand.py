import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="map_bash", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    run = BashOperator.partial(task_id="run").expand(bash_command=["echo one", "echo two", "exit 3"])
    after = BashOperator(task_id="after", bash_command="echo after", trigger_rule="all_done")
    run >> after
