"""One contract suite for the metastore, run on SQLite and on PostgreSQL.

PostgreSQL runs as tests/pg.py allows: skipped on a laptop without a server, required in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coordinator.clock import FakeClock
from coordinator.dagspec import DagSpec
from coordinator.metastore import db as dbmod
from coordinator.metastore import models as m
from coordinator.metastore.store import Store
from coordinator.recovery import recover
from coordinator.scheduler import Ids, Scheduler
from tests.coordinator.conftest import dag, task
from tests.pg import fresh_database
from tradewind.exceptions import SchemaVersionError
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


def test_group_commit_writes_a_batch_in_one_transaction_and_recovery_reads_it_back(store: Store) -> None:
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
    store.commit(changes)

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


def test_recent_run_states_are_read_in_one_query(store: Store) -> None:
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
    states = store.recent_run_states(["d"])
    assert states["d"] == [RunState.SUCCESS.value] * 10


def test_a_newer_schema_is_refused(store: Store) -> None:
    m.Meta.update(value="999").where(m.Meta.key == "schema_version").execute()
    with pytest.raises(SchemaVersionError, match="schema version 999, newer than"):
        dbmod._ensure_schema(store.db, "test-url")
