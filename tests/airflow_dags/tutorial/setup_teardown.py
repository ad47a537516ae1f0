import pendulum
from airflow.sdk import dag, setup, task, teardown


@dag(schedule=None, start_date=pendulum.datetime(2021, 1, 1, tz="UTC"), catchup=False, tags=["tutorial"])
def setup_teardown():
    @setup
    def create_cluster():
        return "cluster-1"

    @task
    def run_query(cluster):
        raise RuntimeError(f"the query on {cluster} failed")

    @teardown
    def delete_cluster(cluster):
        print(f"deleting {cluster}")

    cluster = create_cluster()
    run_query(cluster) >> delete_cluster(cluster)


setup_teardown()
