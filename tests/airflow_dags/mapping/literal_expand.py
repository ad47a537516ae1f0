import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="map_literal", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def add(x, y):
        return x + y

    add.partial(y=10).expand(x=[1, 2, 3])
