import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="map_too_long", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def many():
        return list(range(1025))

    @task
    def use(x):
        return x

    use.expand(x=many())
