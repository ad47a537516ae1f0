"""BaseOperator: one task of a DAG, its Airflow parameters, the `>>`/`<<` syntax and chain().

XComArg lives here too: it is an operator's future output, and `>>` treats it as its operator.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, NoReturn

from tradewind import unsupported, wire
from tradewind.assets import check_assets
from tradewind.callbacks import KINDS as CALLBACK_KINDS
from tradewind.callbacks import checked_callbacks
from tradewind.dag import DAG, as_utc, check_id, checked_params, current_dag, display_name
from tradewind.dependencies import DependencyMixin
from tradewind.exceptions import (
    DagDefinitionError,
    TaskDeferralTimeout,
    TaskDeferred,
    TaskFailed,
    TaskFailedNoRetry,
)
from tradewind.mapping import ExpandInput, MappedArgument, checked_expand, checked_expand_kwargs, mark_mapped
from tradewind.setup_teardown import SetupTeardownScope, mark_setup, mark_teardown
from tradewind.task_group import TaskGroup, current_group, join_group
from tradewind.trigger_rules import TriggerRule

WEIGHT_RULES = ("downstream", "upstream", "absolute")

#: Arguments every operator takes, with their defaults; the DAG's default_args may set any of them.
BASE_DEFAULTS: dict[str, Any] = {
    "owner": "tradewind",
    "retries": 0,
    "retry_delay": timedelta(seconds=300),
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
    "trigger_rule": TriggerRule.ALL_SUCCESS.value,
    "queue": "default",
    "pool": "default_pool",
    "pool_slots": 1,
    "priority_weight": 1,
    "weight_rule": "downstream",
    "execution_timeout": None,
    "do_xcom_push": True,
    "depends_on_past": False,
    "wait_for_downstream": False,
    "ignore_first_depends_on_past": True,
    "doc_md": None,
    "params": None,
    "outlets": None,
    "inlets": None,
    "start_date": None,
    "end_date": None,
    "task_display_name": None,
    **dict.fromkeys(CALLBACK_KINDS),
    "map_index_template": None,
}
#: Airflow arguments about notifications, accepted so Airflow DAG files load, and not acted on.
INERT = frozenset({"email", "email_on_failure", "email_on_retry", "doc", "doc_rst", "doc_json", "doc_yaml"})


def seconds(value: Any, what: str, where: str) -> float | None:
    """Durations are timedeltas or seconds, stored as float seconds (the wire's unit)."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        total = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        total = float(value)
    else:
        raise DagDefinitionError(f"{where}: {what} must be a timedelta or seconds, not {value!r}")
    if total < 0:
        raise DagDefinitionError(f"{where}: {what} must not be negative, not {value!r}")
    return total


class BaseOperator(DependencyMixin):
    """A task. Subclasses name the attributes Jinja renders, at run time, in `template_fields`."""

    template_fields: Sequence[str] = ()
    #: A templated field whose value ends with one of these names a template file (read at parse).
    template_ext: Sequence[str] = ()
    #: The task's callbacks, each a list (set from the arguments of the same names).
    on_execute_callback: list[Callable[..., Any]]
    on_success_callback: list[Callable[..., Any]]
    on_failure_callback: list[Callable[..., Any]]
    on_retry_callback: list[Callable[..., Any]]
    on_skipped_callback: list[Callable[..., Any]]
    #: Set by the outermost __init__ once default_args filled the call's arguments.
    _defaults_applied: bool

    def __init_subclass__(cls, **options: Any) -> None:
        """Every operator's own arguments come from default_args too, as Airflow's apply_defaults:
        a BashOperator's `env` set in the DAG's default_args applies to each BashOperator."""
        super().__init_subclass__(**options)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def with_defaults(self: BaseOperator, *args: Any, **kwargs: Any) -> None:
            if not hasattr(self, "_defaults_applied"):
                self._defaults_applied = True
                _apply_default_args(type(self), kwargs)
            init(self, *args, **kwargs)

        with_defaults.__wrapped_init__ = init  # type: ignore[attr-defined]
        cls.__init__ = with_defaults  # type: ignore[method-assign]

    def __init__(
        self, task_id: str, dag: DAG | None = None, task_group: TaskGroup | None = None, **kwargs: Any
    ) -> None:
        self.task_group = task_group if task_group is not None else current_group(dag or current_dag())
        self.dag = dag or (self.task_group.dag if self.task_group is not None else current_dag())
        dag_label = self.dag.label if self.dag is not None else ""
        check_id(task_id, "task_id", dag_label)
        self.task_id = check_id(self.task_group.child_id(task_id) if self.task_group else task_id, "task_id", dag_label)
        where = self.where
        unknown = sorted(set(kwargs) - set(BASE_DEFAULTS) - INERT)
        if unknown:
            for name in unknown:
                if name in unsupported.TASK_ARGUMENTS:
                    unsupported.not_yet(unsupported.TASK_ARGUMENTS[name], where)
            raise DagDefinitionError(f"{where}: unknown argument {unknown[0]!r} for {type(self).__name__}")
        defaults = {
            **(self.dag.default_args if self.dag is not None else {}),
            **(self.task_group.default_args if self.task_group is not None else {}),
        }
        values = {k: kwargs.get(k, defaults.get(k, v)) for k, v in BASE_DEFAULTS.items()}
        self.owner = str(values["owner"])
        self.retries = _count(values["retries"], "retries", where)
        self.retry_delay = seconds(values["retry_delay"], "retry_delay", where) or 0.0
        self.retry_exponential_backoff = bool(values["retry_exponential_backoff"])
        self.max_retry_delay = seconds(values["max_retry_delay"], "max_retry_delay", where)
        rule = values["trigger_rule"]
        try:
            self.trigger_rule = TriggerRule(rule)
        except ValueError:
            valid = ", ".join(r.value for r in TriggerRule)
            raise DagDefinitionError(f"{where}: unknown trigger rule {rule!r}; use one of {valid}") from None
        self.queue = check_id(values["queue"], "queue", where)
        self.pool = check_id(values["pool"], "pool", where)
        self.pool_slots = _count(values["pool_slots"], "pool_slots", where, minimum=1)
        weight = values["priority_weight"]
        if not isinstance(weight, int) or isinstance(weight, bool):
            raise DagDefinitionError(f"{where}: priority_weight must be an integer, not {weight!r}")
        self.priority_weight = weight
        if values["weight_rule"] not in WEIGHT_RULES:
            raise DagDefinitionError(
                f"{where}: weight_rule must be one of {', '.join(WEIGHT_RULES)}, not {values['weight_rule']!r}"
            )
        self.weight_rule = str(values["weight_rule"])
        self.execution_timeout = seconds(values["execution_timeout"], "execution_timeout", where)
        self.wait_for_downstream = bool(values["wait_for_downstream"])
        self.depends_on_past = bool(values["depends_on_past"]) or self.wait_for_downstream
        self.ignore_first_depends_on_past = bool(values["ignore_first_depends_on_past"])
        self.do_xcom_push = bool(values["do_xcom_push"])
        self.is_setup = False
        self.is_teardown = False
        self.on_failure_fail_dagrun = False
        self._scopes: list[SetupTeardownScope] = []
        self.doc_md = values["doc_md"]
        template = values["map_index_template"]
        if template is not None and not isinstance(template, str):
            raise DagDefinitionError(f"{where}: map_index_template must be a string, not {template!r}")
        self.map_index_template: str | None = template
        self.params, self.param_schemas = checked_params(values["params"] or {}, where)
        self.outlets = check_assets(values["outlets"], "outlets", where)
        self.inlets = check_assets(values["inlets"], "inlets", where)
        self.task_display_name = display_name(values["task_display_name"], "task_display_name", where)
        self.start_date = as_utc(values["start_date"], "start_date", where)
        self.end_date = as_utc(values["end_date"], "end_date", where)
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise DagDefinitionError(f"{where}: end_date {self.end_date} is before start_date {self.start_date}")
        for kind in CALLBACK_KINDS:
            setattr(self, kind, checked_callbacks(values[kind], kind, where))
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        if self.dag is not None:
            self.dag.add_task(self)
            join_group(self, self.task_group)

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"

    @property
    def where(self) -> str:
        """How errors name this task: `DAG 'etl' in etl.py: task 'load'`."""
        task = f"task {self.task_id!r}"
        return f"{self.dag.label}: {task}" if self.dag is not None else task

    @property
    def output(self) -> XComArg:
        return XComArg(self)

    def execute(self, context: dict[str, Any]) -> Any:
        """Run the task inside a worker; custom operators override this and return their XCom value."""
        raise NotImplementedError(f"{type(self).__name__} does not implement execute(context)")

    def defer(
        self, *, trigger: Any, method_name: str, kwargs: dict[str, Any] | None = None, timeout: Any = None
    ) -> NoReturn:
        """Give the worker slot back until `trigger` fires in the triggerer; the task then resumes,
        in a new process and the same try, in `method_name(context, event=<payload>, **kwargs)`.
        Past `timeout` (a timedelta or seconds) the task fails with TaskDeferralTimeout."""
        raise TaskDeferred(trigger=trigger, method_name=method_name, kwargs=kwargs, timeout=timeout)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any], context: dict[str, Any]) -> Any:
        """Run the method a deferred task resumes in; "__fail__" is a trigger that timed out or failed."""
        if next_method == wire.RESUME_FAIL_METHOD:
            error = str(next_kwargs.get("error") or "the trigger failed")
            if error == wire.TRIGGER_TIMEOUT_ERROR:
                raise TaskDeferralTimeout(f"{self.where}: its trigger did not fire within the deferral timeout")
            raise TaskFailed(f"{self.where}: its trigger failed: {error}")
        method = getattr(self, next_method, None)
        if not callable(method):
            raise TaskFailedNoRetry(
                f"{self.where}: cannot resume in {next_method!r}: {type(self).__name__} has no such method"
            )
        return method(context, **next_kwargs)

    def wire_xcom_args(self) -> None:
        """Make the producers of XComArgs found in template fields upstream of this task, also those
        put into a string (`f"echo {task.output}"`), as the value is read when it runs (idempotent)."""
        fields = [getattr(self, name, None) for name in self.template_fields]
        for arg in find_xcom_args(fields):
            self.set_upstream(arg.operator)
        if self.dag is not None:
            for dag_id, task_id in _pulled_in_strings(fields):
                if dag_id == self.dag.dag_id and task_id in self.dag.task_dict and task_id != self.task_id:
                    self.set_upstream(self.dag.task_dict[task_id])

    def _relate(self, other: BaseOperator, upstream: bool) -> None:
        if self.dag is None or other.dag is None:
            lone = self if self.dag is None else other
            raise DagDefinitionError(
                f"task {lone.task_id!r} belongs to no DAG; create it inside `with DAG(...)` or pass dag="
            )
        if self.dag is not other.dag:
            raise DagDefinitionError(
                f"{self.where} and task {other.task_id!r} of {other.dag.label} are in different DAGs"
            )
        if other is self:
            raise DagDefinitionError(f"{self.where} depends on itself")
        parent, child = (other, self) if upstream else (self, other)
        parent.downstream_task_ids.add(child.task_id)
        child.upstream_task_ids.add(parent.task_id)

    def set_downstream(self, other: Any) -> None:
        for task in _tasks(other, roots=True):
            self._relate(task, upstream=False)

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """Airflow's `Operator.partial(...)`: the arguments every mapped instance shares."""
        return OperatorPartial(cls, kwargs)

    #: What the task is mapped over (tradewind.mapping); None for a task that is not mapped.
    expand_input: ExpandInput | None = None
    #: Placeholders passed to __init__ for mapped arguments it checks; each instance gets its own.
    mapped_placeholders: dict[str, Any] = {}

    def as_setup(self) -> BaseOperator:
        """Make this a setup task (Airflow's as_setup); returns the task."""
        mark_setup(self)
        return self

    def as_teardown(self, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> BaseOperator:
        """Make this a teardown task of `setups` (Airflow's as_teardown); returns the task."""
        mark_teardown(self, setups, on_failure_fail_dagrun)
        return self

    def __enter__(self) -> BaseOperator:
        self._scopes.append(SetupTeardownScope(self))
        return self

    def __exit__(self, *_: Any) -> None:
        self._scopes.pop().close()

    def set_upstream(self, other: Any) -> None:
        for task in _tasks(other, roots=False):
            self._relate(task, upstream=True)


class XComArg:
    """The future value of a task's XCom; `>>` and `<<` act on the task that produces it.

    `arg["key"]` (and `arg[0]`) reads into the pushed value on the worker, so the wire carries
    only the producer's (task_id, key) whether or not the producer set multiple_outputs.
    """

    def __init__(self, operator: BaseOperator, key: str = "return_value", path: tuple[Any, ...] = ()) -> None:
        self.operator = operator
        self.key = key
        self.path = path

    def __repr__(self) -> str:
        index = "".join(f"[{p!r}]" for p in self.path)
        return f"XComArg({self.operator.task_id!r}, {self.key!r}){index}"

    def __str__(self) -> str:
        """What Airflow renders an XComArg to inside a string: a template pulling its value, so an
        f-string or any templated field holding one gets the value at run time, not this text."""
        index = "".join(f"[{p!r}]" for p in self.path)
        dag_id = f", dag_id={self.operator.dag.dag_id!r}" if self.operator.dag is not None else ""
        return f"{{{{ task_instance.xcom_pull(task_ids={self.operator.task_id!r}{dag_id}, key={self.key!r}){index} }}}}"

    def __getitem__(self, item: str | int) -> XComArg:
        return XComArg(self.operator, self.key, (*self.path, item))

    def map(self, *_: Any) -> NoReturn:
        unsupported.not_yet("XComArg.map() (transforming mapped values)", f"task {self.operator.task_id!r}")

    def zip(self, *_: Any, **__: Any) -> NoReturn:
        unsupported.not_yet("XComArg.zip() (zipping mapped values)", f"task {self.operator.task_id!r}")

    def concat(self, *_: Any) -> NoReturn:
        unsupported.not_yet("XComArg.concat() (concatenating mapped values)", f"task {self.operator.task_id!r}")

    def __iter__(self) -> Any:
        raise TypeError(f"{self!r} is not iterable at parse time; index it, or pass it whole to another task")

    def __rshift__(self, other: Any) -> Any:
        return self.operator >> other

    def as_setup(self) -> XComArg:
        self.operator.as_setup()
        return self

    def as_teardown(self, setups: Any = None, on_failure_fail_dagrun: bool | None = None) -> XComArg:
        self.operator.as_teardown(setups, on_failure_fail_dagrun)
        return self

    def __enter__(self) -> XComArg:
        self.operator.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.operator.__exit__(*exc)

    def __lshift__(self, other: Any) -> Any:
        return self.operator << other

    def __rrshift__(self, other: Any) -> XComArg:
        self.operator.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> XComArg:
        self.operator.set_downstream(other)
        return self

    def resolve(self, inputs: dict[str, Any]) -> Any:
        """The value, from the XComs the coordinator sent ("task_id|key" -> value); None when there
        is none (the task returned None or did not push), as in Airflow."""
        value = inputs.get(f"{self.operator.task_id}|{self.key}")
        if value is None:
            return None
        for step in self.path:
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                raise TaskFailed(f"XCom {self.key!r} of task {self.operator.task_id!r} has no item {step!r}") from None
        return value


class OperatorPartial:
    """`SomeOperator.partial(**shared)`; `.expand(**mapped)` or `.expand_kwargs(list)` makes the
    mapped task, constructed once with the shared arguments, as Airflow's MappedOperator."""

    def __init__(self, operator: type[BaseOperator], kwargs: dict[str, Any]) -> None:
        if "task_id" not in kwargs:
            raise DagDefinitionError(f"{operator.__name__}.partial() needs a task_id")
        self.operator = operator
        self.kwargs = kwargs

    def _where(self) -> str:
        return f"{self.operator.__name__} {self.kwargs['task_id']!r}"

    def expand(self, **mapped: Any) -> BaseOperator:
        checked_expand(mapped, self._where())
        for name in mapped:
            if name in BASE_DEFAULTS:
                raise DagDefinitionError(f"{self._where()}: cannot map over {name!r}; pass it to partial() instead")
            if name in self.kwargs:
                raise DagDefinitionError(f"{self._where()}: {name!r} is given to both partial() and expand()")
        task = self._build(list(mapped))
        mark_mapped(task, ExpandInput("dict", mapped, "attributes"))
        return task

    def expand_kwargs(self, kwargs: Any) -> BaseOperator:
        value = checked_expand_kwargs(kwargs, self._where())
        task = self._build([name for name in self.operator.mapped_placeholders if name not in self.kwargs])
        mark_mapped(task, ExpandInput("list", value, "attributes"))
        return task

    def _build(self, mapped: list[str]) -> BaseOperator:
        placeholders = {name: self.operator.mapped_placeholders.get(name) for name in mapped}
        build: Any = self.operator
        return build(**self.kwargs, **placeholders)


def find_xcom_args(value: Any) -> list[XComArg]:
    """Every XComArg inside `value`, walking lists, tuples, sets and dict values, in order."""
    if isinstance(value, XComArg):
        return [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [found for item in value for found in find_xcom_args(item)]
    if isinstance(value, dict):
        return [found for item in value.values() for found in find_xcom_args(item)]
    return []


#: What str(XComArg) writes, so a string holding one names its producer.
_PULL = re.compile(r"task_instance\.xcom_pull\(task_ids=('[^']*'|\"[^\"]*\"), dag_id=('[^']*'|\"[^\"]*\")")


def _pulled_in_strings(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(dag_id[1:-1], task_id[1:-1]) for task_id, dag_id in _PULL.findall(value)]
    if isinstance(value, list | tuple | set | frozenset):
        return [found for item in value for found in _pulled_in_strings(item)]
    if isinstance(value, dict):
        return [found for item in value.values() for found in _pulled_in_strings(item)]
    return []


def resolve_xcom_args(value: Any, inputs: dict[str, Any], mapped: dict[str, Any] | None = None) -> Any:
    """`value` with every XComArg replaced by its value from `inputs`, and every argument of a
    mapped task group by this instance's own item from `mapped`."""
    if isinstance(value, XComArg):
        return value.resolve(inputs)
    if isinstance(value, MappedArgument):
        if mapped is None or value.name not in mapped:
            raise TaskFailed(f"mapped task group argument {value.name!r} has no value for this instance")
        return mapped[value.name]
    if isinstance(value, list):
        return [resolve_xcom_args(v, inputs, mapped) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_xcom_args(v, inputs, mapped) for v in value)
    if isinstance(value, dict):
        return {k: resolve_xcom_args(v, inputs, mapped) for k, v in value.items()}
    return value


def _apply_default_args(cls: type, kwargs: dict[str, Any]) -> None:
    """Fill the keyword arguments an operator class's __init__ methods name, and the call left
    out, from the DAG's and its task groups' default_args (BaseOperator's own are read there)."""
    dag = kwargs.get("dag") or current_dag()
    group = kwargs.get("task_group") or current_group(dag)
    defaults = {**(dag.default_args if dag is not None else {}), **(group.default_args if group is not None else {})}
    if not defaults:
        return
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is BaseOperator:
            continue
        for name in accepts(getattr(init, "__wrapped_init__", init))[0]:
            if name in defaults and name not in kwargs and name not in BASE_DEFAULTS and name != "self":
                kwargs[name] = defaults[name]


def _count(value: Any, what: str, where: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise DagDefinitionError(f"{where}: {what} must be an integer of at least {minimum}, not {value!r}")
    return value


def _tasks(value: Any, roots: bool) -> list[BaseOperator]:
    """The tasks an edge to `value` reaches: a group's roots when it is downstream, else its leaves."""
    if isinstance(value, BaseOperator):
        return [value]
    if isinstance(value, XComArg):
        return [value.operator]
    if isinstance(value, TaskGroup):
        return value.roots if roots else value.leaves
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | dict):
        return [task for item in value for task in _tasks(item, roots)]
    raise DagDefinitionError(
        f"cannot set a dependency on {value!r}: not a task, a task group, an XComArg or a list of them"
    )


def chain(*elements: Any) -> None:
    """Airflow's chain(): each element downstream of the previous; two adjacent lists pair up."""
    for left, right in zip(elements, elements[1:], strict=False):
        if isinstance(left, list | tuple) and isinstance(right, list | tuple):
            if len(left) != len(right):
                raise DagDefinitionError(
                    f"chain(): adjacent lists must have the same length, not {len(left)} and {len(right)}"
                )
            for up, down in zip(left, right, strict=True):
                for task in _tasks(up, roots=False):
                    task.set_downstream(down)
        else:
            for task in _tasks(left, roots=False):
                task.set_downstream(right)


def accepts(function: Any) -> tuple[set[str], list[str], bool]:
    """Keyword-passable parameter names, positional names in order, and whether it takes **kwargs."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return set(), [], False
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return names, positional, any(p.kind is p.VAR_KEYWORD for p in parameters)
