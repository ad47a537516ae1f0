"""The metastore's backfill tables: their writes in the group commit and their reads.

Store mixes this in; like store.py, it is the only place that calls peewee for its tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import peewee

from coordinator.metastore import models as m
from coordinator.metastore.times import aware, naive
from coordinator.records import Backfill, BackfillDate
from tradewind.states import RunState

#: The most backfills ListBackfills returns.
LIST_LIMIT = 100


class BackfillQueries:
    # ---- writes (inside Store.commit's transaction) -------------------------------------
    def _upsert_backfills(self, backfills: list[Backfill]) -> None:
        for b in backfills:
            values = {
                "dag_id": b.dag_id,
                "from_date": naive(b.from_date),
                "to_date": naive(b.to_date),
                "reprocess": b.reprocess.value,
                "max_active_runs": b.max_active_runs,
                "run_backwards": b.run_backwards,
                "state": b.state.value,
                "created_at": naive(b.created_at),
                "completed_at": naive(b.completed_at),
            }
            if not m.Backfill.update(**values).where(m.Backfill.id == b.id).execute():
                m.Backfill.insert(id=b.id, **values).execute()

    def _insert_backfill_dates(self, dates: list[BackfillDate]) -> None:
        rows = [
            {
                "backfill_id": d.backfill_id,
                "sort_ordinal": d.ordinal,
                "logical_date": naive(d.logical_date),
                "dag_run_id": d.run_pk,
                "skipped": d.skipped,
            }
            for d in dates
        ]
        for start in range(0, len(rows), 400):
            m.BackfillDagRun.insert_many(rows[start : start + 400]).execute()

    # ---- reads ------------------------------------------------------------------------
    def max_backfill_id(self) -> int:
        return m.Backfill.select(peewee.fn.MAX(m.Backfill.id)).scalar() or 0

    def runs_at(self, dag_id: str, earliest: datetime, latest: datetime) -> dict[datetime, tuple[str, RunState]]:
        """The newest run of each logical date of the DAG in [earliest, latest]: (run_id, state)."""
        query = (
            m.DagRun.select(m.DagRun.logical_date, m.DagRun.run_id, m.DagRun.state)
            .where(
                (m.DagRun.dag_id == dag_id)
                & (m.DagRun.logical_date >= naive(earliest))
                & (m.DagRun.logical_date <= naive(latest))
            )
            .order_by(m.DagRun.id)
        )
        out: dict[datetime, tuple[str, RunState]] = {}
        rows: Iterable[tuple[Any, ...]] = query.tuples()  # type: ignore[assignment]
        for logical, run_id, state in rows:
            moment = aware(logical)
            assert moment is not None
            out[moment] = (run_id, RunState(state))
        return out

    def unfinished_backfills(self) -> tuple[list[m.Backfill], dict[int, int]]:
        """Backfills still running or with runs still active, oldest first, and the ordinal of
        each of their runs (by run row id), for recovery."""
        active_runs = m.DagRun.select(m.DagRun.backfill_id).where(
            m.DagRun.state.in_([RunState.QUEUED.value, RunState.RUNNING.value]) & m.DagRun.backfill_id.is_null(False)
        )
        rows = list(
            m.Backfill.select()
            .where((m.Backfill.state == "running") | m.Backfill.id.in_(active_runs))
            .order_by(m.Backfill.id)
        )
        ordinals: dict[int, int] = {}
        if rows:
            link = m.BackfillDagRun
            query = link.select(link.dag_run_id, link.sort_ordinal).where(
                link.backfill_id.in_([r.id for r in rows]) & link.dag_run_id.is_null(False)
            )
            ordinals = dict(query.tuples())  # type: ignore[arg-type]
        return rows, ordinals

    def list_backfills(self, dag_id: str = "") -> list[m.Backfill]:
        query = m.Backfill.select().order_by(m.Backfill.id.desc()).limit(LIST_LIMIT)
        if dag_id:
            query = query.where(m.Backfill.dag_id == dag_id)
        return list(query)

    def get_backfill(self, backfill_id: int) -> m.Backfill | None:
        return m.Backfill.get_or_none(m.Backfill.id == backfill_id)

    def backfill_progress(self, backfill_ids: list[int]) -> dict[int, Counter[str]]:
        """For each backfill, how many of its runs are in each state, and "skipped" dates."""
        out: dict[int, Counter[str]] = {i: Counter() for i in backfill_ids}
        if not backfill_ids:
            return out
        link = m.BackfillDagRun
        query = (
            link.select(link.backfill_id, m.DagRun.state, link.skipped, peewee.fn.COUNT(link.id))
            .join(m.DagRun, peewee.JOIN.LEFT_OUTER, on=(m.DagRun.id == link.dag_run_id))
            .where(link.backfill_id.in_(backfill_ids))
            .group_by(link.backfill_id, m.DagRun.state, link.skipped)
        )
        rows: Iterable[tuple[Any, ...]] = query.tuples()  # type: ignore[assignment]
        for backfill_id, state, skipped, count in rows:
            out[backfill_id]["skipped" if skipped or state is None else state] += count
        return out

    def backfill_dates(self, backfill_id: int) -> list[tuple[datetime, str, str, str]]:
        """(logical_date, run_id, run state, skipped) of each date of a backfill, in its order."""
        link = m.BackfillDagRun
        query = (
            link.select(link.logical_date, m.DagRun.run_id, m.DagRun.state, link.skipped)
            .join(m.DagRun, peewee.JOIN.LEFT_OUTER, on=(m.DagRun.id == link.dag_run_id))
            .where(link.backfill_id == backfill_id)
            .order_by(link.sort_ordinal)
        )
        out = []
        rows: Iterable[tuple[Any, ...]] = query.tuples()  # type: ignore[assignment]
        for logical, run_id, state, skipped in rows:
            moment = aware(logical)
            assert moment is not None
            out.append((moment, run_id or "", state or "", skipped))
        return out
