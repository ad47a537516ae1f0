"""What a worker is sent for one attempt: the typed payload with every template rendered.

Rendering happens here, on the coordinator, so a worker in any language runs exactly what it
is given; a template that fails to render fails the attempt with the template's error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from coordinator.records import TaskInstance
from tradewind.templates import build_context, context_to_json, render


@dataclass(frozen=True)
class Payload:
    kind: str
    fields: dict[str, Any]
    #: The rendered command or call, stored on the attempt for people to read.
    rendered: str


def context_for(ti: TaskInstance) -> dict[str, Any]:
    run = ti.run
    return build_context(
        dag_id=run.dag_id,
        task_id=ti.task_id,
        run_id=run.run_id,
        logical_date=run.logical_date,
        data_interval_start=run.data_interval_start,
        data_interval_end=run.data_interval_end,
        params=run.dag.params,
        conf=run.conf,
        try_number=ti.try_number,
        run_type=run.run_type,
    )


def build(ti: TaskInstance) -> Payload:
    """Raises TemplateError when a template does not render."""
    spec = ti.spec
    context = context_for(ti)
    if spec.kind == "bash":
        bash = spec.bash or {}
        command = render(bash.get("bash_command", ""), context)
        env = render(bash.get("env") or {}, context)
        cwd = render(bash.get("cwd") or "", context)
        return Payload(
            "bash",
            {
                "bash_command": command,
                "env": {str(k): str(v) for k, v in env.items()},
                "append_env": bool(bash.get("append_env", False)),
                "cwd": cwd,
                "skip_on_exit_code": list(bash.get("skip_on_exit_code") or []),
            },
            command,
        )
    python = spec.python or {}
    inputs = {
        f"{task_id}|{key}": json.loads(ti.run.xcoms[(task_id, key)])
        for task_id, key in python.get("xcom_inputs", [])
        if (task_id, key) in ti.run.xcoms
    }
    rendered = (
        f"{python.get('callable', spec.operator)}({python.get('op_args_repr', '')}, {python.get('op_kwargs_repr', '')})"
    )
    return Payload(
        "python",
        {
            "bundle_hash": ti.run.dag.bundle_hash,
            "dag_file": ti.run.dag.fileloc,
            "dag_id": ti.run.dag_id,
            "task_id": ti.task_id,
            "xcom_inputs_json": json.dumps(inputs),
            "context_json": context_to_json(context),
        },
        rendered,
    )
