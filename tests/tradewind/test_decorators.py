from __future__ import annotations

from datetime import datetime

import pytest

from tradewind import DAG, BashOperator, EmptyOperator, PythonOperator, XComArg, dag, task
from tradewind.exceptions import DagDefinitionError


def test_calling_a_dag_function_builds_the_dag_named_after_it() -> None:
    @dag(schedule="@daily", start_date=datetime(2024, 1, 1), tags=["t"])
    def nightly_report() -> None:
        """Sends the nightly report.

        More words."""
        EmptyOperator(task_id="start")

    built = nightly_report()
    assert (built.dag_id, built.description, built.schedule, built.tags) == (
        "nightly_report",
        "Sends the nightly report.",
        "@daily",
        ["t"],
    )
    assert built.task_ids == ["start"]
    assert nightly_report().description == "Sends the nightly report."


def test_bare_dag_decorator_and_explicit_dag_id() -> None:
    @dag
    def plain() -> None:
        pass

    @dag("custom_id")
    def other() -> None:
        pass

    assert plain().dag_id == "plain"
    assert other().dag_id == "custom_id"


def test_taskflow_wires_dependencies_and_repeated_calls_get_numbered_ids() -> None:
    @dag
    def flow() -> None:
        @task
        def one() -> int:
            return 1

        @task(retries=2, queue="fast")
        def add(x: int, y: int) -> int:
            return x + y

        first = one()
        add(first, add(first, 1))

    built = flow()
    assert built.task_ids == ["one", "add", "add__1"]
    assert built.get_task("add__1").upstream_task_ids == {"one", "add"}
    assert built.get_task("add").upstream_task_ids == {"one"}
    assert (built.get_task("add").retries, built.get_task("add").queue) == (2, "fast")
    assert isinstance(built.get_task("add"), PythonOperator)


def test_a_task_call_returns_an_xcomarg_that_supports_shifts() -> None:
    with DAG("d") as d:

        @task
        def extract() -> dict:
            return {}

        data = extract()
        done = EmptyOperator(task_id="done")
        start = EmptyOperator(task_id="start")
        start >> data >> done
        assert isinstance(data, XComArg)
        assert (data.operator.task_id, data.key) == ("extract", "return_value")
    assert d.get_task("extract").upstream_task_ids == {"start"}
    assert d.get_task("done").upstream_task_ids == {"extract"}


def test_an_operator_output_passed_to_a_task_is_an_upstream() -> None:
    with DAG("d") as d:
        produce = PythonOperator(task_id="produce", python_callable=lambda: 1)
        PythonOperator(task_id="consume", python_callable=print, op_kwargs={"value": produce.output["n"]})
    assert d.get_task("consume").upstream_task_ids == {"produce"}
    assert repr(produce.output["n"]) == "XComArg('produce', 'return_value')['n']"


def test_explicit_task_id_and_multiple_outputs_options() -> None:
    with DAG("d") as d:

        @task(task_id="load", multiple_outputs=True)
        def f() -> dict:
            return {}

        f()
        f()
    assert d.task_ids == ["load", "load__1"]
    assert d.get_task("load").multiple_outputs is True  # type: ignore[attr-defined]


def test_task_python_is_the_same_decorator() -> None:
    with DAG("d") as d:

        @task.python(task_id="p")
        def f() -> None:
            pass

        f()
    assert d.task_ids == ["p"]


def test_calling_a_task_outside_a_dag_is_an_error() -> None:
    @task
    def lonely() -> None:
        pass

    with pytest.raises(DagDefinitionError, match="@task 'lonely' was called outside a DAG"):
        lonely()


def test_a_bad_task_option_is_an_error_naming_the_task() -> None:
    @task(colour="red")
    def f() -> None:
        pass

    with DAG("d"), pytest.raises(DagDefinitionError, match="DAG 'd': task 'f': unknown argument 'colour'"):
        f()


def test_an_xcomarg_cannot_be_unpacked_at_parse_time() -> None:
    with DAG("d"):
        out = BashOperator(task_id="b", bash_command="true").output
        with pytest.raises(TypeError, match="is not iterable at parse time"):
            a, b = out
