import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup, task, task_group

with DAG(
    dag_id="task_groups",
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    schedule=None,
    tags=["tutorial"],
) as dag:
    start = EmptyOperator(task_id="start")

    with TaskGroup("section_1", tooltip="Tasks for section_1") as section_1:
        task_1 = EmptyOperator(task_id="task_1")
        task_2 = BashOperator(task_id="task_2", bash_command="echo 1")
        task_3 = EmptyOperator(task_id="task_3")
        task_1 >> [task_2, task_3]

    with TaskGroup("section_2", tooltip="Tasks for section_2") as section_2:
        task_1 = EmptyOperator(task_id="task_1")
        with TaskGroup("inner_section_2", tooltip="Tasks for inner_section2") as inner_section_2:
            task_2 = BashOperator(task_id="task_2", bash_command="echo 1")
            task_3 = EmptyOperator(task_id="task_3")
            task_4 = EmptyOperator(task_id="task_4")
            [task_2, task_3] >> task_4

    @task_group(group_id="math")
    def math_group(value: int):
        @task
        def double(v):
            return v * 2

        @task
        def add_one(v):
            return v + 1

        return add_one(double(value))

    @task
    def check(result):
        assert result == 11, result
        return result

    end = EmptyOperator(task_id="end")
    start >> section_1 >> section_2 >> end
    start >> check(math_group(5)) >> end
