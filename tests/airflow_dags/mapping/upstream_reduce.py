import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="map_reduce", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def make_list():
        return [1, 2, 3, 4]

    @task
    def square(x):
        return x * x if x != 3 else None

    @task
    def total(values):
        return sum(v for v in values)

    total(square.expand(x=make_list()))
