import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="map_kwargs", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def configs():
        return [{"a": 1, "b": 2}, {"a": 5, "b": 7}]

    @task
    def combine(a, b):
        return a * b

    combine.expand_kwargs(configs())
