"""BashOperator: a shell command; exit 0 succeeds, skip_on_exit_code (99) skips, others fail.

Its templates are rendered by the coordinator, so a worker in any language can run it.
"""

from __future__ import annotations

from typing import Any

from tradewind.baseoperator import BaseOperator
from tradewind.exceptions import DagDefinitionError


class BashOperator(BaseOperator):
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
        where = self.where
        if not isinstance(bash_command, str) or not bash_command.strip():
            raise DagDefinitionError(f"{where}: bash_command must be a non-empty string, not {bash_command!r}")
        if env is not None and not (
            isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
        ):
            raise DagDefinitionError(f"{where}: env must be a dict of strings to strings, not {env!r}")
        if cwd is not None and not isinstance(cwd, str):
            raise DagDefinitionError(f"{where}: cwd must be a string, not {cwd!r}")
        self.bash_command = bash_command
        self.env = dict(env) if env is not None else None
        self.append_env = bool(append_env)
        self.cwd = cwd
        self.skip_on_exit_code = _exit_codes(skip_on_exit_code, where)


def _exit_codes(value: Any, where: str) -> list[int]:
    if value is None:
        return []
    codes = [value] if isinstance(value, int) else value
    if isinstance(codes, list | tuple | set) and all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
        return sorted(set(codes))
    raise DagDefinitionError(
        f"{where}: skip_on_exit_code must be an integer, a list of integers or None, not {value!r}"
    )
