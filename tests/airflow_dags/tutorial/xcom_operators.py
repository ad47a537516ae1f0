import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, task

value_1 = [1, 2, 3]
value_2 = {"a": "b"}


def push(ti=None):
    ti.xcom_push(key="value from pusher 1", value=value_1)


def push_by_returning():
    return value_2


def puller(pulled_value_2, ti=None):
    pulled_value_1 = ti.xcom_pull(task_ids="push", key="value from pusher 1")
    assert pulled_value_1 == value_1, pulled_value_1
    assert pulled_value_2 == value_2, pulled_value_2


with DAG(
    "xcom_operators",
    schedule=None,
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    tags=["tutorial"],
) as dag:
    push1 = PythonOperator(task_id="push", python_callable=push)
    push2 = PythonOperator(task_id="push_by_returning", python_callable=push_by_returning)
    pull = PythonOperator(
        task_id="puller",
        python_callable=puller,
        op_kwargs={"pulled_value_2": push2.output},
    )
    [push1, push2] >> pull

    bash_push = BashOperator(
        task_id="bash_push",
        bash_command='echo "bash_push demo" && '
        'echo "Manually set xcom value '
        '{{ ti.xcom_push(key="manually_pushed_value", value="manually_pushed_value") }}" && '
        'echo "value_by_return"',
    )
    bash_pull = BashOperator(
        task_id="bash_pull",
        bash_command='test "{{ ti.xcom_pull(task_ids="bash_push") }}" = "value_by_return" && '
        'test "{{ ti.xcom_pull(task_ids="bash_push", key="manually_pushed_value") }}" = "manually_pushed_value" '
        "&& echo pulled",
    )

    @task
    def python_pull_from_bash(value_from_bash, ti=None):
        assert value_from_bash == "value_by_return", value_from_bash
        manual = ti.xcom_pull(task_ids="bash_push", key="manually_pushed_value")
        assert manual == "manually_pushed_value", manual

    bash_push >> bash_pull
    python_pull_from_bash(bash_push.output)
