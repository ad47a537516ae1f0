"""Setup and teardown tasks as Airflow documents them: the decorators, as_teardown and the `with` form."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, setup, task, teardown

with DAG(dag_id="setup_teardown", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):

    @setup
    def create_cluster():
        print("cluster created")
        return "c-1"

    @teardown
    def delete_cluster(cluster):
        print(f"deleting {cluster}")

    @task
    def query():
        raise RuntimeError("the query failed")

    cluster = create_cluster()
    with delete_cluster(cluster):
        query()

    make_bucket = BashOperator(task_id="make_bucket", bash_command="echo bucket")
    use_bucket = BashOperator(task_id="use_bucket", bash_command="echo using")
    drop_bucket = BashOperator(task_id="drop_bucket", bash_command="exit 3")
    make_bucket >> use_bucket >> drop_bucket.as_teardown(setups=make_bucket)
