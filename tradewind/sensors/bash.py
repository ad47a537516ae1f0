"""BashSensor: the poke is a bash command; exit code 0 means the condition is met."""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import Any

from tradewind.exceptions import DagDefinitionError, TaskFailedNoRetry
from tradewind.sensors.base import BaseSensorOperator


class BashSensor(BaseSensorOperator):
    """Any other exit code means "poke again", unless `retry_exit_code` is set: then only that
    code pokes again and any other fails the task, as in Airflow."""

    template_fields = ("bash_command", "env", "cwd")

    def __init__(
        self,
        *,
        task_id: str,
        bash_command: str,
        env: dict[str, str] | None = None,
        output_encoding: str = "utf-8",
        retry_exit_code: int | None = None,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if not isinstance(bash_command, str) or not bash_command.strip():
            raise DagDefinitionError(f"{self.where}: bash_command must be a non-empty string, not {bash_command!r}")
        if retry_exit_code is not None and (not isinstance(retry_exit_code, int) or isinstance(retry_exit_code, bool)):
            raise DagDefinitionError(f"{self.where}: retry_exit_code must be an integer, not {retry_exit_code!r}")
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code
        self.cwd = cwd

    def poke(self, context: dict[str, Any]) -> bool:
        with tempfile.TemporaryDirectory() as scratch:
            done = subprocess.run(
                ["bash", "-c", self.bash_command],
                cwd=self.cwd or scratch,
                env=self.env if self.env is not None else os.environ.copy(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=False,
            )
        print(done.stdout.decode(self.output_encoding, errors="replace"), end="", flush=True)
        if done.returncode == 0:
            return True
        if self.retry_exit_code is not None and done.returncode != self.retry_exit_code:
            raise TaskFailedNoRetry(f"{self.where}: command exited with return code {done.returncode}")
        return False
