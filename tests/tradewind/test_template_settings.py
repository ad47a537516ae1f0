"""Template files, user-defined macros and filters, native rendering and templates_dict."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tradewind.dagbag import load_dag_file
from tradewind.exceptions import DagDefinitionError, SerializationError
from tradewind.execution import run_python_task
from tradewind.serialization import serialize_dag
from tradewind.templates import build_context

DAG_FILE = """
from tradewind import DAG, BaseOperator, BashOperator, PythonOperator


class Query(BaseOperator):
    template_fields = ("sql",)
    template_ext = (".sql",)

    def __init__(self, *, sql, **kwargs):
        super().__init__(**kwargs)
        self.sql = sql

    def execute(self, context):
        return self.sql


def show(templates_dict=None, **context):
    return templates_dict


with DAG(
    "files",
    template_searchpath="../queries",
    user_defined_macros={"team": "data", "shout": lambda s: s.upper()},
    user_defined_filters={"twice": lambda s: s * 2},
    render_template_as_native_obj=True,
):
    BashOperator(task_id="script", bash_command="scripts/run.sh", env={"DAY": "{{ ds }}"})
    Query(task_id="query", sql="daily.sql")
    PythonOperator(
        task_id="native",
        python_callable=show,
        templates_dict={
            "numbers": "{{ [1, 2] + [params.n] }}",
            "text": "{{ shout(team) | twice }}",
            "config": "config.json",
        },
        templates_exts=[".json"],
        params={"n": 3},
    )
"""


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "flows" / "scripts").mkdir(parents=True)
    (tmp_path / "flows" / "files.py").write_text(DAG_FILE)
    (tmp_path / "flows" / "scripts" / "run.sh").write_text("echo {{ ds }} for {{ team }}\n")
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "daily.sql").write_text("select * from t where day = '{{ ds }}'")
    (tmp_path / "config.json").write_text('{"day": "{{ ds }}"}')
    return tmp_path


def context(task_id: str) -> dict[str, Any]:
    moment = datetime(2026, 11, 25, tzinfo=UTC)
    return build_context(
        dag_id="files",
        task_id=task_id,
        run_id="r",
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=moment,
        params={},
        task_params={"n": 3},
        conf={},
        try_number=1,
        run_type="manual",
    )


def test_template_files_are_read_at_parse_from_the_dag_folder_the_bundle_and_the_search_path(bundle: Path) -> None:
    [dag] = load_dag_file(bundle / "flows" / "files.py", bundle)
    assert dag.task_dict["script"].bash_command == "echo {{ ds }} for {{ team }}\n"  # type: ignore[attr-defined]
    assert dag.task_dict["query"].sql == "select * from t where day = '{{ ds }}'"  # type: ignore[attr-defined]
    assert dag.task_dict["native"].templates_dict["config"] == '{"day": "{{ ds }}"}'  # type: ignore[attr-defined]


def test_a_missing_template_file_is_a_parse_error_naming_it(bundle: Path) -> None:
    (bundle / "flows" / "scripts" / "run.sh").unlink()
    with pytest.raises(DagDefinitionError, match="task 'script': template file 'scripts/run.sh' is not in the"):
        load_dag_file(bundle / "flows" / "files.py", bundle)


def test_python_tasks_render_with_the_dags_macros_filters_and_native_objects(bundle: Path) -> None:
    value = run_python_task(bundle, "flows/files.py", "files", "native", {}, context("native"))
    assert value == {"numbers": [1, 2, 3], "text": "DATADATA", "config": {"day": "2026-11-25"}}


def test_plain_macros_go_to_the_coordinator_and_code_in_a_bash_template_is_refused(bundle: Path) -> None:
    [dag] = load_dag_file(bundle / "flows" / "files.py", bundle)
    assert serialize_dag(dag, "flows/files.py")["user_defined_macros"] == {"team": "data"}
    dag.task_dict["script"].bash_command = "echo {{ shout(team) }}"  # type: ignore[attr-defined]
    with pytest.raises(SerializationError, match="task 'script': its template uses 'shout', a user-defined macro"):
        serialize_dag(dag, "flows/files.py")


def test_a_bash_template_that_includes_a_file_is_refused_at_parse(bundle: Path) -> None:
    [dag] = load_dag_file(bundle / "flows" / "files.py", bundle)
    dag.task_dict["script"].bash_command = "{%- include 'scripts/run.sh' %}"  # type: ignore[attr-defined]
    with pytest.raises(SerializationError, match="task 'script': its template uses \\{% include %\\}"):
        serialize_dag(dag, "flows/files.py")
