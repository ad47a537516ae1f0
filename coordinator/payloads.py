"""What a worker is sent for one attempt: the typed payload with every template rendered.

Rendering happens here, on the coordinator, so a worker in any language runs exactly what it
is given; a template that fails to render fails the attempt with the template's error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from coordinator.dagspec import DagSpec
from coordinator.mapspec import MappingError, same_group
from coordinator.records import AssetEvent, LastSuccess, Run, TaskInstance
from coordinator.secrets import Secrets
from tradewind import wire, xcom_codec
from tradewind.exceptions import TemplateError
from tradewind.params import conf_error
from tradewind.serialization import REPR_LIMIT, SLOT
from tradewind.templates import build_context, context_to_json, render, render_value

#: URI -> (how many events the asset has had, its newest events, oldest first).
Inlets = dict[str, tuple[int, list[AssetEvent]]]
#: At most this much JSON of inlet events goes to one task (its payload stays far below the
#: 16 MiB message limit whatever the events' extras hold).
INLET_BYTES = 1 << 20


@dataclass(frozen=True)
class Payload:
    kind: str
    fields: dict[str, Any]
    #: The rendered command or call, stored on the attempt for people to read.
    rendered: str
    #: The task's callbacks for the worker (worker.proto TaskCallbacks), None when it has none.
    callbacks: dict[str, Any] | None = None
    #: A mapped bash instance's map_index_template, rendered (a Python task's is rendered after it ran).
    rendered_map_index: str = ""
    #: (key, JSON) of the XComs its templates pushed (`{{ ti.xcom_push(...) }}`), stored when it is sent.
    xcom_pushes: tuple[tuple[str, str], ...] = ()


def context_for(
    ti: TaskInstance,
    last_success: LastSuccess | None = None,
    secrets: Secrets | None = None,
    inlets: Inlets | None = None,
) -> dict[str, Any]:
    """The task's template context; `ti.xcom_pull` reads the run's XComs, so an XComArg inside a
    string (`f"echo {task.output}"`) renders to its value. `last_success` is the DAG's latest
    successful run: the prev_*_success names are its dates when it is older than this run.
    `var` and `conn` read the coordinator's copy of the metastore's (`secrets`), never the
    metastore itself. `inlets` are the recent events of the task's inlets (URI -> (count, newest
    events))."""
    run = ti.run
    previous = last_success if last_success is not None and last_success.logical_date < run.logical_date else None
    context = build_context(
        dag_id=run.dag_id,
        task_id=ti.task_id,
        run_id=run.run_id,
        logical_date=run.logical_date,
        data_interval_start=run.data_interval_start,
        data_interval_end=run.data_interval_end,
        params=run.dag.params,
        task_params=ti.spec.params,
        conf=run.conf,
        try_number=ti.try_number,
        run_type=run.run_type,
        prev_data_interval_start_success=previous.data_interval_start if previous else None,
        prev_data_interval_end_success=previous.data_interval_end if previous else None,
        prev_start_date_success=previous.start_date if previous else None,
        triggering_asset_events=[_event_json(event, run.dag) for event in run.asset_events],
        inlet_events=_inlet_json(inlets, run.dag) if inlets else None,
    )
    refused = conf_error(context["params"], ti.spec.param_schemas, {})
    if refused:
        raise TemplateError(f"task {ti.task_id!r}: {refused}")
    context["ti"] = context["task_instance"] = RunXComs(context["ti"], run, ti)
    context.update((secrets or Secrets()).template_names())
    return {**run.dag.data.get("user_defined_macros", {}), **context}


def _event_json(event: AssetEvent, dag: DagSpec) -> dict[str, Any]:
    names = {a["uri"]: a["name"] for a in dag.data.get("assets", ())}
    return {
        "id": event.id,
        "uri": event.uri,
        "name": names.get(event.uri, event.uri),
        "extra": event.extra,
        "timestamp": event.timestamp.isoformat(),
        "source_dag_id": event.source_dag_id,
        "source_run_id": event.source_run_id,
        "source_task_id": event.source_task_id,
        "source_map_index": event.source_map_index,
        "source_aliases": list(event.source_aliases),
    }


def _inlet_json(inlets: Inlets, dag: DagSpec) -> dict[str, dict[str, Any]]:
    """Each inlet's event count and as many of its newest events as fit in INLET_BYTES in all."""
    out: dict[str, dict[str, Any]] = {}
    budget = INLET_BYTES
    for uri, (count, events) in inlets.items():
        kept: list[dict[str, Any]] = []
        for event in reversed(events):
            item = _event_json(event, dag)
            budget -= len(json.dumps(item))
            if budget < 0:
                break
            kept.append(item)
        out[uri] = {"count": count, "events": kept[::-1]}
    return out


def _filled(call: str, templates: list[list[Any]], context: dict[str, Any]) -> str:
    """A Python task's call as people read it: each template's slot holds its rendered value, as
    the worker will render it (the raw template when it needs what only the worker has)."""
    for number, (template, is_value) in enumerate(templates):
        try:
            value: Any = render_value(template, context) if is_value else render(template, context)
        except TemplateError:
            value = template
        text = repr(value)
        if len(text) > REPR_LIMIT:
            text = text[: REPR_LIMIT - 3] + "..."
        call = call.replace(f"{SLOT}{number}{SLOT}", text)
    return call if len(call) <= 4 * REPR_LIMIT else call[: 4 * REPR_LIMIT - 3] + "..."


class RunXComs:
    """The context's task instance on the coordinator: its names, xcom_pull over the run's XComs,
    and xcom_push, whose values are stored when the attempt is sent (Airflow renders a task's
    templates as it starts, so `{{ ti.xcom_push(...) }}` in a bash command pushes then)."""

    def __init__(self, ti: Any, run: Run, reader: TaskInstance | None = None) -> None:
        self._ti, self._run, self._reader = ti, run, reader
        #: (key, JSON) of each xcom_push a template made, in order.
        self.pushes: list[tuple[str, str]] = []

    def xcom_push(self, key: str, value: Any, **_ignored: Any) -> None:
        """Airflow's xcom_push; it renders as None, as in Airflow."""
        if not isinstance(key, str) or not key or len(key) > wire.MAX_XCOM_KEY_CHARS or "\x00" in key:
            raise TemplateError(f"xcom_push: key must be 1 to {wire.MAX_XCOM_KEY_CHARS} characters, not {key!r}")
        text = xcom_codec.dumps(value)
        if len(text.encode()) > wire.MAX_RETURN_VALUE_BYTES:
            raise TemplateError(
                f"xcom_push: the value of {key!r} is {len(text.encode()) / wire.MiB:.1f} MB; "
                f"the limit is {wire.MAX_RETURN_VALUE_BYTES // wire.MiB} MB"
            )
        self.pushes.append((key, text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ti, name)

    @property
    def map_index(self) -> int:
        return self._reader.map_index if self._reader is not None else -1

    def xcom_pull(
        self,
        task_ids: str | list[str] | tuple[str, ...] | None = None,
        dag_id: str | None = None,
        key: str = "return_value",
        default: Any = None,
        **_ignored: Any,
    ) -> Any:
        """Airflow's xcom_pull for one run: a value (or `default`) for one task id, a list for several."""
        if dag_id not in (None, self._run.dag_id):
            raise TemplateError(f"xcom_pull: a template can pull only its own DAG's XComs, not DAG {dag_id!r}'s")
        if task_ids is None:
            raise TemplateError("xcom_pull in a template needs task_ids")
        if isinstance(task_ids, str):
            return self._one(task_ids, key, default)
        return [self._one(task_id, key, default) for task_id in task_ids]

    def _one(self, task_id: str, key: str, default: Any) -> Any:
        found, value = xcom_value(self._run, task_id, key, self._reader)
        return value if found else default


def _templated(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value or "{#" in value
    if isinstance(value, dict):
        return any(_templated(k) or _templated(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(map(_templated, value))
    return False


def build(
    ti: TaskInstance,
    last_success: LastSuccess | None = None,
    secrets: Secrets | None = None,
    inlets: Inlets | None = None,
    mapped: dict[str, Any] | None = None,
) -> Payload:
    """Raises TemplateError when a template does not render, MappingError when a mapped bash
    field is of the wrong type. `mapped` is a mapped task instance's own expanded arguments. The
    `rendered` text people read has every stored password and sensitive variable value masked."""
    secrets = secrets or Secrets()
    spec = ti.spec
    if spec.kind == "bash":
        written = {k: v for k, v in (mapped or {}).items() if spec.mapping is not None and spec.mapping.literal(k)}
        late = {k: v for k, v in (mapped or {}).items() if k not in written}
        bash = {**(spec.bash or {}), **written}
        fields = (bash.get("bash_command", ""), bash.get("env") or {}, bash.get("cwd") or "")
        named = ti.map_index >= 0 and bool(spec.map_index_template)
        # Most commands hold no template; building the context is most of a dispatch's CPU.
        templated = spec.callbacks or named or any(map(_templated, fields))
        context = context_for(ti, last_success, secrets, inlets) if templated else {}
        command, env, cwd = (render(value, context) for value in fields)
        command, env, cwd = late.get("bash_command", command), late.get("env", env), late.get("cwd", cwd)
        if not isinstance(command, str) or not isinstance(env, dict) or not isinstance(cwd, str):
            raise MappingError(
                f"task {ti.task_id!r} got a bash_command, env or cwd of the wrong type from the XCom it is mapped "
                f"over: bash_command must be a string (not {type(command).__name__}), env a dict, cwd a string"
            )
        name = str(render(spec.map_index_template, context)) if named else ""
        return Payload(
            "bash",
            {
                "bash_command": command,
                "env": {str(k): str(v) for k, v in env.items()},
                "append_env": bool(bash.get("append_env", False)),
                "cwd": cwd,
                "skip_on_exit_code": list(bash.get("skip_on_exit_code") or []),
            },
            secrets.redact(command),
            callbacks=_callbacks(ti, context),
            rendered_map_index=name[: wire.MAX_RENDERED_MAP_INDEX_CHARS],
            xcom_pushes=tuple(context["ti"].pushes) if context else (),
        )
    context = context_for(ti, last_success, secrets, inlets)
    python = spec.python or {}
    inputs = {}
    for task_id, key in python.get("xcom_inputs", []):
        found, value = xcom_value(ti.run, task_id, key, ti)
        if found:
            inputs[f"{task_id}|{key}"] = value
    call = python.get("call_repr")
    arguments = (
        _filled(call, python.get("templates", []), context)
        if call
        else f"{python.get('op_args_repr', '')}, {python.get('op_kwargs_repr', '')}"
    )
    rendered = secrets.redact(f"{python.get('callable', spec.operator)}({arguments})")
    return Payload(
        "python",
        {
            "bundle_hash": ti.run.dag.bundle_hash,
            "dag_file": ti.run.dag.fileloc,
            "dag_id": ti.run.dag_id,
            "task_id": ti.task_id,
            "xcom_inputs_json": xcom_codec.dumps(inputs),
            "context_json": context_to_json(context),
            "mapped_kwargs_json": xcom_codec.dumps(mapped) if mapped is not None else "",
        },
        rendered,
        _callbacks(ti, context),
    )


def _callbacks(ti: TaskInstance, context: dict[str, Any]) -> dict[str, Any] | None:
    if not ti.spec.callbacks:
        return None
    return {
        "bundle_hash": ti.run.dag.bundle_hash,
        "dag_file": ti.run.dag.fileloc,
        "context_json": context_to_json(context),
        "kinds": list(ti.spec.callbacks),
        "retry_left": ti.try_number < ti.max_tries,
    }


def xcom_value(run: Run, task_id: str, key: str, reader: TaskInstance | None) -> tuple[bool, Any]:
    """A task's XCom as a reader sees it: (found, decoded value). A mapped task's is the list of
    its instances' values in map-index order (those that pushed one), except for a reader of its
    own mapped task group, which reads its own index's value."""
    instances = run.mapped.get(task_id)
    if instances is None:
        text = run.xcoms.get((task_id, -1, key))
        return (False, None) if text is None else (True, xcom_codec.loads(text))
    if reader is not None and reader.map_index >= 0 and same_group(run.dag.tasks[task_id].mapping, reader.spec.mapping):
        text = run.xcoms.get((task_id, reader.map_index, key))
        return (False, None) if text is None else (True, xcom_codec.loads(text))
    texts = [run.xcoms.get((task_id, i.map_index, key)) for i in instances]
    return True, [xcom_codec.loads(t) for t in texts if t is not None]
