"""FileSensor: waits for a file, or a directory holding files, matching a path or a glob.

The path is relative to the base directory of the connection `fs_conn_id` (its "path" extra);
`fs_default` is the file system root, as in Airflow when no such connection is defined.
"""

from __future__ import annotations

import glob
import os
from typing import Any

from tradewind import unsupported
from tradewind.exceptions import DagDefinitionError
from tradewind.sensors.base import BaseSensorOperator
from tradewind.triggers.file import FileTrigger

DEFAULT_CONNECTION = "fs_default"


def base_path(fs_conn_id: str) -> str:
    """The directory a FileSensor's `filepath` is relative to, from its connection."""
    if fs_conn_id == DEFAULT_CONNECTION:
        return "/"
    unsupported.not_yet(f"connections (fs_conn_id={fs_conn_id!r})")


class FileSensor(BaseSensorOperator):
    template_fields = ("filepath",)
    can_defer = True

    def __init__(
        self,
        *,
        task_id: str,
        filepath: str,
        fs_conn_id: str = DEFAULT_CONNECTION,
        recursive: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(task_id=task_id, **kwargs)
        if not isinstance(filepath, str) or not filepath:
            raise DagDefinitionError(f"{self.where}: filepath must be a non-empty string, not {filepath!r}")
        if fs_conn_id != DEFAULT_CONNECTION:
            base_path(fs_conn_id)  # refused at parse time until connections exist
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = bool(recursive)

    @property
    def full_path(self) -> str:
        return os.path.join(base_path(self.fs_conn_id), self.filepath)

    def execute(self, context: dict[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if not self.poke(context):
            trigger = FileTrigger(self.full_path, recursive=self.recursive, poke_interval=self.poke_interval)
            self.defer(trigger=trigger, method_name="execute_complete", timeout=self.timeout)
        return None

    def poke(self, context: dict[str, Any]) -> bool:
        """True when a matching file exists, or a matching directory has a file anywhere below it."""
        full_path = self.full_path
        print(f"Poking for file {full_path}", flush=True)
        for path in glob.glob(full_path, recursive=self.recursive):
            if os.path.isfile(path):
                print(f"Found {path}", flush=True)
                return True
            for _, _, files in os.walk(path):
                if files:
                    return True
        return False
