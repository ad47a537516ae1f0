import tradewind


def test_the_public_surface_is_what_dag_authors_import() -> None:
    assert sorted(tradewind.__all__) == sorted(
        [
            "DAG",
            "dag",
            "task",
            "BaseOperator",
            "BashOperator",
            "PythonOperator",
            "EmptyOperator",
            "Param",
            "chain",
            "TriggerRule",
            "XComArg",
            "AirflowException",
            "AirflowFailException",
            "AirflowSkipException",
            "TaskFailed",
            "TaskFailedNoRetry",
            "TaskSkipped",
            "BaseBranchOperator",
            "BranchPythonOperator",
            "BranchDateTimeOperator",
            "BranchDayOfWeekOperator",
            "WeekDay",
            "ShortCircuitOperator",
            "LatestOnlyOperator",
            "TriggerDagRunOperator",
            "ExternalTaskSensor",
            "ExternalTaskMarker",
            "Label",
            "get_current_context",
            "TaskGroup",
            "task_group",
            "BaseSensorOperator",
            "PokeReturnValue",
            "FileSensor",
            "PythonSensor",
            "BashSensor",
            "TimeDeltaSensor",
            "TimeSensor",
            "DateTimeSensor",
            "DayOfWeekSensor",
            "SensorTimeout",
            "AirflowSensorTimeout",
            "AirflowRescheduleException",
        ]
    )
    for name in tradewind.__all__:
        assert getattr(tradewind, name) is not None
