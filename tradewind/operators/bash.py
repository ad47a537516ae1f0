"""BashOperator: a shell command; exit 0 succeeds, skip_on_exit_code (99) skips, others fail.

Its templates are rendered by the coordinator, so a worker in any language can run it; its last
line of output (stdout and stderr together, as in Airflow) is its return_value XCom. @task.bash
computes its command in Python at run time, so it runs in its task process instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

from tradewind.baseoperator import BaseOperator
from tradewind.exceptions import DagDefinitionError, TaskFailed, TaskSkipped
from tradewind.operators.python import PythonOperator
from tradewind.templates import render


class BashOperator(BaseOperator):
    template_fields = ("bash_command", "env", "cwd")
    template_ext = (".sh", ".bash")
    mapped_placeholders = {"bash_command": "true"}

    def __init__(
        self,
        *,
        task_id: str,
        bash_command: str,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        cwd: str | None = None,
        skip_on_exit_code: int | list[int] | None = 99,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        where = self.where
        if not isinstance(bash_command, str) or not bash_command.strip():
            raise DagDefinitionError(f"{where}: bash_command must be a non-empty string, not {bash_command!r}")
        self.bash_command = bash_command
        self.env, self.append_env, self.cwd, self.skip_on_exit_code = _shell_options(
            env, append_env, cwd, skip_on_exit_code, where
        )


class BashDecoratedOperator(PythonOperator):
    """@task.bash: the function returns the command, rendered as a template and run with bash."""

    def __init__(
        self,
        *,
        env: dict[str, str] | None = None,
        append_env: bool = False,
        cwd: str | None = None,
        skip_on_exit_code: int | list[int] | None = 99,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.env, self.append_env, self.cwd, self.skip_on_exit_code = _shell_options(
            env, append_env, cwd, skip_on_exit_code, self.where
        )

    def execute(self, context: dict[str, Any]) -> Any:
        command = super().execute(context)
        if not isinstance(command, str) or not command.strip():
            raise TaskFailed(
                f"{self.where}: the TaskFlow callable of @task.bash must return a non-empty string, not {command!r}"
            )
        command = render(command, context)
        env = None
        if self.env:
            env = {**os.environ, **self.env} if self.append_env else dict(self.env)
        line = ""
        with (
            tempfile.TemporaryDirectory() as scratch,
            subprocess.Popen(
                ["bash", "-c", command],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.cwd or scratch,
                env=env,
            ) as process,
        ):
            assert process.stdout is not None
            for raw in process.stdout:
                text = raw.decode(errors="replace")
                sys.stdout.write(text)
                sys.stdout.flush()
                line = text.rstrip()
            code = process.wait()
        if code in self.skip_on_exit_code:
            raise TaskSkipped(f"Bash command returned exit code {code}: skipped")
        if code != 0:
            raise TaskFailed(f"Bash command failed with exit code {code}")
        return line


def _shell_options(
    env: Any, append_env: Any, cwd: Any, skip_on_exit_code: Any, where: str
) -> tuple[dict[str, str] | None, bool, str | None, list[int]]:
    if env is not None and not (
        isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
    ):
        raise DagDefinitionError(f"{where}: env must be a dict of strings to strings, not {env!r}")
    if cwd is not None and not isinstance(cwd, str):
        raise DagDefinitionError(f"{where}: cwd must be a string, not {cwd!r}")
    return dict(env) if env is not None else None, bool(append_env), cwd, _exit_codes(skip_on_exit_code, where)


def _exit_codes(value: Any, where: str) -> list[int]:
    if value is None:
        return []
    codes = [value] if isinstance(value, int) else value
    if isinstance(codes, list | tuple | set) and all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
        return sorted(set(codes))
    raise DagDefinitionError(
        f"{where}: skip_on_exit_code must be an integer, a list of integers or None, not {value!r}"
    )
