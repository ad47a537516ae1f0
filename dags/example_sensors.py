"""Sensors: wait for a file in each mode, and for a condition computed in Python."""

from tradewind import DAG, BashOperator, FileSensor, PokeReturnValue, task

with DAG(dag_id="example_sensors", schedule=None, params={"folder": "/tmp/tradewind-example"}, tags=["example"]):
    # Holds its worker slot and pokes every second.
    in_poke_mode = FileSensor(task_id="in_poke_mode", filepath="{{ params.folder }}/ready.csv", poke_interval=1)
    # Gives its slot back between pokes: up_for_reschedule, then the same try pokes again.
    in_reschedule_mode = FileSensor(
        task_id="in_reschedule_mode", filepath="{{ params.folder }}/*.csv", mode="reschedule", poke_interval=2
    )
    # Pokes once, then waits in the triggerer holding no slot; the file's arrival resumes it.
    deferred = FileSensor(
        task_id="deferred", filepath="{{ params.folder }}/ready.csv", deferrable=True, timeout=3600
    )

    @task.sensor(poke_interval=1, timeout=60, mode="reschedule")
    def rows_counted(params=None) -> PokeReturnValue:
        with open(f"{params['folder']}/ready.csv") as handle:
            rows = sum(1 for _ in handle)
        return PokeReturnValue(is_done=rows > 0, xcom_value=rows)

    load = BashOperator(task_id="load", bash_command="echo loading {{ ti.xcom_pull(task_ids='rows_counted') }} rows")
    [in_poke_mode, in_reschedule_mode, deferred] >> rows_counted() >> load
