"""Triggers: what deferred tasks wait on, run by the triggerer (see tradewind.triggers.base)."""

from tradewind.triggers.base import BaseTrigger, TriggerEvent
from tradewind.triggers.external_task import DagStateTrigger, WorkflowTrigger
from tradewind.triggers.file import FileTrigger
from tradewind.triggers.postgres import PostgresListenTrigger
from tradewind.triggers.temporal import DateTimeTrigger, TimeDeltaTrigger

__all__ = [
    "BaseTrigger",
    "DagStateTrigger",
    "DateTimeTrigger",
    "FileTrigger",
    "PostgresListenTrigger",
    "TimeDeltaTrigger",
    "TriggerEvent",
    "WorkflowTrigger",
]
