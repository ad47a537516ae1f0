from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradewind import DAG, BashOperator, EmptyOperator, TaskGroup, chain, task, task_group
from tradewind.dagbag import load_dag_file
from tradewind.exceptions import DagDefinitionError
from tradewind.serialization import serialize_dag


def upstream(dag: DAG) -> dict[str, list[str]]:
    return {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}


def test_task_ids_are_prefixed_with_the_group_ids_that_prefix() -> None:
    with DAG("d") as d:
        EmptyOperator(task_id="start")
        with TaskGroup("etl") as etl:
            EmptyOperator(task_id="extract")
            with TaskGroup("clean") as clean:
                EmptyOperator(task_id="orders")
            with TaskGroup("plain", prefix_group_id=False) as plain:
                EmptyOperator(task_id="users")
                with TaskGroup("deep") as deep:
                    EmptyOperator(task_id="x")
    # As in Airflow: a group that does not prefix takes no prefix for its children, groups included.
    assert d.task_ids == ["start", "etl.extract", "etl.clean.orders", "users", "deep.x"]
    assert [g.group_id for g in (etl, clean, plain, deep)] == ["etl", "etl.clean", "etl.plain", "deep"]
    assert deep.path == "etl.plain.deep" and deep.label == "deep"
    assert plain.get_child_by_label("users") is d.get_task("users")
    assert list(d.task_group_dict) == ["etl", "etl.clean", "etl.plain", "deep"]
    assert d.get_task("etl.clean.orders").task_group is clean
    assert d.get_task("start").task_group is None
    assert [t.task_id for t in etl] == ["etl.extract", "etl.clean.orders", "users", "deep.x"]


def test_group_default_args_apply_over_the_dags_and_the_parents() -> None:
    with DAG("d", default_args={"retries": 1, "queue": "dag_q", "pool": "dag_pool"}) as d:
        with TaskGroup("outer", default_args={"retries": 2, "queue": "outer_q"}):
            with TaskGroup("inner", default_args={"retries": 3}):
                EmptyOperator(task_id="a")
                EmptyOperator(task_id="b", retries=4)
            EmptyOperator(task_id="c")
        EmptyOperator(task_id="d")
    got = {t.task_id: (t.retries, t.queue, t.pool) for t in d.tasks}
    assert got == {
        "outer.inner.a": (3, "outer_q", "dag_pool"),
        "outer.inner.b": (4, "outer_q", "dag_pool"),
        "outer.c": (2, "outer_q", "dag_pool"),
        "d": (1, "dag_q", "dag_pool"),
    }


def test_edges_into_a_group_reach_its_roots_and_edges_out_leave_from_its_leaves() -> None:
    with DAG("d") as d:
        start = EmptyOperator(task_id="start")
        with TaskGroup("g") as g:
            a, b, c = (EmptyOperator(task_id=n) for n in "abc")
            a >> b
        end = EmptyOperator(task_id="end")
        start >> g >> end
    assert upstream(d) == {"start": [], "g.a": ["start"], "g.b": ["g.a"], "g.c": ["start"], "end": ["g.b", "g.c"]}
    assert [t.task_id for t in g.roots] == ["g.a", "g.c"] and [t.task_id for t in g.leaves] == ["g.b", "g.c"]
    del a, b, c, end


def test_group_to_group_lists_and_the_reverse_operators() -> None:
    with DAG("d") as d:
        with TaskGroup("one") as one:
            EmptyOperator(task_id="a")
        with TaskGroup("two") as two:
            EmptyOperator(task_id="a")
        last = EmptyOperator(task_id="last")
        first = EmptyOperator(task_id="first")
        one >> two
        [one, first] >> last
        last << two
        first << one
    assert upstream(d) == {
        "one.a": [],
        "two.a": ["one.a"],
        "last": ["first", "one.a", "two.a"],
        "first": ["one.a"],
    }


def test_chain_accepts_groups() -> None:
    with DAG("d") as d:
        start = EmptyOperator(task_id="start")
        with TaskGroup("g1") as g1:
            EmptyOperator(task_id="x") >> EmptyOperator(task_id="y")
        with TaskGroup("g2") as g2:
            EmptyOperator(task_id="x")
        a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
        chain(start, g1, [g2, a], [b, EmptyOperator(task_id="c")])
    assert upstream(d) == {
        "start": [],
        "g1.x": ["start"],
        "g1.y": ["g1.x"],
        "g2.x": ["g1.y"],
        "a": ["g1.y"],
        "b": ["g2.x"],
        "c": ["a"],
    }


def test_a_task_group_function_builds_a_group_per_call_and_returns_what_it_returns() -> None:
    with DAG("d") as d:

        @task
        def make() -> int:
            return 1

        @task_group(default_args={"retries": 2})
        def process(value: int) -> object:
            """Cleans and stores."""

            @task
            def clean(v: int) -> int:
                return v

            @task
            def store(v: int) -> None:
                pass

            return store(clean(value))

        @task_group
        def quiet() -> None:
            EmptyOperator(task_id="noop")

        made = make()
        result = process(made)
        again = process(made)
        group = quiet()
        result >> group
        again >> group
    assert d.task_ids == [
        "make",
        "process.clean",
        "process.store",
        "process__1.clean",
        "process__1.store",
        "quiet.noop",
    ]
    assert isinstance(group, TaskGroup) and group.group_id == "quiet"
    assert d.task_group_dict["process"].tooltip == "Cleans and stores."
    assert upstream(d)["process.clean"] == ["make"]
    assert upstream(d)["quiet.noop"] == ["process.store", "process__1.store"]
    assert d.get_task("process__1.store").retries == 2 and d.get_task("make").retries == 0


def test_a_task_decorated_twice_in_a_group_gets_a_suffix_inside_the_group() -> None:
    with DAG("d") as d:

        @task
        def step() -> None:
            pass

        step()
        with TaskGroup("g"):
            step()
            step()
    assert d.task_ids == ["step", "g.step", "g.step__1"]


def test_a_group_made_with_dag_and_parent_arguments_outside_any_with_block() -> None:
    d = DAG("d")
    outer = TaskGroup("outer", dag=d)
    inner = TaskGroup("inner", parent_group=outer)
    BashOperator(task_id="t", bash_command="true", task_group=inner)
    assert d.task_ids == ["outer.inner.t"]
    assert d.get_task("outer.inner.t").dag is d


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TaskGroup("lonely"), "task group 'lonely' belongs to no DAG"),
        (lambda: TaskGroup("has.dot", dag=DAG("d")), "group_id 'has.dot' is not valid"),
        (lambda: TaskGroup("", dag=DAG("d")), "group_id '' is not valid"),
    ],
)
def test_bad_groups_are_errors_that_name_them(build: object, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        build()  # type: ignore[operator]


def test_a_group_id_used_twice_or_by_a_task_is_an_error_naming_it() -> None:
    with DAG("d"):
        EmptyOperator(task_id="clash")
        TaskGroup("g")
        with pytest.raises(DagDefinitionError, match="DAG 'd': group_id 'g' is already used in the DAG"):
            TaskGroup("g")
        with pytest.raises(DagDefinitionError, match="group_id 'clash' is already used"):
            TaskGroup("clash")
        with pytest.raises(DagDefinitionError, match="task 'g': its id is already the id of a task group"):
            EmptyOperator(task_id="g")


def test_mapping_a_task_inside_a_mapped_task_group_is_an_error_naming_the_feature() -> None:
    @task
    def echo(value: str) -> str:
        return value

    @task_group
    def per_file(name: str) -> None:
        echo.expand(value=[name])

    with DAG("d"), pytest.raises(DagDefinitionError, match="mapping a task inside a mapped task group"):
        per_file.expand(name=["a", "b"])


def test_serialization_keeps_each_tasks_group_path_and_the_groups() -> None:
    with DAG("d") as d:
        EmptyOperator(task_id="start")
        with TaskGroup("etl", tooltip="Moves data"), TaskGroup("inner", prefix_group_id=False):
            EmptyOperator(task_id="x")
    data = json.loads(json.dumps(serialize_dag(d, "d.py")))
    assert [(t["task_id"], t["group_id"]) for t in data["tasks"]] == [("start", ""), ("x", "etl.inner")]
    assert data["task_groups"] == [
        {"path": "etl", "group_id": "etl", "tooltip": "Moves data", "prefix_group_id": True},
        {"path": "etl.inner", "group_id": "etl.inner", "tooltip": "", "prefix_group_id": False},
    ]


AIRFLOW_STYLE = """
import pendulum
from airflow.sdk import DAG, task, task_group
from airflow.utils.task_group import TaskGroup
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("airflow_groups", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    start = EmptyOperator(task_id="start")

    with TaskGroup("section_1", tooltip="Tasks for section_1") as section_1:
        EmptyOperator(task_id="task_1") >> [EmptyOperator(task_id="task_2"), EmptyOperator(task_id="task_3")]

    @task_group
    def section_2():
        @task
        def inner():
            return 1

        inner()

    start >> section_1 >> section_2()
"""


def test_an_airflow_dag_file_with_task_groups_loads_unchanged(tmp_path: Path) -> None:
    (tmp_path / "groups.py").write_text(AIRFLOW_STYLE)
    (loaded,) = load_dag_file(tmp_path / "groups.py", tmp_path)
    assert upstream(loaded) == {
        "start": [],
        "section_1.task_1": ["start"],
        "section_1.task_2": ["section_1.task_1"],
        "section_1.task_3": ["section_1.task_1"],
        "section_2.inner": ["section_1.task_2", "section_1.task_3"],
    }
