"""DAG files written for Airflow load unchanged: their `airflow.*` imports resolve to Tradewind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tradewind import BashOperator, EmptyOperator, PythonOperator
from tradewind.compat.airflow import MODULES, airflow_imports
from tradewind.dagbag import load_dag_file, might_contain_dag
from tradewind.serialization import serialize_dag

AIRFLOW_3_DAG = '''
import pendulum

from airflow.sdk import DAG, task, chain
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.exceptions import AirflowSkipException
from airflow.utils.trigger_rule import TriggerRule

with DAG(
    dag_id="airflow3_etl",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 22, tz="America/New_York"),
    catchup=False,
    tags=["example"],
):
    start = EmptyOperator(task_id="start")
    extract = BashOperator(task_id="extract", bash_command="echo {{ ds }}")

    @task
    def transform() -> int:
        return 42

    done = EmptyOperator(task_id="done", trigger_rule=TriggerRule.ALL_DONE)
    chain(start, extract, transform(), done)
'''

AIRFLOW_2_DAG = '''
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models.baseoperator import chain
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.operators.empty import EmptyOperator
from airflow.decorators import task

default_args = {"owner": "data", "retries": 1, "retry_delay": timedelta(minutes=5),
                "start_date": datetime(2024, 1, 1)}


def say(name):
    print(f"hello {name}")


with DAG("airflow2_etl", default_args=default_args, schedule="0 6 * * *", catchup=False) as dag:
    begin = EmptyOperator(task_id="begin")
    greet = PythonOperator(task_id="greet", python_callable=say, op_kwargs={"name": "world"})
    run = BashOperator(task_id="run", bash_command="echo {{ ds_nodash }}")

    @task(task_id="count")
    def count():
        return 3

    chain(begin, greet, run, count())
'''


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_a_dag_file_written_for_airflow_3_parses_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, "etl3.py", AIRFLOW_3_DAG)
    assert might_contain_dag(path)
    [found] = load_dag_file(path, tmp_path)
    assert found.dag_id == "airflow3_etl"
    assert found.task_ids == ["start", "extract", "done", "transform"]
    assert isinstance(found.get_task("extract"), BashOperator)
    assert isinstance(found.get_task("start"), EmptyOperator)
    assert found.get_task("done").upstream_task_ids == {"transform"}
    assert found.get_task("done").trigger_rule.value == "all_done"
    data = serialize_dag(found, found.fileloc)
    assert (data["start_date"], data["timezone"]) == ("2026-11-22T05:00:00+00:00", "America/New_York")


def test_a_dag_file_written_for_airflow_2_parses_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, "etl2.py", AIRFLOW_2_DAG)
    assert might_contain_dag(path)
    [found] = load_dag_file(path, tmp_path)
    assert found.dag_id == "airflow2_etl"
    assert found.task_ids == ["begin", "greet", "run", "count"]
    assert isinstance(found.get_task("greet"), PythonOperator)
    assert found.get_task("run").retries == 1 and found.get_task("run").owner == "data"
    assert found.start_date is not None and found.start_date.isoformat() == "2024-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("line", "dotted"),
    [
        ("from airflow.sdk import ObjectStoragePath", "airflow.sdk.ObjectStoragePath"),
        ("from airflow import settings", "airflow.settings"),
        ("from airflow.operators.smooth import SmoothOperator", "airflow.operators.smooth"),
        ("from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator", "airflow.providers.amazon"),
        ("from airflow.exceptions import AirflowTaskTimeout", "airflow.exceptions.AirflowTaskTimeout"),
        ("import airflow.utils.dates", "airflow.utils.dates"),
    ],
)
def test_an_airflow_name_tradewind_does_not_provide_is_an_import_error_naming_it(
    tmp_path: Path, line: str, dotted: str
) -> None:
    path = write(tmp_path, "unsupported.py", f"{line}\nfrom airflow import DAG\nDAG('unsupported')\n")
    with pytest.raises(ImportError, match=rf"^Tradewind does not support {dotted.replace('.', '[.]')} yet$"):
        load_dag_file(path, tmp_path)


def test_a_name_listed_for_airflow_but_not_exported_by_tradewind_is_unsupported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(MODULES, "airflow.sdk", {**MODULES["airflow.sdk"], "NotYet": "NotYet"})
    path = write(tmp_path, "later.py", "from airflow.sdk import NotYet\n")
    with pytest.raises(ImportError, match=r"^Tradewind does not support airflow[.]sdk[.]NotYet yet$"):
        load_dag_file(path, tmp_path)



def test_airflow_modules_exist_only_while_a_dag_file_loads(tmp_path: Path) -> None:
    load_dag_file(write(tmp_path, "etl3.py", AIRFLOW_3_DAG), tmp_path)
    assert not [name for name in sys.modules if name == "airflow" or name.startswith("airflow.")]
    with pytest.raises(ModuleNotFoundError):
        import airflow  # noqa: F401


def test_the_hook_is_not_active_in_a_plain_tradewind_process() -> None:
    code = (
        "import importlib.util, tradewind, tradewind.dagbag, tradewind.execution\n"
        "assert importlib.util.find_spec('airflow') is None\n"
        "try:\n    import airflow\nexcept ModuleNotFoundError:\n    print('no airflow')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "no airflow\n", "")


def test_a_real_airflow_wins_over_the_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site" / "airflow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("REAL = True\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    try:
        with airflow_imports():
            import airflow

            assert airflow.REAL is True
            assert not hasattr(airflow, "DAG")
    finally:
        sys.modules.pop("airflow", None)


def test_a_task_may_import_from_airflow_while_it_runs(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from tradewind.execution import run_python_task
    from tradewind.templates import build_context

    write(
        tmp_path,
        "late.py",
        "from airflow.sdk import DAG, task\n"
        "with DAG('late'):\n"
        "    @task\n"
        "    def check():\n"
        "        from airflow.exceptions import AirflowFailException\n"
        "        return AirflowFailException.__name__\n"
        "    check()\n",
    )
    context = build_context(
        dag_id="late",
        task_id="check",
        run_id="manual",
        logical_date=datetime(2026, 1, 1, tzinfo=UTC),
        data_interval_start=None,
        data_interval_end=None,
        params={},
        conf={},
        try_number=1,
        run_type="manual",
    )
    assert run_python_task(tmp_path, "late.py", "late", "check", {}, context) == "TaskFailedNoRetry"
    assert "airflow" not in sys.modules


def test_airflow_macros_is_tradewinds_macros(tmp_path: Path) -> None:
    from tradewind.compat.airflow import airflow_imports

    with airflow_imports():
        from airflow import macros
        from airflow.macros import ds_add

        assert ds_add("2024-03-01", 2) == "2024-03-03"
        assert macros.ds_format("2024-03-01", "%Y-%m-%d", "%d/%m") == "01/03"
        assert macros.timedelta(days=1).days == 1 and macros.random() < 1


def test_the_other_paths_airflow_3_examples_import_common_names_from_resolve() -> None:
    import tradewind

    with airflow_imports():
        from airflow.providers.common.compat.sdk import TriggerRule as compat_rule
        from airflow.sdk.api.datamodels._generated import TriggerRule as generated_rule
        from airflow.sdk.exceptions import AirflowSkipException

        assert compat_rule is generated_rule is tradewind.TriggerRule
        assert AirflowSkipException is tradewind.AirflowSkipException


@pytest.mark.parametrize("decorator", ["virtualenv", "external_python", "docker", "branch_external_python"])
def test_an_airflow_task_decorator_tradewind_lacks_is_refused_naming_it(tmp_path: Path, decorator: str) -> None:
    (tmp_path / "venv.py").write_text(
        "from airflow.sdk import dag, task\n"
        "@dag(schedule=None)\n"
        "def venv():\n"
        f"    @task.{decorator}(requirements=['x'])\n"
        "    def f():\n"
        "        pass\n"
        "    f()\n"
        "venv()\n"
    )
    with pytest.raises(Exception, match=rf"Tradewind does not support @task\.{decorator} yet"):
        load_dag_file(tmp_path / "venv.py", tmp_path)
