"""Setup and teardown tasks in the SDK: marking, the `with` form, the decorators, what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from tradewind import DAG, BashOperator, EmptyOperator, setup, task, teardown
from tradewind.exceptions import DagDefinitionError
from tradewind.serialization import serialize_dag


def tasks_of(d: DAG) -> dict[str, dict[str, Any]]:
    return {t["task_id"]: t for t in serialize_dag(d, "f.py")["tasks"]}


def test_as_teardown_marks_the_setups_wires_them_upstream_and_sets_the_teardown_rule() -> None:
    with DAG("d", schedule=None) as d:
        create = BashOperator(task_id="create", bash_command="true")
        work = BashOperator(task_id="work", bash_command="true")
        delete = BashOperator(task_id="delete", bash_command="true")
        create >> work >> delete.as_teardown(setups=create, on_failure_fail_dagrun=True)
    found = tasks_of(d)
    assert found["create"]["is_setup"] is True
    assert found["delete"]["is_teardown"] is True and found["delete"]["on_failure_fail_dagrun"] is True
    assert found["delete"]["trigger_rule"] == "all_done_setup_success"
    assert found["delete"]["upstream"] == ["create", "work"]
    assert "is_setup" not in found["work"] and "is_teardown" not in found["work"]


def test_tasks_made_inside_a_teardowns_with_block_go_between_its_setups_and_it() -> None:
    with DAG("d", schedule=None) as d:
        create = EmptyOperator(task_id="create").as_setup()
        delete = EmptyOperator(task_id="delete")
        with create >> delete.as_teardown(setups=create):
            first = EmptyOperator(task_id="first")
            first >> EmptyOperator(task_id="second")
            EmptyOperator(task_id="alone")
    found = tasks_of(d)
    assert found["first"]["upstream"] == ["create"] and found["alone"]["upstream"] == ["create"]
    assert found["second"]["upstream"] == ["first"]
    assert found["delete"]["upstream"] == ["alone", "create", "second"]


def test_the_setup_and_teardown_decorators_make_marked_taskflow_tasks() -> None:
    with DAG("d", schedule=None) as d:

        @setup
        def make() -> str:
            return "r"

        @teardown(on_failure_fail_dagrun=True)
        def drop(resource: str) -> None:
            pass

        @task
        def use() -> None:
            pass

        resource = make()
        with drop(resource):
            use()
    found = tasks_of(d)
    assert found["make"]["is_setup"] is True
    assert found["drop"]["is_teardown"] is True and found["drop"]["on_failure_fail_dagrun"] is True
    assert found["use"]["upstream"] == ["make"] and found["drop"]["upstream"] == ["make", "use"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: EmptyOperator(task_id="a").as_setup().as_teardown(), "is a setup task; it cannot also be a teardown"),
        (lambda: EmptyOperator(task_id="a").as_teardown().as_setup(), "is a teardown task; it cannot also be a setup"),
        (lambda: EmptyOperator(task_id="a").__enter__(), "only a setup or teardown task can be used in a `with`"),
        (
            lambda: EmptyOperator(task_id="a", trigger_rule="all_done_setup_success"),
            "trigger rule all_done_setup_success is for teardown tasks only",
        ),
        (
            lambda: setattr(EmptyOperator(task_id="a").as_teardown(), "trigger_rule", "all_success"),
            "a teardown task's trigger rule must be all_done_setup_success",
        ),
    ],
)
def test_what_airflow_refuses_about_setup_and_teardown_is_refused_naming_the_task(build: Any, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        with DAG("d", schedule=None) as d:
            build()
        serialize_dag(d, "f.py")


def test_a_task_groups_teardown_is_not_a_leaf_so_what_follows_the_group_follows_its_work() -> None:
    from tradewind import TaskGroup

    with DAG("d", schedule=None) as d:
        with TaskGroup("g") as group:
            create = EmptyOperator(task_id="create").as_setup()
            work = EmptyOperator(task_id="work")
            delete = EmptyOperator(task_id="delete")
            create >> work >> delete.as_teardown(setups=create)
        group >> EmptyOperator(task_id="after")
    assert [t.task_id for t in group.leaves] == ["g.work"]
    assert tasks_of(d)["after"]["upstream"] == ["g.work"]
