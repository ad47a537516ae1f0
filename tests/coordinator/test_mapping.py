"""The scheduler expanding mapped tasks: instances per item, their own arguments, trigger rules
over every instance, reduce order, zero-length, limits and bad values, with the scheduler's
invariants checked after every event."""

from __future__ import annotations

import json
from typing import Any

from coordinator.events import Acked, AttemptRef, Finished, PullXCom, Started, TaskRequested, XComsPulled
from coordinator.scheduling.effects import Respond
from tests.coordinator.conftest import Harness
from tradewind import DAG, BashOperator, task, task_group, xcom_codec
from tradewind.serialization import serialize_dag
from tradewind.skipping import FollowTasks
from tradewind.states import RunState, TaskState
from tradewind.wire import Outcome

T = TaskState


@task
def numbers() -> list[int]:
    return [1, 2]


@task
def add(x: int, y: int = 0) -> int:
    return x + y


@task
def total(values: list[int]) -> int:
    return sum(values)


def load(h: Harness, dag: DAG) -> None:
    h.add_dag(json.loads(json.dumps(serialize_dag(dag, f"{dag.dag_id}.py"))))
    h.worker(slots=64)


def finish(
    h: Harness, ti: Any, value: Any = None, outcome: Outcome = Outcome.SUCCESS, follow: FollowTasks | None = None
) -> None:
    gen = h.gen("w1")
    ref = AttemptRef(ti.id, ti.try_number, ti.token)
    h.scheduler.acked(Acked("w1", ref, True, "", generation=gen))
    h.scheduler.started(Started("w1", ref, None, generation=gen))
    text = "" if value is None else xcom_codec.dumps(value)
    h.scheduler.finished(Finished("w1", ref, outcome, 0, "", text, None, generation=gen, follow=follow))


def sent(h: Harness) -> list[tuple[Any, dict[str, Any]]]:
    """Each assignment of this turn with its payload's fields."""
    return [(e.ti, e.payload.fields) for e in h.turn() if type(e).__name__ == "Assign"]


def mapped_args(fields: dict[str, Any]) -> Any:
    return xcom_codec.loads(fields["mapped_kwargs_json"])


def states(run: Any, task_id: str) -> list[tuple[int, TaskState]]:
    return [(ti.map_index, ti.state) for ti in run.instances(task_id)]


def test_a_literal_expand_makes_one_instance_per_item_and_the_reduce_gets_every_value_in_order(
    harness: Harness,
) -> None:
    with DAG("d", schedule=None) as dag:
        total(add.partial(y=10).expand(x=[1, 2, 3]))
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    first = sent(harness)
    assert [(ti.task_id, ti.map_index, mapped_args(f)) for ti, f in first] == [
        ("add", 0, {"x": 1}),
        ("add", 1, {"x": 2}),
        ("add", 2, {"x": 3}),
    ]
    for ti, _ in reversed(first):
        finish(harness, ti, ti.map_index * 100)
    ((reduce, fields),) = sent(harness)
    assert xcom_codec.loads(fields["xcom_inputs_json"]) == {"add|return_value": [0, 100, 200]}
    finish(harness, reduce, 300)
    assert states(run, "add") == [(0, T.SUCCESS), (1, T.SUCCESS), (2, T.SUCCESS)]
    assert run.state is RunState.SUCCESS


def test_several_expand_arguments_make_their_cross_product_the_last_varying_fastest(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        add.expand(x=[1, 2], y=[10, 20, 30])
    load(harness, dag)
    harness.scheduler.trigger("d", {}, "", None, False)
    assert [mapped_args(f) for _, f in sent(harness)] == [
        {"x": 1, "y": 10},
        {"x": 1, "y": 20},
        {"x": 1, "y": 30},
        {"x": 2, "y": 10},
        {"x": 2, "y": 20},
        {"x": 2, "y": 30},
    ]


def test_a_dict_is_expanded_into_key_value_pairs(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        add.expand(x={"a": 1, "b": 2})
    load(harness, dag)
    harness.scheduler.trigger("d", {}, "", None, False)
    assert [mapped_args(f) for _, f in sent(harness)] == [{"x": ("a", 1)}, {"x": ("b", 2)}]


def test_expand_over_an_upstream_output_waits_for_it_then_expands_to_its_length(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        add.expand(x=numbers())
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    ((producer, _),) = sent(harness)
    assert states(run, "add") == [(-1, T.NONE)]
    finish(harness, producer, [5, 6, 7])
    assert [(ti.map_index, mapped_args(f)) for ti, f in sent(harness)] == [(0, {"x": 5}), (1, {"x": 6}), (2, {"x": 7})]


def test_expand_kwargs_gives_each_instance_its_own_dict_of_arguments(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        add.expand_kwargs([{"x": 1}, {"x": 2, "y": 3}])
    load(harness, dag)
    harness.scheduler.trigger("d", {}, "", None, False)
    assert [mapped_args(f) for _, f in sent(harness)] == [{"x": 1}, {"x": 2, "y": 3}]


def test_a_zero_length_expansion_skips_the_mapped_task_and_its_downstream(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        total(add.expand(x=numbers()))
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    ((producer, _),) = sent(harness)
    finish(harness, producer, [])
    assert states(run, "add") == [(-1, T.SKIPPED)]
    assert run.tis["total"].state is T.SKIPPED
    assert run.state is RunState.SUCCESS


def test_an_upstream_value_that_is_not_a_list_or_dict_fails_the_mapped_task_naming_it_and_the_type(
    harness: Harness,
) -> None:
    with DAG("d", schedule=None) as dag:
        total(add.expand(x=numbers()))
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    ((producer, _),) = sent(harness)
    finish(harness, producer, 7)
    ti = run.tis["add"]
    assert (ti.map_index, ti.state) == (-1, T.FAILED)
    assert ti.attempt is not None and ti.attempt.error == (
        "task 'add' cannot be mapped over the XCom 'return_value' of task 'numbers': it is a int, not a list or a dict"
    )
    assert run.tis["total"].state is T.UPSTREAM_FAILED
    assert run.state is RunState.FAILED


def test_an_expansion_above_max_map_length_fails_the_mapped_task(harness: Harness) -> None:
    harness.scheduler.max_map_length = 2
    with DAG("d", schedule=None) as dag:
        add.expand(x=[1, 2, 3])
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    ti = run.tis["add"]
    assert ti.state is T.FAILED and ti.attempt is not None
    assert ti.attempt.error == "task 'add' would expand to 3 task instances, more than max_map_length (2)"


def test_a_downstream_task_waits_for_every_instance_and_counts_each_in_its_trigger_rule(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        mapped = BashOperator.partial(task_id="b").expand(bash_command=["true", "false", "true"])
        after = BashOperator(task_id="after", bash_command="true", trigger_rule="all_done")
        strict = BashOperator(task_id="strict", bash_command="true")
        mapped >> [after, strict]
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    first = sent(harness)
    assert [f["bash_command"] for _, f in first] == ["true", "false", "true"]
    finish(harness, first[0][0])
    finish(harness, first[1][0], outcome=Outcome.FAILED)
    assert run.tis["after"].state is T.NONE
    finish(harness, first[2][0])
    assert [ti.task_id for ti, _ in sent(harness)] == ["after"]
    assert run.tis["strict"].state is T.UPSTREAM_FAILED


def test_a_mapped_task_group_pairs_its_tasks_by_map_index(harness: Harness) -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @task_group
    def per_item(x: int) -> Any:
        return double.override(task_id="second")(double(x))

    with DAG("d", schedule=None) as dag:
        total(per_item.expand(x=[1, 2]))
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    first = sent(harness)
    assert [(ti.task_id, ti.map_index, mapped_args(f)) for ti, f in first] == [
        ("per_item.double", 0, {"x": 1}),
        ("per_item.double", 1, {"x": 2}),
    ]
    finish(harness, first[1][0], 4)
    ((second, fields),) = sent(harness)
    assert (second.task_id, second.map_index) == ("per_item.second", 1)
    assert xcom_codec.loads(fields["xcom_inputs_json"]) == {"per_item.double|return_value": 4}
    finish(harness, second, 8)
    finish(harness, first[0][0], 2)
    ((other, _),) = sent(harness)
    finish(harness, other, 4)
    ((reduce, fields),) = sent(harness)
    assert xcom_codec.loads(fields["xcom_inputs_json"]) == {"per_item.second|return_value": [4, 8]}
    finish(harness, reduce)
    assert run.state is RunState.SUCCESS


def test_pulling_a_mapped_tasks_xcom_reads_every_index_or_those_asked_for(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        add.expand(x=[1, 2, 3]) >> total.override(task_id="reader")([])
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    for ti, _ in sent(harness):
        finish(harness, ti, ti.map_index + 1)
    ((reader, _),) = sent(harness)
    gen = harness.gen("w1")
    ref = AttemptRef(reader.id, reader.try_number, reader.token)
    harness.scheduler.acked(Acked("w1", ref, True, "", generation=gen))
    answers = []
    for indexes in ((), (2, 0)):
        request = PullXCom(("add",), "return_value", indexes, "", "")
        harness.scheduler.task_request(TaskRequested("w1", gen, 1, ref, request))
        _, effects = harness.scheduler.take()
        (respond,) = [e for e in effects if isinstance(e, Respond)]
        assert isinstance(respond.result, XComsPulled)
        answers.append([(index, value) for _, index, value in respond.result.values])
    assert answers == [[(0, "1"), (1, "2"), (2, "3")], [(2, "3"), (0, "1")]]
    assert run.xcoms[("add", 1, "return_value")] == "2"


def test_clearing_a_mapped_task_clears_every_instance_and_marking_acts_on_one(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        add.expand(x=[1, 2])
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    for ti, _ in sent(harness):
        finish(harness, ti, ti.map_index)
    assert run.state is RunState.SUCCESS
    harness.scheduler.adopt_run(run)
    cleared = harness.scheduler.clear(run, ["add"], False)
    assert [(ti.map_index, ti.state) for ti in cleared] == [(0, T.SCHEDULED), (1, T.SCHEDULED)]
    assert ("add", 0, "return_value") not in run.xcoms
    again = sent(harness)
    assert [(ti.map_index, mapped_args(f)) for ti, f in again] == [(0, {"x": 1}), (1, {"x": 2})]
    finish(harness, again[0][0])
    marked = harness.scheduler.mark(run, "add", T.FAILED, 1)
    assert (marked.map_index, marked.state) == (1, T.FAILED)
    assert states(run, "add") == [(0, T.SUCCESS), (1, T.FAILED)]
    assert run.state is RunState.FAILED


def test_a_template_pulling_a_mapped_task_gets_every_instances_value_in_order(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        add.expand(x=[1, 2]) >> BashOperator(task_id="show", bash_command="echo {{ ti.xcom_pull(task_ids='add') }}")
    load(harness, dag)
    harness.scheduler.trigger("d", {}, "", None, False)
    for ti, _ in reversed(sent(harness)):
        finish(harness, ti, f"v{ti.map_index}")
    ((_, fields),) = sent(harness)
    assert fields["bash_command"] == "echo ['v0', 'v1']"


def test_a_task_mapped_over_literals_is_expanded_when_its_run_starts(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        BashOperator(task_id="first", bash_command="true") >> add.expand(x=[1, 2, 3])
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    assert states(run, "add") == [(0, T.NONE), (1, T.NONE), (2, T.NONE)]
    ((first, _),) = sent(harness)
    finish(harness, first)
    assert [ti.map_index for ti, _ in sent(harness)] == [0, 1, 2]


def test_literal_mapped_values_are_rendered_as_templates_and_values_from_xcoms_are_not(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        BashOperator.partial(task_id="literal").expand(bash_command=["echo {{ run_id }}"])
        source = BashOperator(task_id="source", bash_command="true")
        BashOperator.partial(task_id="from_xcom").expand(bash_command=source.output)
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    first = {ti.task_id: (ti, f) for ti, f in sent(harness)}
    assert first["literal"][1]["bash_command"] == f"echo {run.run_id}"
    finish(harness, first["source"][0], ["echo {{ run_id }}", 7])
    ((good, fields),) = sent(harness)
    assert (good.map_index, fields["bash_command"]) == (0, "echo {{ run_id }}")
    bad = run.instances("from_xcom")[1]
    assert bad.state is T.FAILED and bad.attempt is not None
    assert "bash_command must be a string (not int)" in bad.attempt.error


def test_a_mapped_task_cleared_with_its_upstream_is_expanded_again_to_the_new_length(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        total(add.expand(x=numbers()))
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)

    def run_with(items: list[int]) -> list[Any]:
        harness.scheduler.adopt_run(run)
        harness.scheduler.clear(run, ["numbers"], True)
        ((producer, _),) = sent(harness)
        finish(harness, producer, items)
        assigned = sent(harness)
        for ti, _ in assigned:
            finish(harness, ti, ti.map_index)
        ((reduce, fields),) = sent(harness)
        finish(harness, reduce)
        assert run.state is RunState.SUCCESS
        return [xcom_codec.loads(fields["xcom_inputs_json"])["add|return_value"], [mapped_args(f) for _, f in assigned]]

    ((producer, _),) = sent(harness)
    finish(harness, producer, [1, 2])
    for ti, _ in sent(harness):
        finish(harness, ti, ti.map_index)
    finish(harness, sent(harness)[0][0])
    assert run_with([7, 8, 9]) == [[0, 1, 2], [{"x": 7}, {"x": 8}, {"x": 9}]]
    assert run_with([5]) == [[0], [{"x": 5}]]
    assert states(run, "add") == [(0, T.SUCCESS), (1, T.REMOVED), (2, T.REMOVED)]
    assert run_with([3, 4]) == [[0, 1], [{"x": 3}, {"x": 4}]]
    assert states(run, "add") == [(0, T.SUCCESS), (1, T.SUCCESS), (2, T.REMOVED)]


def test_a_task_mapped_over_a_mapped_tasks_output_gets_one_instance_per_value_in_order(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        add.override(task_id="second").expand(x=add.expand(x=[1, 2, 3]))
    load(harness, dag)
    harness.scheduler.trigger("d", {}, "", None, False)
    first = sent(harness)
    for ti, _ in first:
        finish(harness, ti, None if ti.map_index == 1 else ti.map_index * 10)
    assert [(ti.task_id, mapped_args(f)) for ti, f in sent(harness)] == [("second", {"x": 0}), ("second", {"x": 20})]


def test_a_branch_that_did_not_choose_a_mapped_task_skips_every_instance(harness: Harness) -> None:
    with DAG("d", schedule=None) as dag:
        branch = BashOperator(task_id="branch", bash_command="true")
        branch >> [add.expand(x=[1, 2, 3]), BashOperator(task_id="other", bash_command="true")]
    load(harness, dag)
    run = harness.scheduler.trigger("d", {}, "", None, False)
    ((ti, _),) = sent(harness)
    finish(harness, ti, follow=FollowTasks(("other",)))
    assert [t.task_id for t, _ in sent(harness)] == ["other"]
    assert states(run, "add") == [(0, T.SKIPPED), (1, T.SKIPPED), (2, T.SKIPPED)]


def test_expand_over_a_key_of_an_upstream_output_reads_into_it(harness: Harness) -> None:
    @task(multiple_outputs=True)
    def split() -> dict[str, Any]:
        return {"items": [4, 5]}

    with DAG("d", schedule=None) as dag:
        add.expand(x=split()["items"])
    load(harness, dag)
    harness.scheduler.trigger("d", {}, "", None, False)
    ((producer, _),) = sent(harness)
    finish(harness, producer, {"items": [4, 5]})
    assert [mapped_args(f) for _, f in sent(harness)] == [{"x": 4}, {"x": 5}]
