"""Bash payloads: `bash -c command` with Airflow's env semantics and skip exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tradewind.v1 import payload_pb2
from worker.payloads import FAILED, SKIPPED, SUCCESS, Launch, Result, describe_exit


def prepare(payload: payload_pb2.BashPayload, workdir: Path) -> Launch:
    env: dict[str, str] | None = None
    if payload.env:
        env = {**os.environ, **payload.env} if payload.append_env else dict(payload.env)
    return Launch(
        "tradewind.forkserver:exec_command",
        {"argv": ["bash", "-c", payload.bash_command]},
        payload.cwd or str(workdir),
        env,
    )


def interpret(payload: payload_pb2.BashPayload, returncode: int, output_tail: bytes = b"") -> Result:
    """A success returns the last line of output (stdout and stderr together) as Airflow does."""
    if returncode == 0:
        return Result(SUCCESS, "", json.dumps(last_line(output_tail)))
    if returncode in payload.skip_on_exit_code:
        return Result(SKIPPED, f"Bash command returned exit code {returncode}: skipped")
    if returncode < 0:
        return Result(FAILED, f"Bash command was {describe_exit(returncode)}")
    return Result(FAILED, f"Bash command failed with exit code {returncode}")


def last_line(output: bytes) -> str:
    """The line Airflow keeps: the last one read, without its line end or trailing blanks."""
    text = output.decode(errors="replace")
    if text.endswith("\n"):
        text = text[:-1]
    return text.rsplit("\n", 1)[-1].rstrip()
