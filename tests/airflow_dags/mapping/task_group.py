import pendulum
from airflow.sdk import DAG, task, task_group

with DAG(dag_id="map_group", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def plus_one(x):
        return x + 1

    @task
    def times(x, factor):
        return x * factor

    @task_group
    def per_number(x, factor):
        return times(plus_one(x), factor)

    @task
    def collect(values):
        return list(values)

    collect(per_number.partial(factor=3).expand(x=[1, 2]))
