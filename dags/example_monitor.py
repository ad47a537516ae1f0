"""A DAG to watch in `tradewind tui`: a task whose log arrives line by line, then one that fails on
its first try so you can clear it and watch it run again. It runs only when triggered."""

from datetime import datetime

from tradewind import DAG, BashOperator

with DAG(
    dag_id="example_monitor",
    description="Trigger it in tradewind tui: a live log, then a task that fails until cleared",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    tags=["example"],
):
    count = BashOperator(
        task_id="count_slowly",
        bash_command=(
            "for i in $(seq 1 {{ dag_run.conf.get('seconds', 15) }}); do "
            "echo \"step $i of {{ dag_run.conf.get('seconds', 15) }}\"; sleep 1; done"
        ),
    )
    flaky = BashOperator(
        task_id="fails_first_time",
        bash_command=(
            'echo "this is try {{ ti.try_number }}"; '
            "if [ {{ ti.try_number }} -lt 2 ]; then "
            "echo 'failing on purpose: clear me (c) to run again' >&2; exit 1; fi"
        ),
    )
    count >> flaky >> BashOperator(task_id="report", bash_command="echo all done")
