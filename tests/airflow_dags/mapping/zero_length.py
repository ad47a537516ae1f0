import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="map_zero", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def nothing():
        return []

    @task
    def use(x):
        return x

    @task
    def after(values):
        return values

    after(use.expand(x=nothing()))
