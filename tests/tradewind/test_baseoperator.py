from __future__ import annotations

from datetime import timedelta

import pytest

from tradewind import DAG, BaseOperator, BashOperator, EmptyOperator, TriggerRule, chain
from tradewind.exceptions import DagDefinitionError


def ups(d: DAG, task_id: str) -> set[str]:
    return d.get_task(task_id).upstream_task_ids


def test_shift_operators_accept_lists_on_either_side() -> None:
    with DAG("d") as d:
        a, b, c, e, z = (EmptyOperator(task_id=n) for n in "abcez")
        a >> [b, c] >> e
        [a, b] << z
        e << a
    assert ups(d, "e") == {"a", "b", "c"}
    assert ups(d, "b") == {"a", "z"}
    assert d.get_task("a").downstream_task_ids == {"b", "c", "e"}


def test_set_upstream_and_set_downstream() -> None:
    with DAG("d") as d:
        a, b, c = (EmptyOperator(task_id=n) for n in "abc")
        b.set_upstream(a)
        b.set_downstream([c])
    assert ups(d, "b") == {"a"}
    assert ups(d, "c") == {"b"}


def test_chain_links_in_order_and_fans_out_and_in() -> None:
    with DAG("d") as d:
        a, b, c, e = (EmptyOperator(task_id=n) for n in "abce")
        chain(a, [b, c], e)
    assert ups(d, "b") == ups(d, "c") == {"a"}
    assert ups(d, "e") == {"b", "c"}


def test_chain_pairs_adjacent_lists_of_equal_length() -> None:
    with DAG("d") as d:
        a, b1, b2, c1, c2 = (EmptyOperator(task_id=n) for n in ("a", "b1", "b2", "c1", "c2"))
        chain(a, [b1, b2], [c1, c2])
    assert ups(d, "c1") == {"b1"}
    assert ups(d, "c2") == {"b2"}


def test_chain_with_lists_of_different_length_is_an_error() -> None:
    with DAG("d"):
        a, b, c = (EmptyOperator(task_id=n) for n in "abc")
        with pytest.raises(DagDefinitionError, match="adjacent lists must have the same length, not 2 and 1"):
            chain([a, b], [c])


def test_default_args_fill_in_and_explicit_arguments_win() -> None:
    default_args = {"owner": "ana", "retries": 3, "queue": "gpu", "retry_delay": timedelta(seconds=7), "email": "x@y"}
    with DAG("d", default_args=default_args):
        inherited = BashOperator(task_id="a", bash_command="true")
        explicit = BashOperator(task_id="b", bash_command="true", retries=1, owner="bo")
    assert (inherited.owner, inherited.retries, inherited.queue, inherited.retry_delay) == ("ana", 3, "gpu", 7.0)
    assert (explicit.owner, explicit.retries) == ("bo", 1)


def test_defaults_match_airflow() -> None:
    with DAG("d"):
        t = EmptyOperator(task_id="t")
    assert (t.owner, t.retries, t.retry_delay, t.trigger_rule) == ("tradewind", 0, 300.0, TriggerRule.ALL_SUCCESS)
    assert (t.queue, t.pool, t.pool_slots, t.priority_weight, t.weight_rule) == (
        "default",
        "default_pool",
        1,
        1,
        "downstream",
    )
    assert (t.execution_timeout, t.max_retry_delay, t.do_xcom_push) == (None, None, True)


def test_durations_accept_timedeltas_or_seconds() -> None:
    with DAG("d"):
        t = EmptyOperator(task_id="t", retry_delay=2, execution_timeout=timedelta(minutes=1), max_retry_delay=1.5)
    assert (t.retry_delay, t.execution_timeout, t.max_retry_delay) == (2.0, 60.0, 1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"trigger_rule": "sometimes"},
            "DAG 'd': task 'x': unknown trigger rule 'sometimes'; use one of all_success, ",
        ),
        ({"colour": "red"}, "DAG 'd': task 'x': unknown argument 'colour' for EmptyOperator"),
        ({"retries": -1}, "DAG 'd': task 'x': retries must be an integer of at least 0, not -1"),
        ({"retry_delay": "soon"}, "DAG 'd': task 'x': retry_delay must be a timedelta or seconds, not 'soon'"),
        ({"execution_timeout": -5}, "DAG 'd': task 'x': execution_timeout must not be negative"),
        ({"weight_rule": "heaviest"}, "DAG 'd': task 'x': weight_rule must be one of downstream, upstream, absolute"),
        ({"pool_slots": 0}, "DAG 'd': task 'x': pool_slots must be an integer of at least 1"),
    ],
)
def test_bad_task_arguments_are_errors_naming_dag_task_and_value(kwargs: dict, message: str) -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match=message):
        EmptyOperator(task_id="x", **kwargs)


def test_wait_for_downstream_implies_depends_on_past_as_in_airflow() -> None:
    with DAG("d", default_args={"wait_for_downstream": True}):
        task = EmptyOperator(task_id="x")
        plain = EmptyOperator(task_id="y", wait_for_downstream=False)
    assert task.depends_on_past and task.wait_for_downstream and task.ignore_first_depends_on_past
    assert not plain.depends_on_past


def test_the_unknown_trigger_rule_error_lists_every_rule() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError) as info:
        EmptyOperator(task_id="x", trigger_rule="sometimes")
    assert all(rule.value in str(info.value) for rule in TriggerRule)


def test_a_bad_task_id_is_an_error_naming_the_dag() -> None:
    with DAG("d"), pytest.raises(DagDefinitionError, match="DAG 'd': task_id 'bad id' is not valid"):
        EmptyOperator(task_id="bad id")


def test_a_task_depending_on_itself_is_an_error() -> None:
    with DAG("d"):
        a = EmptyOperator(task_id="a")
        with pytest.raises(DagDefinitionError, match="DAG 'd': task 'a' depends on itself"):
            a >> a


def test_an_explicit_dag_argument_attaches_outside_a_context() -> None:
    d = DAG("d")
    a, b = EmptyOperator(task_id="a", dag=d), EmptyOperator(task_id="b", dag=d)
    a >> b
    assert d.task_ids == ["a", "b"]


def test_a_task_outside_any_dag_is_an_error_when_used() -> None:
    a = EmptyOperator(task_id="a")
    with DAG("d"):
        b = EmptyOperator(task_id="b")
    with pytest.raises(DagDefinitionError, match="task 'a' belongs to no DAG"):
        a >> b


def test_tasks_of_different_dags_cannot_depend_on_each_other() -> None:
    with DAG("one"):
        a = EmptyOperator(task_id="a")
    with DAG("two"):
        b = EmptyOperator(task_id="b")
    with pytest.raises(DagDefinitionError, match="DAG 'one': task 'a' and task 'b' of DAG 'two' are in different DAGs"):
        a >> b


def test_a_plain_base_operator_has_no_execute() -> None:
    with DAG("d"):
        t = BaseOperator(task_id="t")
    with pytest.raises(NotImplementedError, match="BaseOperator does not implement execute"):
        t.execute({})


def test_task_callbacks_are_one_callable_or_a_list_and_default_args_can_set_them() -> None:
    from tradewind.serialization import serialize_dag

    with DAG("d", default_args={"on_failure_callback": print}) as d:
        one = EmptyOperator(task_id="one", on_success_callback=[print, repr])
        EmptyOperator(task_id="none", on_failure_callback=None)
    assert one.on_success_callback == [print, repr] and one.on_failure_callback == [print]
    tasks = {t["task_id"]: t for t in serialize_dag(d, "d.py")["tasks"]}
    assert tasks["one"]["callbacks"] == ["on_success_callback", "on_failure_callback"]
    assert "callbacks" not in tasks["none"]
    with DAG("d"), pytest.raises(DagDefinitionError, match="on_retry_callback must be a callable or a list"):
        EmptyOperator(task_id="x", on_retry_callback="notify")


def test_an_empty_operator_with_a_success_callback_runs_on_a_worker_so_the_callback_runs() -> None:
    from tradewind.serialization import serialize_dag

    with DAG("d") as d:
        EmptyOperator(task_id="plain", on_failure_callback=print)
        EmptyOperator(task_id="called", on_success_callback=print)
    kinds = {t["task_id"]: t["kind"] for t in serialize_dag(d, "d.py")["tasks"]}
    assert kinds == {"plain": "empty", "called": "python"}


def test_default_args_set_an_operators_own_arguments_too_unless_the_call_names_them() -> None:
    from tradewind import BashOperator, TaskGroup

    with DAG("d", default_args={"env": {"A": "1"}, "cwd": "/tmp", "email": "x@example.com"}):
        plain = BashOperator(task_id="plain", bash_command="true")
        own = BashOperator(task_id="own", bash_command="true", env={"B": "2"})
        with TaskGroup("g", default_args={"env": {"C": "3"}}):
            grouped = BashOperator(task_id="grouped", bash_command="true")
    assert plain.env == {"A": "1"} and plain.cwd == "/tmp"
    assert own.env == {"B": "2"}
    assert grouped.env == {"C": "3"}
