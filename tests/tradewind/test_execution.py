from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tradewind.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    SerializationError,
    TaskFailed,
    TaskFailedNoRetry,
    TaskSkipped,
)
from tradewind.execution import encode_return_value, outcome_of, run_python_task, xcom_inputs_of
from tradewind.templates import build_context

DAG_FILE = """
from tradewind import DAG, BaseOperator, PythonOperator, task
from exec_helpers import double


class Shout(BaseOperator):
    template_fields = ("text",)

    def __init__(self, *, text, **kwargs):
        super().__init__(**kwargs)
        self.text = text

    def execute(self, context):
        return f"{self.text.upper()} ({context['task_id']})"


def greet(name, greeting="hello", **context):
    return f"{greeting} {name} at {context['ds']} try {context['try_number']}"


with DAG("flow", params={"who": "team"}):
    @task
    def produce():
        return {"n": 21, "items": [1, 2]}

    @task
    def consume(data, second, ds=None):
        return f"{double(data['n'])} {second} on {ds}"

    @task
    def show(value):
        return repr(value)

    data = produce()
    consume(data, data["items"][1])
    show(data)
    PythonOperator(task_id="greet", python_callable=greet, op_args=["{{ params.who }}"])
    PythonOperator(task_id="templated", python_callable=lambda text: text, op_args=["run {{ run_id }}"])
    Shout(task_id="shout", text="{{ dag_run.conf.word }}")
"""


def context(task_id: str = "consume") -> dict[str, Any]:
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    return build_context(
        dag_id="flow",
        task_id=task_id,
        run_id="manual__x",
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=moment,
        params={"who": "team"},
        conf={"word": "{{ not rendered twice }}"},
        try_number=1,
        run_type="manual",
    )


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "flow.py").write_text(DAG_FILE)
    (tmp_path / "exec_helpers.py").write_text("def double(n):\n    return n * 2\n")
    return tmp_path


def run(bundle: Path, task_id: str, inputs: dict[str, Any] | None = None) -> Any:
    return run_python_task(bundle, "flows/flow.py", "flow", task_id, inputs or {}, context(task_id))


def test_a_python_operator_gets_rendered_arguments_and_the_whole_context_for_kwargs(bundle: Path) -> None:
    assert run(bundle, "greet") == "hello team at 2024-03-01 try 1"
    assert run(bundle, "templated") == "run manual__x"


def test_a_taskflow_task_gets_its_xcom_inputs_and_the_context_it_names(bundle: Path) -> None:
    inputs = {"produce|return_value": {"n": 21, "items": [1, "{{ ds }}"]}}
    assert run(bundle, "consume", inputs) == "42 {{ ds }} on 2024-03-01"


def test_a_custom_operator_runs_its_execute_with_rendered_fields(bundle: Path) -> None:
    assert run(bundle, "shout") == "{{ NOT RENDERED TWICE }} (shout)"


def test_running_a_task_leaves_the_loaded_dag_untouched(bundle: Path) -> None:
    from tradewind.dagbag import load_dag_file

    run(bundle, "greet")
    [flow] = load_dag_file(bundle / "flows" / "flow.py", bundle)
    assert flow.get_task("greet").op_args == ["{{ params.who }}"]  # type: ignore[attr-defined]


def test_xcom_inputs_of_a_task(bundle: Path) -> None:
    from tradewind.dagbag import load_dag_file

    [flow] = load_dag_file(bundle / "flows" / "flow.py", bundle)
    assert xcom_inputs_of(flow.get_task("consume")) == [("produce", "return_value")]
    assert xcom_inputs_of(flow.get_task("greet")) == []


def test_an_upstream_that_returned_none_gives_none_as_in_airflow(bundle: Path) -> None:
    assert run(bundle, "show") == "None"


def test_a_missing_item_of_an_xcom_fails_the_task_naming_it(bundle: Path) -> None:
    with pytest.raises(TaskFailed, match="XCom 'return_value' of task 'produce' has no item 'items'"):
        run(bundle, "consume", {"produce|return_value": {"n": 1}})


def test_a_task_or_dag_that_disappeared_fails_without_retry(bundle: Path) -> None:
    with pytest.raises(TaskFailedNoRetry, match="DAG 'flow' in flows/flow.py no longer has task 'gone'"):
        run(bundle, "gone")
    with pytest.raises(TaskFailedNoRetry, match="flows/flow.py no longer defines DAG 'other'"):
        run_python_task(bundle, "flows/flow.py", "other", "greet", {}, context())


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (None, ("success", "")),
        (TaskSkipped("nothing to do"), ("skipped", "nothing to do")),
        (AirflowSkipException(), ("skipped", "skipped")),
        (TaskFailedNoRetry("bad input\nmore"), ("failed_no_retry", "bad input")),
        (AirflowFailException(), ("failed_no_retry", "failed without retry")),
        (TaskFailed("flaky"), ("failed", "TaskFailed: flaky")),
        (AirflowException("flaky"), ("failed", "TaskFailed: flaky")),
        (ValueError("boom"), ("failed", "ValueError: boom")),
        (KeyboardInterrupt(), ("failed", "KeyboardInterrupt")),
    ],
)
def test_each_exception_has_one_outcome(exc: BaseException | None, expected: tuple[str, str]) -> None:
    assert outcome_of(exc) == expected


def test_return_values_are_json_and_none_pushes_nothing() -> None:
    assert encode_return_value({"a": [1]}) == '{"a": [1]}'
    assert encode_return_value(None) == ""
    with pytest.raises(SerializationError, match="task 't' returned a object, which cannot be stored as an XCom"):
        encode_return_value(object(), "t")
