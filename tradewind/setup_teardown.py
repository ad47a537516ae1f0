"""Setup and teardown tasks, as Airflow has them: marking, the `with` form, and @setup/@teardown.

A setup prepares a resource, a teardown releases it; a teardown runs once its upstream is done
even when work failed (trigger rule `all_done_setup_success`), and a run's state ignores a
teardown's failure unless it was made with `on_failure_fail_dagrun=True`. Inside
`with teardown.as_teardown(setups=setup):` (or `with setup >> teardown:`) the tasks created go
after the setups and before the teardowns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tradewind.exceptions import DagDefinitionError
from tradewind.trigger_rules import TriggerRule

if TYPE_CHECKING:
    from tradewind.baseoperator import BaseOperator


def mark_setup(task: BaseOperator) -> None:
    if task.is_teardown:
        raise DagDefinitionError(f"{task.where} is a teardown task; it cannot also be a setup task")
    task.is_setup = True


def mark_teardown(task: BaseOperator, setups: Any, on_failure_fail_dagrun: bool | None) -> None:
    """Airflow's as_teardown: the trigger rule becomes all_done_setup_success, and `setups` (a
    task, an XComArg or a list of them) become setups upstream of it."""
    from tradewind.baseoperator import _tasks

    if task.is_setup:
        raise DagDefinitionError(f"{task.where} is a setup task; it cannot also be a teardown task")
    task.is_teardown = True
    task.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS
    if on_failure_fail_dagrun is not None:
        task.on_failure_fail_dagrun = bool(on_failure_fail_dagrun)
    if setups is not None:
        for setup in _tasks(setups, roots=False):
            mark_setup(setup)
            task.set_upstream(setup)


def check_marks(task: BaseOperator) -> None:
    """What Airflow refuses at parse time about a task's setup/teardown arguments."""
    if task.on_failure_fail_dagrun and not task.is_teardown:
        raise DagDefinitionError(f"{task.where}: on_failure_fail_dagrun can only be set on a teardown task")
    if task.is_teardown and task.trigger_rule != TriggerRule.ALL_DONE_SETUP_SUCCESS:
        raise DagDefinitionError(
            f"{task.where}: a teardown task's trigger rule must be all_done_setup_success, not {task.trigger_rule}"
        )
    if task.trigger_rule == TriggerRule.ALL_DONE_SETUP_SUCCESS and not task.is_teardown:
        raise DagDefinitionError(f"{task.where}: trigger rule all_done_setup_success is for teardown tasks only")


class SetupTeardownScope:
    """The `with` form: tasks created inside go downstream of the setups and upstream of the
    teardowns (those without an upstream, or downstream, task among the tasks made inside)."""

    def __init__(self, task: BaseOperator) -> None:
        if not (task.is_setup or task.is_teardown):
            raise DagDefinitionError(f"{task.where}: only a setup or teardown task can be used in a `with` statement")
        if task.dag is None:
            raise DagDefinitionError(f"{task.where} belongs to no DAG")
        self.task = task
        self.dag = task.dag
        self.before = set(task.dag.task_dict)

    def close(self) -> None:
        task = self.task
        tasks = self.dag.task_dict
        if task.is_teardown:
            teardowns = [task]
            setups = [tasks[t] for t in sorted(task.upstream_task_ids) if tasks[t].is_setup]
        else:
            setups = [task]
            teardowns = [tasks[t] for t in sorted(task.downstream_task_ids) if tasks[t].is_teardown]
        new = {t: tasks[t] for t in tasks if t not in self.before}
        for made in new.values():
            if made.is_setup or made.is_teardown:
                continue
            if not made.upstream_task_ids & set(new):
                for setup in setups:
                    made.set_upstream(setup)
            if not made.downstream_task_ids & set(new):
                for teardown in teardowns:
                    made.set_downstream(teardown)


def setup(python_callable: Callable[..., Any] | None = None, **options: Any) -> Any:
    """`@setup`: a @task whose task is a setup task."""
    from tradewind.decorators import task

    def decorate(function: Callable[..., Any]) -> Any:
        return task(function, **options).marked(setup=True)

    return decorate(python_callable) if python_callable is not None else decorate


def teardown(
    python_callable: Callable[..., Any] | None = None, *, on_failure_fail_dagrun: bool = False, **options: Any
) -> Any:
    """`@teardown` / `@teardown(on_failure_fail_dagrun=True)`: a @task whose task is a teardown."""
    from tradewind.decorators import task

    def decorate(function: Callable[..., Any]) -> Any:
        return task(function, **options).marked(teardown=True, on_failure_fail_dagrun=on_failure_fail_dagrun)

    return decorate(python_callable) if python_callable is not None else decorate
