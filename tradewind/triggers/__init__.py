"""Triggers: what deferred tasks wait on, run by the triggerer (see tradewind.triggers.base)."""

from tradewind.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent
from tradewind.triggers.external_task import DagStateTrigger, WorkflowTrigger
from tradewind.triggers.file import FileDeleteTrigger, FileTrigger
from tradewind.triggers.postgres import PostgresListenTrigger
from tradewind.triggers.temporal import DateTimeTrigger, TimeDeltaTrigger

__all__ = [
    "BaseEventTrigger",
    "BaseTrigger",
    "DagStateTrigger",
    "DateTimeTrigger",
    "FileDeleteTrigger",
    "FileTrigger",
    "PostgresListenTrigger",
    "TimeDeltaTrigger",
    "TriggerEvent",
    "WorkflowTrigger",
]
