from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind.exceptions import SerializationError, TaskFailed, TaskFailedNoRetry, TaskSkipped, TemplateError
from tradewind.execution import encode_return_value, outcome_of, run_python_task
from tradewind.templates import build_context, context_from_json, context_to_json, render

DAG_FILE = """
from tradewind import DAG, PythonOperator, task
from helpers import double

with DAG("flow"):
    @task
    def produce():
        return {"n": 21}

    @task
    def consume(data, ds=None):
        return f"{double(data['n'])} on {ds}"

    consume(produce())
    PythonOperator(task_id="templated", python_callable=lambda text: text, op_args=["run {{ run_id }}"])
"""


def context() -> dict:
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    return build_context(
        dag_id="flow",
        task_id="consume",
        run_id="manual__x",
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=moment,
        params={"p": 1},
        conf={"c": 2},
        try_number=1,
        run_type="manual",
    )


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "flow.py").write_text(DAG_FILE)
    (tmp_path / "helpers.py").write_text("def double(n):\n    return n * 2\n")
    return tmp_path


def test_a_taskflow_task_gets_its_xcom_input_and_the_context_it_names(bundle: Path) -> None:
    value = run_python_task(bundle, "flow.py", "flow", "consume", {"produce|return_value": {"n": 21}}, context())
    assert value == "42 on 2024-03-01"


def test_templates_in_op_args_are_rendered(bundle: Path) -> None:
    assert run_python_task(bundle, "flow.py", "flow", "templated", {}, context()) == "run manual__x"


def test_a_missing_xcom_fails_the_task_naming_it(bundle: Path) -> None:
    with pytest.raises(TaskFailed, match="XCom 'return_value' of task 'produce' is missing"):
        run_python_task(bundle, "flow.py", "flow", "consume", {}, context())


def test_a_task_that_disappeared_fails_without_retry(bundle: Path) -> None:
    with pytest.raises(TaskFailedNoRetry, match="no longer has task 'gone'"):
        run_python_task(bundle, "flow.py", "flow", "gone", {}, context())


def test_outcomes_have_one_branch_per_exception() -> None:
    assert outcome_of(None) == ("success", "")
    assert outcome_of(TaskSkipped("nothing to do")) == ("skipped", "nothing to do")
    assert outcome_of(TaskFailedNoRetry("bad input"))[0] == "failed_no_retry"
    assert outcome_of(ValueError("boom")) == ("failed", "ValueError: boom")


def test_return_values_must_be_json() -> None:
    assert encode_return_value({"a": [1]}) == '{"a": [1]}'
    with pytest.raises(SerializationError, match="task 't' returned a set"):
        encode_return_value({1}, "t")


def test_the_context_survives_the_wire() -> None:
    again = context_from_json(context_to_json(context()))
    assert render("{{ ds }} {{ ts_nodash }} {{ params.p }} {{ dag_run.conf.c }} {{ ti.try_number }}", again) == (
        "2024-03-01 20240301T000000 1 2 1"
    )


def test_an_undefined_template_name_is_an_error_naming_it() -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        render("{{ nope }}", context())
