import random

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk import DAG, Label, task
from airflow.utils.trigger_rule import TriggerRule

with DAG(
    dag_id="branching",
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    schedule=None,
    tags=["tutorial"],
) as dag:
    run_this_first = EmptyOperator(task_id="run_this_first")

    options = ["branch_a", "branch_b", "branch_c", "branch_d"]

    @task.branch(task_id="branching")
    def random_choice(choices):
        random.seed(3)
        return "branch_b"

    branching = random_choice(choices=options)
    run_this_first >> branching

    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

    for option in options:
        t = EmptyOperator(task_id=option)
        follow = EmptyOperator(task_id="follow_" + option)
        branching >> Label(option) >> t >> follow >> join

    def choose_classic(**context):
        return ["classic_yes"] if context["params"].get("go", True) else "classic_no"

    classic = BranchPythonOperator(task_id="classic_branch", python_callable=choose_classic)
    classic >> [EmptyOperator(task_id="classic_yes"), EmptyOperator(task_id="classic_no")]
