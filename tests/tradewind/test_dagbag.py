from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.dagbag import load_dag_file, might_contain_dag, module_name
from tradewind.exceptions import DagDefinitionError


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_dag_file_can_import_a_helper_module_beside_it(tmp_path: Path) -> None:
    write(tmp_path, "dag_helpers_a.py", "def make(dag_id):\n    from tradewind import DAG\n    return DAG(dag_id)\n")
    path = write(
        tmp_path,
        "etl.py",
        "from tradewind import DAG, EmptyOperator\nfrom dag_helpers_a import make\n"
        "with DAG('first'):\n    EmptyOperator(task_id='a')\n"
        "make('second')\n",
    )
    dags = load_dag_file(path, tmp_path)
    assert [d.dag_id for d in dags] == ["first", "second"]
    assert {d.fileloc for d in dags} == {"etl.py"}


def test_dags_built_by_a_dag_function_and_kept_nowhere_are_found(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "flow.py",
        "from tradewind import dag, task\n@dag\ndef flow():\n    @task\n    def t():\n        pass\n    t()\nflow()\n",
    )
    [found] = load_dag_file(path, tmp_path)
    assert (found.dag_id, found.task_ids) == ("flow", ["t"])


def test_two_files_with_the_same_name_in_subfolders_do_not_collide(tmp_path: Path) -> None:
    for sub in ("one", "two"):
        write(tmp_path, f"{sub}/etl.py", f"from tradewind import DAG\nVALUE = {sub!r}\nd = DAG('etl_{sub}')\n")
    assert [d.dag_id for d in load_dag_file(tmp_path / "one" / "etl.py", tmp_path)] == ["etl_one"]
    assert [d.dag_id for d in load_dag_file(tmp_path / "two" / "etl.py", tmp_path)] == ["etl_two"]
    assert module_name("one/etl.py") != module_name("two/etl.py")
    assert module_name("one/etl.py").startswith("tradewind_dag__one_etl_")


def test_a_cycle_is_an_error_naming_the_dag_the_file_and_the_cycle(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sub/loop.py",
        "from tradewind import DAG, EmptyOperator\nwith DAG('looping'):\n"
        "    a = EmptyOperator(task_id='a'); b = EmptyOperator(task_id='b')\n    a >> b >> a\n",
    )
    with pytest.raises(DagDefinitionError, match=r"^DAG 'looping' in sub/loop.py: cycle between tasks a -> b -> a$"):
        load_dag_file(path, tmp_path)


def test_a_cycle_in_a_dag_built_without_a_with_block_is_found_after_import(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "loose.py",
        "from tradewind import DAG, EmptyOperator\nd = DAG('loose')\n"
        "a = EmptyOperator(task_id='a', dag=d); b = EmptyOperator(task_id='b', dag=d)\na >> b >> a\n",
    )
    with pytest.raises(DagDefinitionError, match="DAG 'loose' in loose.py: cycle between tasks a -> b -> a"):
        load_dag_file(path, tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "with DAG('d'):\n    EmptyOperator(task_id='load', trigger_rule='never')\n",
            "DAG 'd' in bad.py: task 'load': unknown trigger rule 'never'",
        ),
        (
            "with DAG('d'):\n    EmptyOperator(task_id='x'); EmptyOperator(task_id='x')\n",
            "DAG 'd' in bad.py: duplicate task id 'x'",
        ),
        (
            "with DAG('d'):\n    t = EmptyOperator(task_id='load')\n    t >> t\n",
            "DAG 'd' in bad.py: task 'load' depends on itself",
        ),
        ("DAG('bad id')\n", "bad.py: dag_id 'bad id' is not valid"),
        ("DAG('d', schedule='nope', start_date=None)\n", "DAG 'd' in bad.py: schedule 'nope' is not a valid cron"),
        ("DAG('d'); DAG('d')\n", "bad.py: DAG id 'd' is defined twice"),
    ],
)
def test_definition_errors_name_the_file(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, "bad.py", "from tradewind import DAG, EmptyOperator\n" + body)
    with pytest.raises(DagDefinitionError, match=message):
        load_dag_file(path, tmp_path)


def test_other_import_errors_propagate_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.py", "from tradewind import DAG\nraise RuntimeError('no database')\n")
    with pytest.raises(RuntimeError, match="no database"):
        load_dag_file(path, tmp_path)


def test_the_safe_mode_heuristic(tmp_path: Path) -> None:
    assert might_contain_dag(write(tmp_path, "a.py", "from Tradewind import DAG"))
    assert not might_contain_dag(write(tmp_path, "b.py", "import os"))
    assert not might_contain_dag(write(tmp_path, "c.txt", "tradewind dag"))
    assert not might_contain_dag(tmp_path / "missing.py")
