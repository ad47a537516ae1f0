import pendulum
from airflow.sdk import DAG, task

with DAG(dag_id="map_not_list", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task
    def one():
        return 42

    @task
    def use(x):
        return x

    use.expand(x=one())
