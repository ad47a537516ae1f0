"""Template context names as Airflow 3 has them: `conf` is Airflow's configuration (not the run's
conf), Airflow 2 names are errors naming themselves, `airflow.macros` is importable, and a
trigger's conf overrides params, checked against their schemas at trigger time."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, task

with DAG(
    dag_id="template_context",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"limit": Param(5, type="integer", minimum=1), "table": "sales"},
):
    BashOperator(task_id="airflow_config", bash_command="echo {{ conf.get('core', 'dags_folder') }}")
    BashOperator(task_id="airflow_2_name", bash_command="echo {{ execution_date }}")
    BashOperator(
        task_id="run_conf",
        bash_command="echo table={{ params.table }} limit={{ params.limit }} conf={{ dag_run.conf.limit }}",
    )

    @task
    def uses_macros(ds=None):
        from airflow.macros import ds_add

        print(f"next day {ds_add(ds, 1)}")

    uses_macros()
