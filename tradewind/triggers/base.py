"""BaseTrigger and TriggerEvent: what a deferred task waits on, run in the triggerer.

A trigger is rebuilt in the triggerer from `serialize()`: its class's dotted path (importable
from tradewind or from the DAG bundle) and keyword arguments that tradewind.xcom_codec can
encode. `run()` is an async generator; its first event resumes the task (its payload is the
`event` argument of the method the task resumes in). Run for an asset watcher (AssetWatcher),
`watching` is True: every event it yields is an asset event, and run() is started again each
time it ends, so a trigger may yield one event per change there. A trigger must never block its loop: it
shares it with many others, and one that holds it for more than 0.2 s is logged by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

__all__ = ["BaseEventTrigger", "BaseTrigger", "TriggerEvent"]


class TriggerEvent:
    """What a trigger yields; `payload` is any value tradewind.xcom_codec encodes."""

    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"TriggerEvent<{self.payload!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TriggerEvent) and other.payload == self.payload


class BaseTrigger:
    """Subclasses implement serialize() and run(); cleanup() runs when the trigger stops."""

    #: Set by the triggerer when the trigger runs for an asset watcher (see the module docstring).
    watching: bool = False

    def __init__(self, **kwargs: Any) -> None:
        self.trigger_id: int | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError(f"{type(self).__name__} does not implement serialize()")

    async def run(self) -> AsyncIterator[TriggerEvent]:
        raise NotImplementedError(f"{type(self).__name__} does not implement run()")
        yield  # pragma: no cover - makes this an async generator, as subclasses are

    async def cleanup(self) -> None:
        """Called when the trigger stops: after its event, or when it is cancelled."""

    def __repr__(self) -> str:
        classpath, kwargs = self.serialize()
        return f"<{classpath} {kwargs}>"


class BaseEventTrigger(BaseTrigger):
    """Airflow 3's base for the triggers an AssetWatcher accepts. Tradewind lets any trigger watch
    an asset; this class is here so that trigger classes written for Airflow load unchanged."""
