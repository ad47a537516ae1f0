"""One contract suite for the metastore, run on SQLite and on PostgreSQL.

PostgreSQL runs as tests/pg.py allows: skipped on a laptop without a server, required in CI.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import peewee
import psycopg2
import pytest

from coordinator import messages
from coordinator.clock import FakeClock
from coordinator.dagspec import DagSpec
from coordinator.metastore import db as dbmod
from coordinator.metastore import models as m
from coordinator.metastore.store import Store
from coordinator.records import Attempt, Changes, Run, TaskInstance
from coordinator.recovery import recover
from coordinator.scheduler import Ids, Scheduler
from tests.coordinator.conftest import dag, task
from tests.pg import fresh_database
from tradewind.exceptions import MetastoreError, SchemaVersionError
from tradewind.states import RunState, TaskState


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        database = dbmod.connect(f"sqlite:///{tmp_path / 'meta.db'}")
        yield Store(database)
        database.close()
        return
    with fresh_database() as url:
        database = dbmod.connect(url)
        yield Store(database)
        database.close()


NOW = datetime(2024, 1, 1, tzinfo=UTC)


def new_run(pk: int, spec: DagSpec) -> Run:
    return Run(pk, "d", f"r{pk}", RunState.RUNNING, "manual", NOW, None, None, {}, NOW, spec)


def records(store: Store, task_ids: list[str], run_pk: int = 1) -> tuple[Run, list[TaskInstance]]:
    """A stored DAG version and one new run of it with a task instance per task id, not committed."""
    data = dag("d", [task(t) for t in task_ids])
    version, _ = store.save_dag_version(data, f"h{run_pk}", "e" * 64, NOW, {"fileloc": "d.py"})
    if version is None:
        version = store.latest_versions()["d"]
    run = new_run(run_pk, DagSpec.build(version.id, data, "e" * 64))
    tis = [TaskInstance(run_pk * 100 + i, run, t, TaskState.SCHEDULED) for i, t in enumerate(task_ids)]
    return run, tis


class Counter:
    """Counts the transactions begun and the statements sent through the store's database."""

    def __init__(self, db: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.transactions = self.queries = 0
        begin, execute_sql = db.begin, db.execute_sql

        def counted_begin(*args: Any, **kwargs: Any) -> Any:
            self.transactions += 1
            return begin(*args, **kwargs)

        def counted_execute_sql(sql: str, params: Any = None) -> Any:
            if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                self.queries += 1
            return execute_sql(sql, params)

        monkeypatch.setattr(db, "begin", counted_begin)
        monkeypatch.setattr(db, "execute_sql", counted_execute_sql)


def test_group_commit_writes_a_batch_in_one_transaction_and_recovery_reads_it_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    scheduler = Scheduler(clock, Ids(*store.max_ids()))
    scheduler.pools = {"default_pool": 128}
    data = dag("etl", [task("a"), task("b", ["a"]), task("c", ["b"])])
    store.save_bundle("0" * 64, b"zip", clock.now())
    version, is_new = store.save_dag_version(data, "h1", "0" * 64, clock.now(), {"fileloc": "etl.py", "task_count": 3})
    assert version is not None and is_new
    scheduler.register_dag(DagSpec.build(version.id, data, "0" * 64), False, None)
    run = scheduler.trigger("etl", {"x": 1}, "", None, False)
    changes, _ = scheduler.take()
    changes.workers["w1"] = {"host": "h", "state": "active"}
    counter = Counter(store.db, monkeypatch)
    assert store.commit(changes) == []
    assert counter.transactions == 1

    rows = store.list_tis(run.id)
    assert [(r.task_id, r.state) for r in rows] == [("a", "scheduled"), ("b", "none"), ("c", "none")]

    again = Scheduler(clock, Ids(*store.max_ids()))
    recover(again, store)
    restored = again.run_for("etl", run.run_id)
    assert restored is not None
    assert restored.conf == {"x": 1}
    assert restored.tis["a"].state is TaskState.SCHEDULED
    assert len(again.queue) == 1
    assert again.ids.ti == 3


def test_an_unchanged_dag_makes_no_new_version(store: Store) -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    data = dag("d", [task("a")])
    first, _ = store.save_dag_version(data, "h", "b" * 64, now, {"fileloc": "d.py"})
    second, _ = store.save_dag_version(data, "h", "b" * 64, now, {"fileloc": "d.py"})
    third, _ = store.save_dag_version(data, "h2", "b" * 64, now, {"fileloc": "d.py"})
    assert first is not None and second is None and third is not None
    assert third.version == 2


def test_recent_run_states_are_read_in_one_query(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    scheduler = Scheduler(clock, Ids())
    scheduler.pools = {"default_pool": 1}
    data = dag("d", [task("a", kind="empty")])
    version, _ = store.save_dag_version(data, "h", "c" * 64, clock.now(), {"fileloc": "d.py"})
    assert version is not None
    scheduler.register_dag(DagSpec.build(version.id, data, "c" * 64), False, None)
    for i in range(12):
        scheduler.trigger("d", {}, f"r{i}", None, False)
    store.commit(scheduler.take()[0])
    counter = Counter(store.db, monkeypatch)
    states = store.recent_run_states(["d", "e"])
    assert counter.queries == 1
    assert states == {"d": [RunState.SUCCESS.value] * 10}


def test_a_newer_schema_is_refused(store: Store) -> None:
    m.Meta.update(value="999").where(m.Meta.key == "schema_version").execute()
    with pytest.raises(SchemaVersionError, match="schema version 999, newer than"):
        dbmod._ensure_schema(store.db, "test-url")


# ---- schema version 2 --------------------------------------------------------------------------
VERSION_1_DDL = [
    "CREATE TABLE meta (key VARCHAR(255) NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO meta (key, value) VALUES ('schema_version', '1')",
    """CREATE TABLE task_instance (id BIGINT NOT NULL PRIMARY KEY, dag_run_id BIGINT NOT NULL,
    dag_id VARCHAR(250) NOT NULL, run_id VARCHAR(250) NOT NULL, task_id VARCHAR(250) NOT NULL,
    state VARCHAR(20) NOT NULL, try_number INTEGER NOT NULL, max_tries INTEGER NOT NULL,
    operator VARCHAR(255) NOT NULL, queue VARCHAR(255) NOT NULL, pool VARCHAR(255) NOT NULL,
    priority_weight INTEGER NOT NULL, worker VARCHAR(255) NOT NULL, attempt_token VARCHAR(255) NOT NULL,
    start_date TIMESTAMP, end_date TIMESTAMP, next_retry_at TIMESTAMP)""",
    "CREATE UNIQUE INDEX task_instance_dag_run_id_task_id ON task_instance (dag_run_id, task_id)",
    "CREATE INDEX task_instance_state ON task_instance (state)",
    "CREATE INDEX task_instance_dag_id_state ON task_instance (dag_id, state)",
    """CREATE TABLE task_attempt (id BIGINT NOT NULL PRIMARY KEY, task_instance_id BIGINT NOT NULL,
    try_number INTEGER NOT NULL, attempt_token VARCHAR(255) NOT NULL, state VARCHAR(20) NOT NULL,
    worker VARCHAR(255) NOT NULL, ready_at TIMESTAMP, queued_at TIMESTAMP, sent_at TIMESTAMP,
    acked_at TIMESTAMP, started_at TIMESTAMP, ended_at TIMESTAMP, exit_code INTEGER, error TEXT NOT NULL,
    cpu_user REAL NOT NULL, cpu_system REAL NOT NULL, max_rss_bytes BIGINT NOT NULL, rendered TEXT NOT NULL)""",
    "CREATE INDEX task_attempt_task_instance_id ON task_attempt (task_instance_id)",
    """CREATE TABLE worker (name VARCHAR(255) NOT NULL PRIMARY KEY, host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL, queues TEXT NOT NULL, slots INTEGER NOT NULL, labels TEXT NOT NULL,
    kinds TEXT NOT NULL, version VARCHAR(255) NOT NULL, state VARCHAR(255) NOT NULL, reason TEXT NOT NULL,
    connected_at TIMESTAMP, last_heartbeat_at TIMESTAMP)""",
    """INSERT INTO task_instance VALUES (7, 1, 'd', 'r1', 'a', 'success', 1, 1, 'BashOperator', 'default',
    'default_pool', 1, 'w1', 'tok', NULL, NULL, NULL)""",
    """INSERT INTO task_attempt VALUES (3, 7, 1, 'tok', 'success', 'w1', NULL, NULL, NULL, NULL, NULL, NULL,
    0, '', 0.0, 0.0, 0, '')""",
    "INSERT INTO worker VALUES ('w1', 'h', 1, '[]', 4, '{}', '[]', '1.0', 'lost', '', NULL, NULL)",
    """CREATE TABLE xcom (id INTEGER NOT NULL PRIMARY KEY, dag_run_id BIGINT NOT NULL,
    task_id VARCHAR(250) NOT NULL, key VARCHAR(250) NOT NULL, value TEXT NOT NULL)""",
    "CREATE UNIQUE INDEX xcom_dag_run_id_task_id_key ON xcom (dag_run_id, task_id, key)",
    "INSERT INTO xcom VALUES (1, 1, 'a', 'return_value', '7')",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def version_1_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A metastore as schema version 1 left it (the tables version 2 changes), and an empty one."""
    if request.param == "sqlite":
        with sqlite3.connect(tmp_path / "v1.db") as conn:
            for statement in VERSION_1_DDL:
                conn.execute(statement)
        conn.close()
        yield f"sqlite:///{tmp_path / 'v1.db'}", f"sqlite:///{tmp_path / 'new.db'}"
        return
    with fresh_database() as url, fresh_database() as empty:
        conn = psycopg2.connect(url)
        with conn, conn.cursor() as cursor:
            for statement in VERSION_1_DDL:
                cursor.execute(statement)
        conn.close()
        yield url, empty


def schema(database: peewee.Database) -> dict[str, Any]:
    """Columns (name, nullable) and indexes of the tables version 2 changed."""
    return {
        table: (
            sorted((c.name, c.null) for c in database.get_columns(table)),
            sorted(
                (i.name, tuple(i.columns), i.unique)
                for i in database.get_indexes(table)
                if not i.name.startswith("sqlite_autoindex")  # SQLite's own index of a primary key
            ),
        )
        for table in ("task_instance", "task_attempt", "worker")
    }


def test_a_version_1_metastore_is_migrated_to_the_current_version(version_1_url: tuple[str, str]) -> None:
    old_url, new_url = version_1_url
    database = dbmod.connect(new_url)
    created = schema(database)
    database.close()
    database = dbmod.connect(old_url)
    try:
        assert schema(database) == created
        assert m.Meta.get(m.Meta.key == "schema_version").value == str(dbmod.SCHEMA_VERSION)
        old = m.TaskInstance.get_by_id(7)
        assert (old.task_id, old.map_index, old.state, old.rendered_map_index) == ("a", -1, "success", "")
        xcom = m.XCom.get_by_id(1)
        assert (xcom.task_id, xcom.map_index, xcom.value) == ("a", -1, "7")
        m.XCom.insert(id=2, dag_run_id=1, task_id="a", map_index=0, key="return_value", value="8").execute()
        with pytest.raises(peewee.IntegrityError), database.atomic():
            m.XCom.insert(id=3, dag_run_id=1, task_id="a", map_index=0, key="return_value", value="9").execute()
        assert m.TaskAttempt.get_by_id(3).lost is False
        worker = m.Worker.get_by_id("w1")
        assert (worker.instance_id, worker.last_seen_at, worker.slots) == ("", None, 4)
        assert m.DagRun.select().count() == 0  # the tables version 1 lacked here are created
        row = {k: getattr(old, k) for k in m.TaskInstance._meta.fields}
        m.TaskInstance.insert({**row, "id": 8, "map_index": 0}).execute()
        with pytest.raises(peewee.IntegrityError), database.atomic():
            m.TaskInstance.insert({**row, "id": 9, "map_index": 0}).execute()
    finally:
        database.close()
    database = dbmod.connect(old_url)  # opening it again finds it current
    assert m.Meta.get(m.Meta.key == "schema_version").value == str(dbmod.SCHEMA_VERSION)
    database.close()


def test_a_version_2_pool_table_gains_include_deferred(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v2.db'}"
    with sqlite3.connect(tmp_path / "v2.db") as conn:
        conn.execute("CREATE TABLE meta (key VARCHAR(255) PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '2')")
        conn.execute("CREATE TABLE pool (name VARCHAR(255) PRIMARY KEY, slots INTEGER NOT NULL, description TEXT)")
        conn.execute("INSERT INTO pool VALUES ('db', 4, '')")
    conn.close()
    database = dbmod.connect(url)
    try:
        assert m.Pool.get_by_id("db").include_deferred is False
        assert m.Meta.get(m.Meta.key == "schema_version").value == str(dbmod.SCHEMA_VERSION)
    finally:
        database.close()


def test_map_index_and_lost_are_stored_and_read_back(store: Store) -> None:
    run, (a, b) = records(store, ["a", "b"])
    b.map_index = 3
    attempt = Attempt(1, a.id, 1, "tok", TaskState.FAILED, worker="w1", lost=True, error="worker 'w1' lost")
    store.commit(Changes(new_runs=[run], new_tis=[a, b], new_attempts=[attempt]))
    assert {(r.task_id, r.map_index) for r in store.list_tis(run.id)} == {("a", -1), ("b", 3)}
    stored = store.get_ti(run.id, "b", 3)
    assert stored is not None and messages.ti_pb(stored).map_index == 3
    assert messages.ti_pb(b).map_index == 3
    (row,) = store.attempts(a.id)
    assert row.lost is True and messages.attempt_row_pb(row).lost is True
    attempt.lost = False
    store.commit(Changes(attempts={attempt.id: attempt}))
    assert store.attempts(a.id)[0].lost is False


def test_reschedules_are_stored_with_the_batch_and_loaded_for_recovery(store: Store) -> None:
    run, (a,) = records(store, ["a"])
    a.try_number, a.state = 1, TaskState.UP_FOR_RESCHEDULE
    due = NOW + timedelta(seconds=30)
    rows = [(a.id, 1, NOW, NOW + timedelta(seconds=1), NOW + timedelta(seconds=5)), (a.id, 1, NOW, NOW, due)]
    store.commit(Changes(new_runs=[run], new_tis=[a], reschedules=rows))
    stored = store.reschedules(a.id)
    assert [(r.try_number, r.reschedule_date) for r in stored] == [
        (1, (NOW + timedelta(seconds=5)).replace(tzinfo=None)),
        (1, due.replace(tzinfo=None)),
    ]
    assert [r.reschedule_date for r in store.load_active().reschedules] == [r.reschedule_date for r in stored]


# ---- what the database refuses ----------------------------------------------------------------
def test_a_batch_with_one_refused_row_stores_every_other_row(store: Store) -> None:
    run, (a, b, c) = records(store, ["a", "b", "c"])
    b.try_number = 2**70  # out of range for the column on every backend
    attempts = [Attempt(1, a.id, 1, "t1", TaskState.QUEUED), Attempt(2, c.id, 1, "t3", TaskState.QUEUED)]
    attempts[1].max_rss_bytes = 2**70
    changes = Changes(new_runs=[run], new_tis=[a, b, c], new_attempts=attempts)
    changes.xcoms.append((run.id, "a", -1, "return_value", '"x"'))
    changes.workers["w1"] = {"host": "h", "state": "active"}

    failures = store.commit(changes)

    assert [(f.kind, f.id) for f in failures] == [("task_instance", b.id), ("attempt", 2)]
    assert all(f.error and "\n" not in f.error for f in failures)
    assert [r.task_id for r in store.list_tis(run.id)] == ["a", "c"]
    assert [r.id for r in store.attempts(a.id)] == [1] and store.attempts(c.id) == []
    assert [w.name for w in store.list_workers()] == ["w1"]
    loaded = store.load_run("d", run.run_id)
    assert loaded is not None and len(loaded[2]) == 1, "the run and its XCom are stored"


def test_every_string_is_stored_in_a_form_every_backend_accepts(store: Store) -> None:
    run, (a,) = records(store, ["a"])
    nul = "bad\x00value"
    attempt = Attempt(1, a.id, 1, "t1", TaskState.FAILED, error=f"Traceback\x00 {'x' * 70_000}", rendered=nul)
    changes = Changes(new_runs=[run], new_tis=[a], new_attempts=[attempt])
    changes.xcoms.append((run.id, "a", -1, "return_value", nul))
    changes.workers["w1"] = {"host": "h" * 300 + "\x00", "version": nul, "reason": nul, "state": "lost"}
    assert store.commit(changes) == []
    a.worker = "w\x00" + "w" * 300
    attempt.error = nul
    assert store.commit(Changes(tis={a.id: a}, attempts={attempt.id: attempt})) == []
    store.set_pool("p\x00", 3, "described\x00" + "d" * 10_000)
    store.set_import_error("dags/x\x00.py", "Traceback\x00", NOW)

    escaped = "bad\\x00value"
    (worker,) = store.list_workers()
    assert worker.host == "h" * 255 and (worker.version, worker.reason) == (escaped, escaped)
    assert store.attempts(a.id)[0].error == escaped and store.attempts(a.id)[0].rendered == escaped
    assert store.list_tis(run.id)[0].worker == "w\\x00" + "w" * 250
    loaded = store.load_run("d", run.run_id)
    assert loaded is not None and loaded[2][0].value == escaped
    pool = store.pools()["p\\x00"]
    assert pool.description.startswith("described\\x00")
    assert [(e.fileloc, e.traceback) for e in store.import_errors()] == [("dags/x\\x00.py", "Traceback\\x00")]


# ---- connections -------------------------------------------------------------------------------
def test_reads_on_several_threads_while_another_thread_commits(store: Store) -> None:
    run, tis = records(store, ["a"])
    store.commit(Changes(new_runs=[run], new_tis=tis))
    batches = 30
    committed = threading.Event()
    started = threading.Barrier(4, timeout=30)
    errors: list[BaseException] = []
    connections: list[Any] = []
    lock = threading.Lock()

    def write() -> None:
        try:
            started.wait()
            for i in range(batches):
                more = new_run(i + 2, run.dag)
                ti = TaskInstance((i + 2) * 100, more, "a", TaskState.SCHEDULED)
                assert store.commit(Changes(new_runs=[more], new_tis=[ti])) == []
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
        finally:
            store.db.close()
            committed.set()

    def read() -> None:
        try:
            with lock:
                connections.append(store.db.connection())
            started.wait()
            while not committed.is_set():
                runs = store.list_runs("d")
                for row in runs[:3]:
                    store.list_tis(row.id)
                store.recent_run_states(["d"])
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
        finally:
            store.db.close()

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len({id(c) for c in connections}) == 3, "each thread has its own connection"
    assert len(store.list_runs("d", limit=1000)) == batches + 1


def test_a_postgresql_connection_the_server_ended_is_opened_again(monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_database() as url:
        database = dbmod.connect(url)
        store = Store(database)
        run, (a,) = records(store, ["a"])
        store.commit(Changes(new_runs=[run], new_tis=[a]))

        def end_connection() -> None:
            pid = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
            admin = psycopg2.connect(url)
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
            admin.close()

        end_connection()
        assert [r.task_id for r in store.list_tis(run.id)] == ["a"]
        end_connection()
        a.state = TaskState.QUEUED
        assert store.commit(Changes(tis={a.id: a})) == []
        assert store.list_tis(run.id)[0].state == TaskState.QUEUED.value

        write_all, ended = store._write_all, []

        def end_connection_inside_the_transaction(writes: Any) -> Any:
            if not ended:
                ended.append(end_connection())
            return write_all(writes)

        monkeypatch.setattr(store, "_write_all", end_connection_inside_the_transaction)
        a.state = TaskState.RUNNING
        assert store.commit(Changes(tis={a.id: a})) == []
        assert ended and store.list_tis(run.id)[0].state == TaskState.RUNNING.value
        database.close()


# ---- errors a person reads -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql://tw:s3cret@127.0.0.1:1/tw",
            "cannot open metastore postgresql://tw:***@127.0.0.1:1/tw: connection refused",
        ),
        ("postgresql://tw:s3cret@127.0.0.1:port/tw", "cannot open metastore postgresql://tw:***@127.0.0.1:port/tw: "),
        ("mysql://tw:s3cret@127.0.0.1/tw", "metastore URL must start with sqlite:/// or postgresql://, not "),
    ],
)
def test_a_bad_or_unreachable_metastore_url_is_one_line_without_the_password(url: str, message: str) -> None:
    with pytest.raises(MetastoreError) as caught:
        dbmod.connect(url)
    text = str(caught.value)
    assert text.startswith(message)
    assert "\n" not in text and "s3cret" not in text


def test_a_full_sqlite_disk_says_so(tmp_path: Path) -> None:
    database = dbmod.connect(f"sqlite:///{tmp_path / 'meta.db'}")
    store = Store(database)
    pages = database.execute_sql("PRAGMA page_count").fetchone()[0]
    database.execute_sql(f"PRAGMA max_page_count={pages}")
    changes = Changes()
    for i in range(2000):
        changes.workers[f"w{i}"] = {"host": "h" * 200, "state": "active"}
    with pytest.raises(MetastoreError) as caught:
        store.commit(changes)
    assert str(caught.value) == "cannot write to the metastore: database or disk is full"
    database.close()


def test_a_full_postgresql_disk_is_one_line() -> None:
    with fresh_database() as url:
        database = dbmod.connect(url)
        store = Store(database)
        database.execute_sql(
            """CREATE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN
            RAISE EXCEPTION USING ERRCODE = 'disk_full', HINT = 'Check free disk space.',
            MESSAGE = 'could not extend file "base/16384/16385": No space left on device';
            END $$ LANGUAGE plpgsql"""
        )
        database.execute_sql(
            "CREATE TRIGGER no_space BEFORE INSERT ON worker FOR EACH ROW EXECUTE PROCEDURE disk_full()"
        )
        changes = Changes()
        changes.workers["w1"] = {"host": "h", "state": "active"}
        with pytest.raises(MetastoreError) as caught:
            store.commit(changes)
        assert str(caught.value) == (
            'cannot write to the metastore: could not extend file "base/16384/16385": No space left on device'
        )
        database.close()


# ---- forgetting workers ----------------------------------------------------------------------------
def test_workers_gone_longer_than_the_retention_are_forgotten_but_their_attempts_stay(store: Store) -> None:
    run, (a,) = records(store, ["a"])
    hour, now = timedelta(hours=1), NOW + timedelta(days=1)
    changes = Changes(new_runs=[run], new_tis=[a], new_attempts=[Attempt(1, a.id, 1, "t", TaskState.FAILED, "old")])
    changes.workers["old"] = {"state": "lost", "last_seen_at": now - 2 * hour}
    changes.workers["never-seen"] = {"state": "lost"}
    changes.workers["recent"] = {"state": "lost", "last_seen_at": now - hour / 2}
    changes.workers["connected"] = {"state": "active", "connected_at": now - 5 * hour}
    assert store.commit(changes) == []

    listed = store.list_workers(forget_before=now - hour, connected={"connected"})

    assert [w.name for w in listed] == ["connected", "recent"]
    assert [w.name for w in store.list_workers()] == ["connected", "recent"]
    assert [r.worker for r in store.attempts(a.id)] == ["old"]


def test_a_version_2_metastore_gets_the_dag_display_name_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v2.db'}"
    dbmod.connect(url).close()
    with sqlite3.connect(tmp_path / "v2.db") as conn:
        conn.execute(
            "INSERT INTO dag (dag_id, fileloc, description, owner, schedule, paused, active, tags, "
            "max_active_runs, max_active_tasks, catchup, latest_version, task_count, display_name) "
            "VALUES ('d', 'd.py', '', '', '', 0, 1, '[]', 16, 16, 0, 1, 1, '')"
        )
        conn.execute("ALTER TABLE dag DROP COLUMN display_name")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()
    database = dbmod.connect(url)
    try:
        assert m.Dag.get_by_id("d").display_name == ""
        assert m.Meta.get(m.Meta.key == "schema_version").value == str(dbmod.SCHEMA_VERSION)
    finally:
        database.close()
