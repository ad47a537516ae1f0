"""Running one Python task inside a worker's child process, and turning its end into an outcome."""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from tradewind import xcom_codec
from tradewind.baseoperator import BaseOperator, resolve_xcom_args
from tradewind.compat.airflow import airflow_imports
from tradewind.dag import DAG
from tradewind.dagbag import load_dag_file
from tradewind.exceptions import SerializationError, TaskDeferred, TaskFailedNoRetry, TaskRescheduled, TaskSkipped
from tradewind.serialization import xcom_inputs_of
from tradewind.templates import compiled, render

__all__ = [
    "deferral_of",
    "encode_return_value",
    "load_task",
    "outcome_of",
    "run_python_task",
    "warm_dag_file",
    "xcom_inputs_of",
]

#: DAG files imported ahead of time by warm_dag_file, keyed by (bundle_dir, dag_file), with the
#: bundle's modules that import brought in.
_LOADED: dict[tuple[str, str], tuple[dict[str, DAG], dict[str, ModuleType]]] = {}


def warm_dag_file(bundle_dir: str, dag_file: str) -> None:
    """Import a DAG file in a fork server, so the task children forked after it skip the import.

    The server hosts many bundles over its life: the bundle's own modules (the DAG file, its
    helpers) leave sys.modules and its folder leaves sys.path afterwards, so another bundle's
    `import helper` finds its own helper, not this one's."""
    with _bundle_imports(Path(bundle_dir)) as modules:
        dags = _load(Path(bundle_dir), dag_file)
    _LOADED[(bundle_dir, dag_file)] = dags, modules
    for dag in dags.values():
        _warm_templates(dag)


def _warm_templates(dag: DAG) -> None:
    """Compile the DAG's task templates and render one, so the Jinja lexer (dozens of regular
    expressions), the templates and the context's lazy parts are built once in the fork server,
    not in every task child: there they cost tens of milliseconds, before a deferred task resumes."""
    from datetime import UTC, datetime

    from tradewind.templates import build_context

    moment = datetime(2000, 1, 1, tzinfo=UTC)
    context = build_context(
        dag_id="warm",
        task_id="warm",
        run_id="warm",
        logical_date=moment,
        data_interval_start=moment,
        data_interval_end=moment,
        params={},
        conf={},
        try_number=1,
        run_type="manual",
    )
    settings = dag.template_settings
    with contextlib.suppress(Exception):
        render("{{ ds }}", context, settings)
    for task in dag.tasks:
        for source in _template_sources([getattr(task, name, None) for name in task.template_fields]):
            with contextlib.suppress(Exception):  # a broken template fails its task, later
                compiled(settings, source)


def _template_sources(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if "{{" in value or "{%" in value or "{#" in value else []
    if isinstance(value, list | tuple):
        return [s for item in value for s in _template_sources(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _template_sources(item)]
    return []


def run_python_task(
    bundle_dir: Path,
    dag_file: str,
    dag_id: str,
    task_id: str,
    xcom_inputs: dict[str, Any],
    context: dict[str, Any],
    resume: tuple[str, dict[str, Any]] | None = None,
    mapped: dict[str, Any] | None = None,
) -> Any:
    """Import the DAG file from the bundle, find the task and run it; returns its XCom value.
    With `resume` (a method and its keyword arguments), a deferred task resumes in that method.

    `xcom_inputs` maps "task_id|key" to the upstream values the task reads. Templates are
    rendered before XComs are put in, so an upstream value is never itself read as a template.
    `mapped` holds a mapped task instance's own expanded arguments: those written in the DAG
    file are set before rendering, so their templates render; those from XComs after, as data.
    """
    found = load_task(bundle_dir, dag_file, dag_id, task_id)
    task = copy.copy(found)
    if task.map_index_template is not None:
        context["map_index_template"] = task.map_index_template
    settings = found.dag.template_settings if found.dag is not None else None
    late: dict[str, Any] = {}
    if mapped is not None and task.expand_input is not None:
        written = {name: value for name, value in mapped.items() if task.expand_input.literal(name)}
        late = {name: value for name, value in mapped.items() if name not in written}
        _apply_mapped(task, written)
    for field in task.template_fields:
        value = render(getattr(task, field, None), context, settings)
        setattr(task, field, resolve_xcom_args(value, xcom_inputs, mapped))
    _apply_mapped(task, late)
    with airflow_imports():  # a task may import from airflow as it runs
        if resume is not None:
            return task.resume_execution(resume[0], resume[1], context)
        return task.execute(context)


def load_task(bundle_dir: Path, dag_file: str, dag_id: str, task_id: str) -> BaseOperator:
    """The task as its DAG file defines it, from the warm import when the fork server made one."""
    warm = _LOADED.get((str(bundle_dir), dag_file))
    if warm is not None:
        dags, modules = warm
        if str(bundle_dir.resolve()) not in sys.path:
            sys.path.insert(0, str(bundle_dir.resolve()))  # the task's own late `import helper`
        sys.modules.update(modules)
    else:
        dags = _load(bundle_dir, dag_file)
    if dag_id not in dags:
        raise TaskFailedNoRetry(f"{dag_file} no longer defines DAG {dag_id!r}")
    found = dags[dag_id].task_dict.get(task_id)
    if found is None:
        raise TaskFailedNoRetry(f"DAG {dag_id!r} in {dag_file} no longer has task {task_id!r}")
    return found


def deferral_of(exc: TaskDeferred) -> dict[str, Any]:
    """What a deferring task hands its worker (worker.proto Deferral), as JSON-ready values."""
    serialize = getattr(exc.trigger, "serialize", None)
    if not callable(serialize):
        raise SerializationError(f"defer(trigger=...) needs a trigger with serialize(), not {exc.trigger!r}")
    classpath, kwargs = serialize()
    timeout = exc.timeout
    if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0):
        raise SerializationError(f"defer(timeout=...) must be a timedelta or seconds, not {timeout!r}")
    return {
        "trigger_classpath": classpath,
        "trigger_kwargs_json": xcom_codec.dumps(kwargs),
        "next_method": exc.method_name,
        "next_kwargs_json": xcom_codec.dumps(exc.kwargs),
        "timeout_seconds": float(timeout or 0.0),
    }


def _apply_mapped(task: Any, mapped: dict[str, Any]) -> None:
    if not mapped:
        return
    target = task.expand_input.target
    if target == "op_kwargs":
        task.op_kwargs = {**task.op_kwargs, **mapped}
    elif target == "attributes":
        for name, value in mapped.items():
            setattr(task, name, value)


def rendered_map_index(context: dict[str, Any], map_index: int) -> str:
    """A mapped instance's name: its map_index_template rendered with the context after the task
    ran, so a value the task put into it (`get_current_context()["name"] = ...`) is seen, as in
    Airflow. Empty for a task that is not mapped or has no template, or whose template fails."""
    template = context.get("map_index_template")
    if map_index < 0 or not template:
        return ""
    try:
        return str(render(template, context))
    except Exception as exc:  # noqa: BLE001 - the name is for people; the task's own outcome stands
        print(f"map_index_template did not render: {exc}", file=sys.stderr)
        return ""


def encode_return_value(value: Any, task_id: str = "") -> str:
    """JSON of a task's return value, as stored in the "return_value" XCom; empty for None (no XCom)."""
    if value is None:
        return ""
    try:
        return xcom_codec.dumps(value)
    except SerializationError as exc:
        raise SerializationError(
            f"task {task_id!r} returned a {type(value).__name__}, which cannot be stored as an XCom: {exc}"
        ) from None


def outcome_of(exc: BaseException | None) -> tuple[str, str]:
    """The outcome ("success", "skipped", "up_for_reschedule", "deferred", "failed_no_retry" or
    "failed") and a one-line reason."""
    if exc is None:
        return "success", ""
    if isinstance(exc, TaskRescheduled):
        return "up_for_reschedule", ""
    if isinstance(exc, TaskDeferred):
        return "deferred", ""
    if isinstance(exc, TaskSkipped):
        return "skipped", _first_line(exc) or "skipped"
    if isinstance(exc, TaskFailedNoRetry):
        return "failed_no_retry", _first_line(exc) or "failed without retry"
    line = _first_line(exc)
    return "failed", f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


@contextlib.contextmanager
def _bundle_imports(bundle_dir: Path) -> Iterator[dict[str, ModuleType]]:
    """Modules imported from `bundle_dir` inside the block are taken out of sys.modules into the
    dict it yields; sys.path is restored."""
    root = bundle_dir.resolve()
    path, before = list(sys.path), set(sys.modules)
    taken: dict[str, ModuleType] = {}
    try:
        yield taken
    finally:
        for name in set(sys.modules) - before:
            if _within(sys.modules[name], root):
                taken[name] = sys.modules.pop(name)
        sys.path[:] = path


def _within(module: ModuleType, root: Path) -> bool:
    places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
    return any(place and Path(place).resolve().is_relative_to(root) for place in places)


def _load(bundle_dir: Path, dag_file: str) -> dict[str, DAG]:
    return {d.dag_id: d for d in load_dag_file(bundle_dir / dag_file, bundle_dir)}
