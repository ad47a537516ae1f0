"""Airflow features Tradewind does not have yet fail at parse time naming the feature."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tradewind.dagbag import load_dag_file
from tradewind.exceptions import DagDefinitionError

HEADER = "from tradewind import DAG, BashOperator, dag, task\n"
CASES = [
    (
        '@dag(schedule=None)\ndef x():\n    @task\n    def f():\n        return [1]\n    f().map(str)\nx()',
        "Tradewind does not support XComArg.map() (transforming mapped values) yet",
    ),
    (
        '@dag(schedule=None)\ndef x():\n    @task\n    def f():\n        return [1]\n    f().zip(f())\nx()',
        "Tradewind does not support XComArg.zip() (zipping mapped values) yet",
    ),
    (
        'DAG(dag_id="x", schedule=None).test(conn_file_path="conns.yaml")',
        "Tradewind does not support dag.test(conn_file_path=...) yet",
    ),
]


@pytest.mark.parametrize(("body", "message"), CASES, ids=[m.split("support ")[1] for _, m in CASES])
def test_an_airflow_feature_not_built_yet_fails_at_parse_time_naming_it(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "dag_file.py"
    path.write_text(HEADER + body + "\n")
    with pytest.raises(DagDefinitionError, match=re.escape(message)):
        load_dag_file(path, tmp_path)


def test_email_arguments_are_accepted_though_no_mail_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "dag_file.py"
    path.write_text(
        HEADER + 'with DAG(dag_id="x", schedule=None):\n'
        '    BashOperator(task_id="a", bash_command="true", email="a@b.c", email_on_failure=True, owner="me")\n'
    )
    assert [d.dag_id for d in load_dag_file(path, tmp_path)] == ["x"]
