"""Every query and write of the metastore. Nothing else in Tradewind calls peewee.

`commit()` writes one batch of scheduler changes in one transaction (group commit); the
`list_*`/`get_*` methods answer ControlService reads with a fixed number of queries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import peewee

from coordinator.metastore import models as m
from coordinator.records import Attempt, Changes, Run, TaskInstance
from tradewind.states import RunState, TaskState

_CHUNK = 400


def naive(value: datetime | None) -> datetime | None:
    """Aware -> naive UTC for the database."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def aware(value: datetime | str | None) -> datetime | None:
    """Naive UTC from the database -> aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class StoredVersion:
    id: int
    dag_id: str
    version: int
    hash: str
    data: dict[str, Any]
    bundle_hash: str


@dataclass(frozen=True)
class ActiveState:
    """Everything needed to rebuild the scheduler after a restart."""

    runs: list[m.DagRun]
    tis: list[m.TaskInstance]
    attempts: list[m.TaskAttempt]
    xcoms: list[m.XCom]
    versions: dict[int, StoredVersion]


class Store:
    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    # ---- ids -------------------------------------------------------------------------
    def max_ids(self) -> tuple[int, int, int]:
        """The highest run, task instance and attempt ids, so new ids continue after them."""

        return (
            m.DagRun.select(peewee.fn.MAX(m.DagRun.id)).scalar() or 0,
            m.TaskInstance.select(peewee.fn.MAX(m.TaskInstance.id)).scalar() or 0,
            m.TaskAttempt.select(peewee.fn.MAX(m.TaskAttempt.id)).scalar() or 0,
        )

    # ---- group commit ----------------------------------------------------------------
    def commit(self, changes: Changes) -> None:
        with self.db.atomic():
            self._insert(m.DagRun, [_run_row(r) for r in changes.new_runs])
            new_run_ids = {r.id for r in changes.new_runs}
            for run in changes.runs.values():
                if run.id not in new_run_ids:
                    m.DagRun.update(
                        state=run.state.value, start_date=naive(run.start_date), end_date=naive(run.end_date)
                    ).where(m.DagRun.id == run.id).execute()
            self._insert(m.TaskInstance, [_ti_row(t) for t in changes.new_tis])
            new_ti_ids = {t.id for t in changes.new_tis}
            self._update_tis([t for t in changes.tis.values() if t.id not in new_ti_ids])
            self._insert(m.TaskAttempt, [_attempt_row(a) for a in changes.new_attempts])
            new_attempt_ids = {a.id for a in changes.new_attempts}
            self._update_attempts([a for a in changes.attempts.values() if a.id not in new_attempt_ids])
            for run_pk, task_id, key, value in changes.xcoms:
                (
                    m.XCom.insert(dag_run_id=run_pk, task_id=task_id, key=key, value=value)
                    .on_conflict(
                        conflict_target=[m.XCom.dag_run_id, m.XCom.task_id, m.XCom.key], update={m.XCom.value: value}
                    )
                    .execute()
                )
            for dag_id, values in changes.dags.items():
                m.Dag.update(**{k: naive(v) if isinstance(v, datetime) else v for k, v in values.items()}).where(
                    m.Dag.dag_id == dag_id
                ).execute()
            for name, values in changes.workers.items():
                self._upsert_worker(name, values)

    def _insert(self, model: type[m.BaseModel], rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _CHUNK):
            model.insert_many(rows[start : start + _CHUNK]).execute()

    def _params(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """SQLite gets times as text in peewee's format (its datetime adapter is deprecated)."""
        if isinstance(self.db, peewee.SqliteDatabase):
            return tuple(str(v) if isinstance(v, datetime) else v for v in row)
        return row

    def _update_tis(self, tis: Sequence[TaskInstance]) -> None:
        if not tis:
            return
        p = self.db.param
        sql = (
            f"UPDATE task_instance SET state={p}, try_number={p}, max_tries={p}, worker={p}, attempt_token={p}, "
            f"start_date={p}, end_date={p}, next_retry_at={p} WHERE id={p}"
        )
        rows = [
            (
                t.state.value,
                t.try_number,
                t.max_tries,
                t.worker,
                t.token,
                naive(t.start_date),
                naive(t.end_date),
                naive(t.next_retry_at),
                t.id,
            )
            for t in tis
        ]
        self.db.cursor().executemany(sql, [self._params(row) for row in rows])

    def _update_attempts(self, attempts: Sequence[Attempt]) -> None:
        if not attempts:
            return
        columns = [c for c in _attempt_row(attempts[0]) if c != "id"]
        p = self.db.param
        sql = f"UPDATE task_attempt SET {', '.join(f'{c}={p}' for c in columns)} WHERE id={p}"
        rows = []
        for attempt in attempts:
            row = _attempt_row(attempt)
            rows.append(tuple(row[c] for c in columns) + (attempt.id,))
        self.db.cursor().executemany(sql, [self._params(row) for row in rows])

    def _upsert_worker(self, name: str, values: dict[str, Any]) -> None:
        values = {k: naive(v) if isinstance(v, datetime) else v for k, v in values.items()}
        updated = m.Worker.update(**values).where(m.Worker.name == name).execute()
        if not updated:
            m.Worker.insert(name=name, **values).execute()

    # ---- recovery --------------------------------------------------------------------
    def load_active(self) -> ActiveState:
        active = [RunState.QUEUED.value, RunState.RUNNING.value]
        runs = list(m.DagRun.select().where(m.DagRun.state.in_(active)).order_by(m.DagRun.id))
        run_ids = [r.id for r in runs]
        tis: list[m.TaskInstance] = []
        xcoms: list[m.XCom] = []
        for chunk in _chunks(run_ids):
            tis.extend(m.TaskInstance.select().where(m.TaskInstance.dag_run_id.in_(chunk)))
            xcoms.extend(m.XCom.select().where(m.XCom.dag_run_id.in_(chunk)))
        attempts: list[m.TaskAttempt] = []
        for chunk in _chunks([t.id for t in tis if t.try_number > 0]):
            attempts.extend(
                m.TaskAttempt.select().where(m.TaskAttempt.task_instance_id.in_(chunk)).order_by(m.TaskAttempt.id)
            )
        versions = self.versions({r.dag_version_id for r in runs})
        return ActiveState(runs, tis, attempts, xcoms, versions)

    def versions(self, ids: Iterable[int]) -> dict[int, StoredVersion]:
        out: dict[int, StoredVersion] = {}
        for chunk in _chunks(sorted(ids)):
            for row in m.DagVersion.select().where(m.DagVersion.id.in_(chunk)):
                out[row.id] = _version(row)
        return out

    def latest_versions(self) -> dict[str, StoredVersion]:
        """The newest version of every DAG that has one."""
        latest = (
            m.DagVersion.select(m.DagVersion.dag_id, peewee.fn.MAX(m.DagVersion.version).alias("v"))
            .group_by(m.DagVersion.dag_id)
            .alias("latest")
        )
        query = m.DagVersion.select().join(
            latest, on=((m.DagVersion.dag_id == latest.c.dag_id) & (m.DagVersion.version == latest.c.v))
        )
        return {row.dag_id: _version(row) for row in query}

    def dags(self) -> list[m.Dag]:
        return list(m.Dag.select().order_by(m.Dag.dag_id))

    def pools(self) -> dict[str, m.Pool]:
        return {p.name: p for p in m.Pool.select()}

    def ensure_default_pool(self, slots: int) -> None:
        m.Pool.insert(name="default_pool", slots=slots, description="Default pool").on_conflict_ignore().execute()

    # ---- DAG processing --------------------------------------------------------------
    def save_bundle(self, bundle_hash: str, data: bytes, now: datetime) -> None:
        m.Bundle.insert(hash=bundle_hash, data=data, created_at=naive(now)).on_conflict_ignore().execute()

    def bundle(self, bundle_hash: str) -> bytes | None:
        row = m.Bundle.get_or_none(m.Bundle.hash == bundle_hash)
        return bytes(row.data) if row else None

    def save_dag_version(
        self, data: dict[str, Any], dag_hash: str, bundle_hash: str, now: datetime, dag_fields: dict[str, Any]
    ) -> tuple[StoredVersion | None, bool]:
        """Store a parsed DAG. Returns (the new version or None when unchanged, whether the DAG is new)."""
        dag_id = data["dag_id"]
        with self.db.atomic():
            existing = m.Dag.get_or_none(m.Dag.dag_id == dag_id)
            fields = {k: naive(v) if isinstance(v, datetime) else v for k, v in dag_fields.items()}
            fields["last_parsed_at"] = naive(now)
            fields["active"] = True
            latest = (
                m.DagVersion.select().where(m.DagVersion.dag_id == dag_id).order_by(m.DagVersion.version.desc()).first()
            )
            if existing is None:
                m.Dag.insert(dag_id=dag_id, **fields).execute()
            else:
                fields.pop("paused", None)
                m.Dag.update(**fields).where(m.Dag.dag_id == dag_id).execute()
            if latest is not None and latest.hash == dag_hash and latest.bundle_hash == bundle_hash:
                return None, existing is None
            if latest is not None and latest.hash == dag_hash:
                latest.bundle_hash = bundle_hash
                latest.save()
                return _version(latest), existing is None
            number = (latest.version if latest else 0) + 1
            row = m.DagVersion.create(
                dag_id=dag_id,
                version=number,
                hash=dag_hash,
                serialized=json.dumps(data),
                bundle_hash=bundle_hash,
                created_at=naive(now),
            )
            m.Dag.update(latest_version=number).where(m.Dag.dag_id == dag_id).execute()
            return _version(row), existing is None

    def rebundle(self, bundle_hash: str, exclude: set[str]) -> list[StoredVersion]:
        """Point the latest version of every other active DAG at a new bundle of the same folder."""
        active = [d.dag_id for d in m.Dag.select(m.Dag.dag_id).where(m.Dag.active) if d.dag_id not in exclude]
        latest = self.latest_versions()
        changed = [
            latest[dag_id] for dag_id in active if dag_id in latest and latest[dag_id].bundle_hash != bundle_hash
        ]
        with self.db.atomic():
            for version in changed:
                m.DagVersion.update(bundle_hash=bundle_hash).where(m.DagVersion.id == version.id).execute()
        return [StoredVersion(v.id, v.dag_id, v.version, v.hash, v.data, bundle_hash) for v in changed]

    def deactivate_dags(self, dag_ids: Iterable[str]) -> None:
        ids = list(dag_ids)
        if ids:
            m.Dag.update(active=False).where(m.Dag.dag_id.in_(ids)).execute()

    def dag_ids_in_file(self, fileloc: str) -> list[str]:
        return [d.dag_id for d in m.Dag.select(m.Dag.dag_id).where((m.Dag.fileloc == fileloc) & m.Dag.active)]

    def set_import_error(self, fileloc: str, traceback: str | None, now: datetime) -> None:
        if traceback is None:
            m.ImportError.delete().where(m.ImportError.fileloc == fileloc).execute()
            return
        m.ImportError.insert(fileloc=fileloc, traceback=traceback, timestamp=naive(now)).on_conflict(
            conflict_target=[m.ImportError.fileloc],
            update={m.ImportError.traceback: traceback, m.ImportError.timestamp: naive(now)},
        ).execute()

    # ---- reads for ControlService ------------------------------------------------------
    def get_dag(self, dag_id: str) -> m.Dag | None:
        return m.Dag.get_or_none(m.Dag.dag_id == dag_id)

    def list_dags(self, contains: str = "", include_inactive: bool = False) -> list[m.Dag]:
        query = m.Dag.select().order_by(m.Dag.dag_id)
        if not include_inactive:
            query = query.where(m.Dag.active)
        if contains:
            query = query.where(m.Dag.dag_id.contains(contains))
        return list(query)

    def recent_run_states(self, dag_ids: Sequence[str], per_dag: int = 10) -> dict[str, list[str]]:
        """The states of each DAG's newest runs, newest first, in one query."""
        if not dag_ids:
            return {}
        ranked = m.DagRun.select(
            m.DagRun.dag_id,
            m.DagRun.state,
            peewee.fn.ROW_NUMBER().over(partition_by=[m.DagRun.dag_id], order_by=[m.DagRun.id.desc()]).alias("rn"),
        ).where(m.DagRun.dag_id.in_(list(dag_ids)))
        query = (
            peewee.Select(from_list=[ranked.alias("r")], columns=[peewee.SQL("dag_id"), peewee.SQL("state")])
            .where(peewee.SQL("rn") <= per_dag)
            .order_by(peewee.SQL("dag_id"), peewee.SQL("rn"))
            .bind(self.db)
        )
        out: dict[str, list[str]] = {}
        for dag_id, state in query.tuples():
            out.setdefault(dag_id, []).append(state)
        return out

    def running_task_counts(self) -> dict[str, int]:
        query = (
            m.TaskInstance.select(m.TaskInstance.dag_id, peewee.fn.COUNT(m.TaskInstance.id))
            .where(m.TaskInstance.state == TaskState.RUNNING.value)
            .group_by(m.TaskInstance.dag_id)
        )
        rows: Iterable[tuple[str, int]] = query.tuples()  # type: ignore[assignment]
        return dict(rows)

    def get_run(self, dag_id: str, run_id: str) -> m.DagRun | None:
        return m.DagRun.get_or_none((m.DagRun.dag_id == dag_id) & (m.DagRun.run_id == run_id))

    def list_runs(
        self, dag_id: str = "", states: Sequence[str] = (), limit: int = 100, before_id: int | None = None
    ) -> list[m.DagRun]:
        query = m.DagRun.select().order_by(m.DagRun.id.desc()).limit(limit)
        if dag_id:
            query = query.where(m.DagRun.dag_id == dag_id)
        if states:
            query = query.where(m.DagRun.state.in_(list(states)))
        if before_id is not None:
            query = query.where(m.DagRun.id < before_id)
        return list(query)

    def list_tis(self, run_pk: int) -> list[m.TaskInstance]:
        return list(m.TaskInstance.select().where(m.TaskInstance.dag_run_id == run_pk).order_by(m.TaskInstance.id))

    def grid_cells(self, run_pks: Sequence[int]) -> list[tuple[int, str, str, int]]:
        """(run pk, task_id, state, try_number) of every task instance of these runs, in one query."""
        if not run_pks:
            return []
        ti = m.TaskInstance
        query = ti.select(ti.dag_run_id, ti.task_id, ti.state, ti.try_number).where(ti.dag_run_id.in_(list(run_pks)))
        return list(query.tuples())  # type: ignore[arg-type]

    def get_ti(self, run_pk: int, task_id: str) -> m.TaskInstance | None:
        return m.TaskInstance.get_or_none((m.TaskInstance.dag_run_id == run_pk) & (m.TaskInstance.task_id == task_id))

    def attempts(self, ti_id: int) -> list[m.TaskAttempt]:
        return list(
            m.TaskAttempt.select()
            .where(m.TaskAttempt.task_instance_id == ti_id)
            .order_by(m.TaskAttempt.try_number, m.TaskAttempt.id)
        )

    def version(self, version_id: int) -> StoredVersion | None:
        return self.versions([version_id]).get(version_id)

    def list_workers(self) -> list[m.Worker]:
        return list(m.Worker.select().order_by(m.Worker.name))

    def import_errors(self) -> list[m.ImportError]:
        return list(m.ImportError.select().order_by(m.ImportError.fileloc))

    def set_pool(self, name: str, slots: int, description: str) -> None:
        m.Pool.insert(name=name, slots=slots, description=description).on_conflict(
            conflict_target=[m.Pool.name], update={m.Pool.slots: slots, m.Pool.description: description}
        ).execute()

    def delete_pool(self, name: str) -> bool:
        return bool(m.Pool.delete().where(m.Pool.name == name).execute())

    def set_paused(self, dag_id: str, paused: bool) -> None:
        m.Dag.update(paused=paused).where(m.Dag.dag_id == dag_id).execute()

    def run_exists(self, dag_id: str, run_id: str) -> bool:
        return m.DagRun.select().where((m.DagRun.dag_id == dag_id) & (m.DagRun.run_id == run_id)).exists()

    def load_run(self, dag_id: str, run_id: str) -> tuple[m.DagRun, list[m.TaskInstance], list[m.XCom]] | None:
        """A finished run's rows, to bring it back into memory when a task of it is cleared."""
        run = self.get_run(dag_id, run_id)
        if run is None:
            return None
        tis = self.list_tis(run.id)
        xcoms = list(m.XCom.select().where(m.XCom.dag_run_id == run.id))
        return run, tis, xcoms

    def latest_attempts(self, ti_ids: Sequence[int]) -> dict[int, m.TaskAttempt]:
        out: dict[int, m.TaskAttempt] = {}
        for chunk in _chunks(list(ti_ids)):
            for row in (
                m.TaskAttempt.select().where(m.TaskAttempt.task_instance_id.in_(chunk)).order_by(m.TaskAttempt.id)
            ):
                out[row.task_instance_id] = row
        return out

    def delete_xcoms(self, run_pk: int, task_ids: Sequence[str]) -> None:
        m.XCom.delete().where((m.XCom.dag_run_id == run_pk) & (m.XCom.task_id.in_(list(task_ids)))).execute()


def _chunks(items: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _version(row: m.DagVersion) -> StoredVersion:
    return StoredVersion(row.id, row.dag_id, row.version, row.hash, json.loads(row.serialized), row.bundle_hash)


def _run_row(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "state": run.state.value,
        "run_type": run.run_type,
        "logical_date": naive(run.logical_date),
        "data_interval_start": naive(run.data_interval_start),
        "data_interval_end": naive(run.data_interval_end),
        "conf": json.dumps(run.conf),
        "queued_at": naive(run.queued_at),
        "start_date": naive(run.start_date),
        "end_date": naive(run.end_date),
        "dag_version_id": run.dag.version_id,
    }


def _ti_row(ti: TaskInstance) -> dict[str, Any]:
    spec = ti.spec
    return {
        "id": ti.id,
        "dag_run_id": ti.run.id,
        "dag_id": ti.run.dag_id,
        "run_id": ti.run.run_id,
        "task_id": ti.task_id,
        "state": ti.state.value,
        "try_number": ti.try_number,
        "max_tries": ti.max_tries,
        "operator": spec.operator,
        "queue": spec.queue,
        "pool": spec.pool,
        "priority_weight": spec.priority,
        "worker": ti.worker,
        "attempt_token": ti.token,
        "start_date": naive(ti.start_date),
        "end_date": naive(ti.end_date),
        "next_retry_at": naive(ti.next_retry_at),
    }


def _attempt_row(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "task_instance_id": a.ti_id,
        "try_number": a.try_number,
        "attempt_token": a.token,
        "state": a.state.value,
        "worker": a.worker,
        "ready_at": naive(a.ready_at),
        "queued_at": naive(a.queued_at),
        "sent_at": naive(a.sent_at),
        "acked_at": naive(a.acked_at),
        "started_at": naive(a.started_at),
        "ended_at": naive(a.ended_at),
        "exit_code": a.exit_code,
        "error": a.error,
        "cpu_user": a.cpu_user,
        "cpu_system": a.cpu_system,
        "max_rss_bytes": a.max_rss_bytes,
        "rendered": a.rendered,
    }
