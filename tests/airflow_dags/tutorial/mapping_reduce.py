import pendulum
from airflow.sdk import DAG, task

with DAG(
    dag_id="mapping_reduce",
    schedule=None,
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    tags=["tutorial"],
) as dag:

    @task
    def make_list():
        return [1, 2, 3]

    @task
    def add_one(x: int, offset: int):
        return x + offset

    @task
    def sum_it(values):
        total = sum(values)
        print(f"Total was {total}")
        assert total == 36, total
        return total

    added = add_one.partial(offset=10).expand(x=make_list())
    sum_it(added)
