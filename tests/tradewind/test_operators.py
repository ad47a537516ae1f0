from __future__ import annotations

import pytest

from tradewind import DAG, BashOperator, EmptyOperator, PythonOperator
from tradewind.exceptions import DagDefinitionError


def test_bash_operator_keeps_its_arguments() -> None:
    with DAG("d"):
        t = BashOperator(task_id="b", bash_command="echo {{ ds }}", env={"A": "1"}, append_env=True, cwd="/tmp")
    assert (t.bash_command, t.env, t.append_env, t.cwd, t.skip_on_exit_code) == (
        "echo {{ ds }}",
        {"A": "1"},
        True,
        "/tmp",
        [99],
    )
    assert BashOperator.template_fields == ("bash_command", "env", "cwd")


@pytest.mark.parametrize(("given", "codes"), [(None, []), (3, [3]), ([100, 3], [3, 100])])
def test_skip_on_exit_code_takes_an_int_a_list_or_none(given: object, codes: list[int]) -> None:
    with DAG("d"):
        assert BashOperator(task_id="b", bash_command="true", skip_on_exit_code=given).skip_on_exit_code == codes


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bash_command": " "}, "DAG 'd': task 'b': bash_command must be a non-empty string"),
        ({"bash_command": "true", "env": {"A": 1}}, "DAG 'd': task 'b': env must be a dict of strings to strings"),
        ({"bash_command": "true", "skip_on_exit_code": "99"}, "DAG 'd': task 'b': skip_on_exit_code must be"),
    ],
)
def test_bad_bash_arguments_are_errors(kwargs: dict, message: str) -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match=message):
        BashOperator(task_id="b", **kwargs)


def test_python_operator_needs_a_callable() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="DAG 'd': task 'p': python_callable must be callable"):
        PythonOperator(task_id="p", python_callable="print")  # type: ignore[arg-type]


def test_python_operator_passes_the_context_keys_the_callable_names() -> None:
    def f(a, b=0, ds=None):
        return (a, b, ds)

    with DAG("d"):
        t = PythonOperator(task_id="p", python_callable=f, op_args=[1], op_kwargs={"b": 2})
    assert t.execute({"ds": "2024-01-01", "run_id": "r"}) == (1, 2, "2024-01-01")


def test_python_operator_passes_the_whole_context_to_kwargs_but_explicit_arguments_win() -> None:
    def f(ds, **context):
        return ds, sorted(context)

    with DAG("d"):
        t = PythonOperator(task_id="p", python_callable=f, op_kwargs={"ds": "mine"})
    assert t.execute({"ds": "theirs", "run_id": "r"}) == ("mine", ["run_id", "templates_dict"])


def test_empty_operator_does_nothing() -> None:
    with DAG("d"):
        assert EmptyOperator(task_id="e").execute({}) is None
