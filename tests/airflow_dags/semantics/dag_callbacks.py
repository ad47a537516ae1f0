"""DAG run callbacks as Airflow users write them: one callable or a list, one of which raises."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG


def report(context):
    run = context["dag_run"]
    print(f"RUN CALLBACK {run.dag_id} {run.run_id} state={run.state} reason={context['reason']}")


def broken(context):
    raise RuntimeError("the run callback is broken")


with DAG(
    dag_id="dag_callbacks_ok",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    on_success_callback=report,
    on_failure_callback=report,
):
    BashOperator(task_id="fine", bash_command="true")

with DAG(
    dag_id="dag_callbacks_fail",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    on_failure_callback=[broken, report],
):
    BashOperator(task_id="bad", bash_command="exit 1")
