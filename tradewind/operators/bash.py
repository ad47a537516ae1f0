"""BashOperator: a shell command; exit 0 succeeds, skip_on_exit_code (99) skips, others fail."""

from __future__ import annotations

from typing import Any

from tradewind.baseoperator import BaseOperator
from tradewind.exceptions import DagDefinitionError


class BashOperator(BaseOperator):
    kind = "bash"
    template_fields = ("bash_command", "env", "cwd")

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
        where = f"task {task_id!r}"
        if not isinstance(bash_command, str) or not bash_command.strip():
            raise DagDefinitionError(f"{where}: bash_command must be a non-empty string, not {bash_command!r}")
        if env is not None and not (isinstance(env, dict) and all(isinstance(k, str) for k in env)):
            raise DagDefinitionError(f"{where}: env must be a dict of strings, not {env!r}")
        self.bash_command = bash_command
        self.env = {k: str(v) for k, v in env.items()} if env is not None else None
        self.append_env = bool(append_env)
        self.cwd = cwd
        if skip_on_exit_code is None:
            codes: list[int] = []
        elif isinstance(skip_on_exit_code, int):
            codes = [skip_on_exit_code]
        else:
            codes = [int(c) for c in skip_on_exit_code]
        self.skip_on_exit_code = codes

    def describe(self) -> dict[str, Any]:
        return {
            "bash_command": self.bash_command,
            "env": self.env,
            "append_env": self.append_env,
            "cwd": self.cwd,
            "skip_on_exit_code": self.skip_on_exit_code,
        }
