import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, task

with DAG(
    dag_id="params_conf",
    schedule=None,
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "names": Param(["Linda", "Martha", "Thomas"], type="array", minItems=1),
        "english": Param(True, type="boolean"),
        "greeting": Param("Hello", type="string", enum=["Hello", "Hallo", "Bonjour"]),
        "count": Param(1, type="integer", minimum=1, maximum=10),
    },
    tags=["tutorial"],
) as dag:

    @task(task_id="get_names")
    def get_names(**kwargs) -> list[str]:
        params = kwargs["params"]
        return [f"{params['greeting']} {name}" for name in params["names"]] * params["count"]

    @task
    def check(greetings: list[str], **kwargs):
        print("\n".join(greetings))
        return greetings

    say = BashOperator(
        task_id="say",
        bash_command="echo '{{ params.greeting }} x{{ params.count }} english={{ params.english }}'",
    )
    check(get_names()) >> say
