"""Task callbacks as Airflow users write them: single callables and lists, on Python and Bash
tasks, after a success, a retry, a failure, a skip and an execution_timeout; one that raises."""

from datetime import timedelta

import pendulum
from airflow.exceptions import AirflowSkipException
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task


def say(label):
    def callback(context):
        error = context.get("exception")
        print(f"CALLBACK {label} {context['ti'].task_id} try {context['ti'].try_number} error={error!r}")

    return callback


def broken(context):
    raise ValueError("the callback itself is broken")


with DAG(
    dag_id="task_callbacks",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    default_args={"on_execute_callback": say("execute")},
):

    @task(on_success_callback=[say("success"), broken])
    def works():
        return 1

    @task(retries=1, retry_delay=0, on_retry_callback=say("retry"), on_failure_callback=say("failure"))
    def fails():
        raise RuntimeError("boom")

    @task(on_skipped_callback=say("skipped"))
    def skips():
        raise AirflowSkipException("not today")

    @task(execution_timeout=timedelta(seconds=1), on_failure_callback=say("failure"))
    def hangs():
        import time

        time.sleep(60)

    @task(on_failure_callback=say("failure"))
    def killed():
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)

    killed()

    shell = BashOperator(
        task_id="shell",
        bash_command="echo the last line",
        on_success_callback=say("success"),
    )
    BashOperator(task_id="shell_fails", bash_command="exit 4", on_failure_callback=say("failure"))

    works()
    fails()
    skips()
    hangs()
    shell >> BashOperator(task_id="echo_xcom", bash_command="echo got {{ ti.xcom_pull(task_ids='shell') }}")
