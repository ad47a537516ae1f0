"""A Bash task with callbacks: a Python task process that runs its callbacks around `bash -c`.

The process loads the task from the DAG bundle, runs on_execute_callback, runs the command with
its output passed through (keeping the last line, the task's XCom, in LAST_LINE_FILE, so a
callback's own output never becomes the XCom), runs the callback for how it ended, and exits as
the command did, so the worker reads the outcome exactly as for a plain Bash task.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tradewind.v1 import payload_pb2, worker_pb2
from worker.payloads import Launch
from worker.payloads.bash import last_line
from worker.payloads.bash import prepare as prepare_plain

#: Where the process leaves the command's last line of output, in the attempt's directory.
LAST_LINE_FILE = "bash_last_line.json"


def prepare(
    payload: payload_pb2.BashPayload, workdir: Path, bundle_dir: Path, callbacks: worker_pb2.TaskCallbacks, task: str
) -> Launch:
    """`task` is "dag_id|task_id"; the command runs with the plain Bash task's cwd and env."""
    plain = prepare_plain(payload, workdir)
    dag_id, task_id = task.split("|", 1)
    return Launch(
        "worker.payloads.bash_callbacks:run",
        {
            "argv": plain.kwargs["argv"],
            "bundle_dir": str(bundle_dir),
            "dag_file": callbacks.dag_file,
            "dag_id": dag_id,
            "task_id": task_id,
            "context_json": callbacks.context_json,
            "retry_left": callbacks.retry_left,
            "skip_codes": list(payload.skip_on_exit_code),
            "workdir": str(workdir),
        },
        plain.cwd,
        plain.env,
        ("tradewind.execution:warm_dag_file", {"bundle_dir": str(bundle_dir), "dag_file": callbacks.dag_file}),
    )


def run(
    argv: list[str],
    bundle_dir: str,
    dag_file: str,
    dag_id: str,
    task_id: str,
    context_json: str,
    retry_left: bool,
    skip_codes: list[int],
    workdir: str,
) -> None:
    """Runs in the forked child."""
    import logging
    import subprocess
    import sys
    import traceback

    from tradewind.callbacks import kind_for, mark_ran, run_callbacks, stop_outcome
    from tradewind.execution import load_task
    from tradewind.templates import context_from_json

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="[%(asctime)s] %(levelname)s - %(message)s")
    stopped: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    task, context = None, {}
    try:
        context = context_from_json(context_json)
        task = load_task(Path(bundle_dir), dag_file, dag_id, task_id)
    except Exception:  # noqa: BLE001 - the command still runs; only its callbacks cannot
        traceback.print_exc()
    if task is not None:
        run_callbacks(task, "on_execute_callback", context)
    sys.stdout.flush()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert child.stdout is not None
    tail = b""
    out = sys.stdout.buffer
    while chunk := os.read(child.stdout.fileno(), 65536):
        out.write(chunk)
        out.flush()
        tail = (tail + chunk)[-65536:]
    code = child.wait()
    (Path(workdir) / LAST_LINE_FILE).write_text(json.dumps(last_line(tail)))
    if stopped or code < 0:
        ended = stop_outcome(Path(workdir))
    else:
        ended = "success" if code == 0 else "skipped" if code in skip_codes else "failed"
    kind = kind_for(ended, retry_left)
    if task is not None and kind is not None:
        failure = None if ended in ("success", "skipped") else RuntimeError(f"Bash command ended with {code} ({ended})")
        run_callbacks(task, kind, context, failure)
    if task is not None:
        mark_ran(Path(workdir))
    sys.stdout.flush()
    sys.stderr.flush()
    if code < 0 or stopped:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), -code if code < 0 else signal.SIGTERM)
    os._exit(code)
