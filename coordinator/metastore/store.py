"""Every query and write of the metastore. Nothing else in Tradewind calls peewee.

`commit()` writes one batch of scheduler changes in one transaction (group commit) and
returns the rows the database refused, having stored all the others; the `list_*`/`get_*`
methods answer ControlService reads with a fixed number of queries. Any thread may call any
method: each thread has its own connection (the engine commits on a writer thread,
ControlService reads on a pool).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from coordinator.metastore import models as m
from coordinator.metastore.assets import AssetStore
from coordinator.metastore.backfill_store import BackfillQueries
from coordinator.metastore.db import DATABASE_ERRORS, connection_lost, one_line
from coordinator.metastore.times import aware as aware  # re-exported: callers read rows' times with it
from coordinator.metastore.times import naive
from coordinator.records import Attempt, Changes, PastRun, Run, TaskInstance, Trigger
from tradewind.exceptions import MetastoreError
from tradewind.states import RunState, TaskState

_CHUNK = 400
#: Errors that belong to one row's values, not to the database or the connection.
_DATA_ERRORS = (peewee.IntegrityError, peewee.DataError, ValueError, OverflowError)
#: Turns sqlite3/psycopg2 errors of a raw cursor into peewee's, as peewee's own queries do.
_DRIVER_ERRORS_AS_PEEWEE: Any = vars(peewee)["__exception_wrapper__"]
#: Seconds to wait before each new try of a commit that met a dropped connection or a lock.
_RETRY_PAUSES = (0.2, 1.0, 3.0)


@dataclass(frozen=True)
class StoreFailure:
    """A row the metastore refused even after sanitising; every other row of its batch went in.

    `kind` and `id`: "run" and "task_instance" (their id), "attempt" (its id), "xcom"
    ((run id, task_id, key)), "dag" (dag_id), "worker" (name), "backfill" (its id), "backfill_date"
    ((backfill id, ordinal)).
    """

    kind: str
    id: Any
    error: str


@dataclass(frozen=True)
class _Write:
    """Rows of one kind and the statement that writes a list of them."""

    kind: str
    ids: list[Any]
    rows: list[Any]
    apply: Callable[[list[Any]], None]

    @classmethod
    def of(
        cls, kind: str, records: Sequence[Run | TaskInstance | Attempt], apply: Callable[[list[Any]], None]
    ) -> _Write:
        return cls(kind, [r.id for r in records], list(records), apply)


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
    #: The task_reschedule rows of the active task instances, oldest first.
    reschedules: list[m.TaskReschedule] = field(default_factory=list)
    #: The trigger rows of the active task instances, oldest first.
    triggers: list[m.Trigger] = field(default_factory=list)


class Store(BackfillQueries, AssetStore):
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
    def commit(self, changes: Changes) -> list[StoreFailure]:
        """Write one batch of scheduler changes in one transaction; returns the rows refused.

        A row the database refuses (a constraint, a value out of range) must not hold back the
        others: the batch is then written again row by row, each row in a savepoint, and the
        refused rows are returned so their task instances can be failed. A connection the server
        dropped is opened again and the transaction retried.
        """
        writes = self._writes(changes)
        try:
            self._transaction(lambda: self._write_all(writes))
            return []
        except _DATA_ERRORS:
            pass
        return self._transaction(lambda: self._write_each(writes))

    def _writes(self, changes: Changes) -> list[_Write]:
        new_runs = {r.id for r in changes.new_runs}
        new_tis = {t.id for t in changes.new_tis}
        new_attempts = {a.id for a in changes.new_attempts}
        xcoms = {(run_pk, task_id, index, key): value for run_pk, task_id, index, key, value in changes.xcoms}
        triggers = list(changes.triggers.values())
        return [
            _Write.of("run", changes.new_runs, self._insert_runs),
            _Write.of("run", [r for r in changes.runs.values() if r.id not in new_runs], self._update_runs),
            _Write.of("task_instance", changes.new_tis, self._insert_tis),
            _Write.of("task_instance", [t for t in changes.tis.values() if t.id not in new_tis], self._update_tis),
            _Write.of("attempt", changes.new_attempts, self._insert_attempts),
            _Write.of(
                "attempt", [a for a in changes.attempts.values() if a.id not in new_attempts], self._update_attempts
            ),
            _Write("xcom", list(xcoms), list(xcoms.items()), self._upsert_xcoms),
            _Write("dag", list(changes.dags), list(changes.dags.items()), self._update_dags),
            _Write("worker", list(changes.workers), list(changes.workers.items()), self._upsert_workers),
            _Write("backfill", list(changes.backfills), list(changes.backfills.values()), self._upsert_backfills),
            _Write(
                "backfill_date",
                [(d.backfill_id, d.ordinal) for d in changes.backfill_dates],
                changes.backfill_dates,
                self._insert_backfill_dates,
            ),
            *(_Write(*write) for write in self.asset_writes(changes.assets)),
            _Write(
                "task_reschedule", [r[0] for r in changes.reschedules], changes.reschedules, self._insert_reschedules
            ),
            _Write("trigger", [t.ti_id for t in triggers], triggers, self._upsert_triggers),
        ]

    def _write_all(self, writes: list[_Write]) -> list[StoreFailure]:
        for write in writes:
            if write.rows:
                write.apply(write.rows)
        return []

    def _write_each(self, writes: list[_Write]) -> list[StoreFailure]:
        failures = []
        for write in writes:
            for key, row in zip(write.ids, write.rows, strict=True):
                try:
                    with self.db.atomic():
                        write.apply([row])
                except _DATA_ERRORS as exc:
                    failures.append(StoreFailure(write.kind, key, one_line(exc)))
        return failures

    def _transaction(self, body: Callable[[], list[StoreFailure]]) -> list[StoreFailure]:
        """Run `body` in a transaction, again after a pause when the connection dropped or SQLite
        stayed locked past its busy timeout; any other database error is one MetastoreError line."""
        for pause in (*_RETRY_PAUSES, None):
            try:
                with self.db.atomic():
                    return body()
            except _DATA_ERRORS:
                raise
            except DATABASE_ERRORS as exc:
                lost = connection_lost(exc)
                if pause is None or not (lost or "database is locked" in str(exc)):
                    raise MetastoreError(f"cannot write to the metastore: {one_line(exc)}") from exc
                time.sleep(pause)
                if lost:
                    self._reconnect()
        raise AssertionError("unreachable")

    def _reconnect(self) -> None:
        with contextlib.suppress(*DATABASE_ERRORS):
            self.db.close()
        with contextlib.suppress(*DATABASE_ERRORS):
            self.db.connect()

    def _insert_runs(self, runs: list[Run]) -> None:
        self._insert(m.DagRun, [_run_row(r) for r in runs])

    def _update_runs(self, runs: list[Run]) -> None:
        columns = ["state", "start_date", "end_date", "queued_at", "backfill_id"]
        rows = [
            (r.state.value, naive(r.start_date), naive(r.end_date), naive(r.queued_at), r.backfill_id, r.id)
            for r in runs
        ]
        self._executemany(m.DagRun, columns, rows)

    def _insert_tis(self, tis: list[TaskInstance]) -> None:
        self._insert(m.TaskInstance, [_ti_row(t) for t in tis])

    def _insert_attempts(self, attempts: list[Attempt]) -> None:
        self._insert_rows(m.TaskAttempt, [_attempt_row(a) for a in attempts])

    def _insert_reschedules(self, rows: list[tuple[int, int, datetime, datetime, datetime]]) -> None:
        columns = ["task_instance_id", "try_number", "start_date", "end_date", "reschedule_date"]
        self._insert(
            m.TaskReschedule,
            [dict(zip(columns, (ti_id, n, naive(s), naive(e), naive(d)), strict=True)) for ti_id, n, s, e, d in rows],
        )

    def _upsert_triggers(self, triggers: list[Trigger]) -> None:
        rows = [
            {
                "id": t.id,
                "task_instance_id": t.ti_id,
                "try_number": t.try_number,
                "classpath": t.classpath,
                "kwargs": t.kwargs_json,
                "next_method": t.next_method,
                "next_kwargs": t.next_kwargs_json,
                "timeout_at": naive(t.timeout_at),
                "created_at": naive(t.created_at),
                "fired": t.fired,
            }
            for t in triggers
        ]
        self._insert_rows(m.Trigger, rows, conflict=("id",))

    def max_trigger_id(self) -> int:
        return int(m.Trigger.select(peewee.fn.MAX(m.Trigger.id)).scalar() or 0)

    def _upsert_xcoms(self, items: list[tuple[tuple[int, str, int, str], str]]) -> None:
        rows = [
            {"dag_run_id": run_pk, "task_id": task_id, "map_index": map_index, "key": key, "value": value}
            for (run_pk, task_id, map_index, key), value in items
        ]
        self._insert_rows(m.XCom, rows, conflict=("dag_run_id", "task_id", "map_index", "key"))

    def _update_dags(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        for dag_id, values in items:
            m.Dag.update(**{k: naive(v) if isinstance(v, datetime) else v for k, v in values.items()}).where(
                m.Dag.dag_id == dag_id
            ).execute()

    def _upsert_workers(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        for name, values in items:
            self._upsert_worker(name, values)

    def _insert(self, model: type[m.BaseModel], rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _CHUNK):
            model.insert_many(rows[start : start + _CHUNK]).execute()

    def _executemany(self, model: type[m.BaseModel], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """UPDATE ... WHERE id= for many rows in one statement, each value stored as its column stores it."""
        p = self.db.param
        sql = f"UPDATE {model._meta.table_name} SET {', '.join(f'{c}={p}' for c in columns)} WHERE id={p}"
        self._run_many(model, sql, [*columns, "id"], rows)

    def _insert_rows(
        self, model: type[m.BaseModel], rows: list[dict[str, Any]], conflict: tuple[str, ...] = ()
    ) -> None:
        """INSERT of many rows in one statement (built here: peewee's query building costs more than
        the write); with `conflict`, a row whose key is there already replaces its other columns."""
        if not rows:
            return
        columns = list(rows[0])
        table, p = model._meta.table_name, self.db.param
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([p] * len(columns))})"
        if conflict:
            updates = ", ".join(f"{c}=excluded.{c}" for c in columns if c not in conflict)
            sql += f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}"
        self._run_many(model, sql, columns, [tuple(row[c] for c in columns) for row in rows])

    def _run_many(self, model: type[m.BaseModel], sql: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Each value converted as its field stores it; SQLite gets times as text in peewee's format
        (its datetime adapter is deprecated)."""
        fields = [model._meta.fields[c] for c in columns]
        sqlite = isinstance(self.db, peewee.SqliteDatabase)
        params = []
        for row in rows:
            values = tuple(f.db_value(v) for f, v in zip(fields, row, strict=True))
            params.append(tuple(str(v) if isinstance(v, datetime) else v for v in values) if sqlite else values)
        with _DRIVER_ERRORS_AS_PEEWEE:
            self.db.cursor().executemany(sql, params)

    def _update_tis(self, tis: Sequence[TaskInstance]) -> None:
        columns = ["state", "try_number", "max_tries", "worker", "attempt_token"]
        columns += ["start_date", "end_date", "next_retry_at", "map_index", "rendered_map_index"]
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
                t.map_index,
                t.rendered_map_index,
                t.id,
            )
            for t in tis
        ]
        self._executemany(m.TaskInstance, columns, rows)

    def _update_attempts(self, attempts: Sequence[Attempt]) -> None:
        columns = [c for c in _attempt_row(attempts[0]) if c != "id"]
        rows = []
        for attempt in attempts:
            row = _attempt_row(attempt)
            rows.append(tuple(row[c] for c in columns) + (attempt.id,))
        self._executemany(m.TaskAttempt, columns, rows)

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
        reschedules: list[m.TaskReschedule] = []
        triggers: list[m.Trigger] = []
        for chunk in _chunks([t.id for t in tis if t.try_number > 0]):
            attempts.extend(
                m.TaskAttempt.select().where(m.TaskAttempt.task_instance_id.in_(chunk)).order_by(m.TaskAttempt.id)
            )
            reschedules.extend(
                m.TaskReschedule.select()
                .where(m.TaskReschedule.task_instance_id.in_(chunk))
                .order_by(m.TaskReschedule.id)
            )
            triggers.extend(
                m.Trigger.select().where(m.Trigger.task_instance_id.in_(chunk)).order_by(m.Trigger.id)
            )
        versions = self.versions({r.dag_version_id for r in runs})
        return ActiveState(runs, tis, attempts, xcoms, versions, reschedules, triggers)

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

    def last_successes(self) -> dict[str, m.DagRun]:
        """Each DAG's successful run with the latest logical date (for prev_*_success in templates)."""
        success = m.DagRun.state == RunState.SUCCESS.value
        latest = (
            m.DagRun.select(m.DagRun.dag_id, peewee.fn.MAX(m.DagRun.logical_date).alias("d"))
            .where(success)
            .group_by(m.DagRun.dag_id)
            .alias("latest")
        )
        query = (
            m.DagRun.select()
            .join(latest, on=((m.DagRun.dag_id == latest.c.dag_id) & (m.DagRun.logical_date == latest.c.d)))
            .where(success)
        )
        return {row.dag_id: row for row in query}

    def dags(self) -> list[m.Dag]:
        return list(m.Dag.select().order_by(m.Dag.dag_id))

    def pools(self) -> dict[str, m.Pool]:
        return {p.name: p for p in m.Pool.select()}

    def ensure_default_pool(self, slots: int) -> None:
        m.Pool.insert(name="default_pool", slots=slots, description="Default pool").on_conflict_ignore().execute()

    # ---- DAG processing --------------------------------------------------------------
    def dag_transaction(self) -> Any:
        """One transaction for a whole scan of the DAG folder.

        On SQLite it takes the write lock at once: a deferred transaction that reads first can
        fail to upgrade when the group commit wrote in between.
        """
        if isinstance(self.db, peewee.SqliteDatabase):
            return self.db.atomic("IMMEDIATE")
        return self.db.atomic()

    def save_bundle(self, bundle_hash: str, data: bytes, now: datetime) -> None:
        m.Bundle.insert(hash=bundle_hash, data=data, created_at=naive(now)).on_conflict_ignore().execute()

    def bundle(self, bundle_hash: str) -> bytes | None:
        row = m.Bundle.get_or_none(m.Bundle.hash == bundle_hash)
        return bytes(row.data) if row else None

    def save_dag_version(
        self, data: dict[str, Any], dag_hash: str, bundle_hash: str, now: datetime, dag_fields: dict[str, Any]
    ) -> tuple[StoredVersion | None, bool]:
        """Store a parsed DAG. Returns (the new version or None when unchanged, whether the DAG is new).

        A version is its definition and its bundle together: a change to either is a new version,
        and an existing version is never changed, so a run keeps the code it started with.
        """
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
            number = (latest.version if latest else 0) + 1
            return self._new_version(dag_id, number, dag_hash, data, bundle_hash, now), existing is None

    def _new_version(
        self, dag_id: str, number: int, dag_hash: str, data: dict[str, Any], bundle_hash: str, now: datetime
    ) -> StoredVersion:
        row = m.DagVersion.create(
            dag_id=dag_id,
            version=number,
            hash=dag_hash,
            serialized=json.dumps(data),
            bundle_hash=bundle_hash,
            created_at=naive(now),
        )
        m.Dag.update(latest_version=number).where(m.Dag.dag_id == dag_id).execute()
        return _version(row)

    def rebundle(self, bundle_hash: str, exclude: set[str], now: datetime) -> list[StoredVersion]:
        """Give every other active DAG whose latest version has another bundle a new version on this one.

        The folder changed outside those DAGs' files (a helper module, a SQL file), which their
        tasks may read; runs of the older versions keep the older bundle.
        """
        active = {d.dag_id for d in m.Dag.select(m.Dag.dag_id).where(m.Dag.active)} - exclude
        latest = self.latest_versions()
        created = []
        with self.db.atomic():
            for dag_id in sorted(active):
                version = latest.get(dag_id)
                if version is not None and version.bundle_hash != bundle_hash:
                    created.append(
                        self._new_version(dag_id, version.version + 1, version.hash, version.data, bundle_hash, now)
                    )
        return created

    def delete_unused_bundles(self, keep: str) -> int:
        """Delete bundles that no DAG's latest version and no unfinished run needs; returns how many."""
        latest = {v.bundle_hash for v in self.latest_versions().values()}
        unfinished = (
            m.DagVersion.select(m.DagVersion.bundle_hash)
            .join(m.DagRun, on=(m.DagRun.dag_version_id == m.DagVersion.id))
            .where(m.DagRun.state.in_([RunState.QUEUED.value, RunState.RUNNING.value]))
            .distinct()
        )
        needed = latest | {row.bundle_hash for row in unfinished} | {keep}
        unused = [row.hash for row in m.Bundle.select(m.Bundle.hash) if row.hash not in needed]
        for chunk in _chunks(unused):
            m.Bundle.delete().where(m.Bundle.hash.in_(chunk)).execute()
        return len(unused)

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

    def grid_cells(self, run_pks: Sequence[int]) -> list[tuple[int, str, str, int, int]]:
        """(run pk, task_id, state, try_number, map_index) of every task instance of these runs, in one query."""
        if not run_pks:
            return []
        ti = m.TaskInstance
        columns = (ti.dag_run_id, ti.task_id, ti.state, ti.try_number, ti.map_index)
        query = ti.select(*columns).where(ti.dag_run_id.in_(list(run_pks)))
        return list(query.tuples())  # type: ignore[arg-type]

    def mapped_count(self, run_pk: int, task_id: str) -> int:
        """How many instances a mapped task has in a run (0 when it is not mapped or not expanded)."""
        ti = m.TaskInstance
        return ti.select().where((ti.dag_run_id == run_pk) & (ti.task_id == task_id) & (ti.map_index >= 0)).count()

    def get_ti(self, run_pk: int, task_id: str, map_index: int = -1) -> m.TaskInstance | None:
        ti = m.TaskInstance
        return ti.get_or_none((ti.dag_run_id == run_pk) & (ti.task_id == task_id) & (ti.map_index == map_index))

    def attempts(self, ti_id: int) -> list[m.TaskAttempt]:
        return list(
            m.TaskAttempt.select()
            .where(m.TaskAttempt.task_instance_id == ti_id)
            .order_by(m.TaskAttempt.try_number, m.TaskAttempt.id)
        )

    def version(self, version_id: int) -> StoredVersion | None:
        return self.versions([version_id]).get(version_id)

    def list_workers(self, forget_before: datetime | None = None, connected: Collection[str] = ()) -> list[m.Worker]:
        """Worker rows by name. With `forget_before`, the rows of workers last seen before it that
        are not `connected` now are deleted first; their attempts keep the worker's name."""
        if forget_before is not None:
            w = m.Worker
            seen = peewee.fn.COALESCE(w.last_seen_at, w.last_heartbeat_at, w.connected_at)
            gone = seen.is_null() | (seen < naive(forget_before))
            if connected:
                gone = gone & w.name.not_in(list(connected))
            w.delete().where(gone).execute()
        return list(m.Worker.select().order_by(m.Worker.name))

    def import_errors(self) -> list[m.ImportError]:
        return list(m.ImportError.select().order_by(m.ImportError.fileloc))

    def set_pool(self, name: str, slots: int, description: str, include_deferred: bool = False) -> None:
        values = {m.Pool.slots: slots, m.Pool.description: description, m.Pool.include_deferred: include_deferred}
        m.Pool.insert(name=name, slots=slots, description=description, include_deferred=include_deferred).on_conflict(
            conflict_target=[m.Pool.name], update=values
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

    def previous_run(self, dag_id: str, before: datetime | None, skip_manual: bool) -> PastRun | None:
        """The DAG's run with the latest logical date before `before` (the latest of all when None),
        and the states of its task instances, for depends_on_past after a restart or a clear."""
        query = m.DagRun.select().where(m.DagRun.dag_id == dag_id)
        if before is not None:
            query = query.where(m.DagRun.logical_date < naive(before))
        if skip_manual:
            query = query.where(m.DagRun.run_type != "manual")
        row = query.order_by(m.DagRun.logical_date.desc(), m.DagRun.id.desc()).first()
        if row is None:
            return None
        states = {t.task_id: TaskState(t.state) for t in self.list_tis(row.id)}
        logical = aware(row.logical_date)
        if logical is None:
            return None
        return PastRun(row.id, row.run_id, logical, row.run_type == "manual", states)

    def reschedules(self, ti_id: int) -> list[m.TaskReschedule]:
        """A task instance's task_reschedule rows, oldest first."""
        query = m.TaskReschedule.select().where(m.TaskReschedule.task_instance_id == ti_id)
        return list(query.order_by(m.TaskReschedule.id))

    def latest_attempts(self, ti_ids: Sequence[int]) -> dict[int, m.TaskAttempt]:
        out: dict[int, m.TaskAttempt] = {}
        for chunk in _chunks(list(ti_ids)):
            for row in (
                m.TaskAttempt.select().where(m.TaskAttempt.task_instance_id.in_(chunk)).order_by(m.TaskAttempt.id)
            ):
                out[row.task_instance_id] = row
        return out

    def delete_xcoms(self, run_pk: int, instances: Sequence[tuple[str, int]]) -> None:
        """Every XCom of these task instances, each named (task_id, map_index)."""
        by_index: dict[int, list[str]] = {}
        for task_id, map_index in instances:
            by_index.setdefault(map_index, []).append(task_id)
        for map_index, task_ids in by_index.items():
            x = m.XCom
            where = (x.dag_run_id == run_pk) & (x.map_index == map_index) & (x.task_id.in_(task_ids))
            x.delete().where(where).execute()


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
        "backfill_id": run.backfill_id,
    }


def _ti_row(ti: TaskInstance) -> dict[str, Any]:
    spec = ti.spec
    return {
        "id": ti.id,
        "dag_run_id": ti.run.id,
        "dag_id": ti.run.dag_id,
        "run_id": ti.run.run_id,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "rendered_map_index": ti.rendered_map_index,
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
        "lost": a.lost,
    }
