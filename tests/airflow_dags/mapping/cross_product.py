import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="map_cross", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def letters():
        return {"a": 1, "b": 2}

    @task
    def pair(item, n):
        key, value = item
        return f"{key}{value}-{n}"

    pair.expand(item=letters(), n=[10, 20])
