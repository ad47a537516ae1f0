"""Hooks: a task's way into an outside system, found through a connection."""

from tradewind.hooks.base import BaseHook, hook_for
from tradewind.hooks.dbapi import DbApiHook, GenericDbApiHook, fetch_all_handler, fetch_one_handler
from tradewind.hooks.postgres import PostgresHook
from tradewind.hooks.sqlite import SqliteHook

__all__ = [
    "BaseHook",
    "DbApiHook",
    "GenericDbApiHook",
    "PostgresHook",
    "SqliteHook",
    "fetch_all_handler",
    "fetch_one_handler",
    "hook_for",
]
