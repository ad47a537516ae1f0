import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, get_current_context, task

with DAG(dag_id="map_named", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):

    @task(map_index_template="{{ city_name }}")
    def weather(city):
        context = get_current_context()
        context["city_name"] = city.title()
        return len(city)

    weather.expand(city=["lisbon", "oslo"])
    BashOperator.partial(task_id="shell", map_index_template="item {{ ti.map_index }}").expand(
        bash_command=["echo a", "echo b"]
    )
