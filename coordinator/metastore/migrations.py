"""Bring a metastore written by an older Tradewind up to the current schema, one version at a time.

Each step runs in its own transaction together with the version bump, so a metastore is
always at exactly one version; SQLite and PostgreSQL both roll DDL back with the transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from coordinator.metastore import models as m

SCHEMA_VERSION = 3


def _to_2(migrator: SchemaMigrator) -> None:
    """Mapped task instances, lost executions, worker identity and last-seen time."""
    migrate(
        migrator.add_column("task_instance", "map_index", peewee.IntegerField(default=-1)),
        migrator.drop_index("task_instance", "task_instance_dag_run_id_task_id"),
        migrator.add_index("task_instance", ("dag_run_id", "task_id", "map_index"), True),
        migrator.add_column("task_attempt", "lost", peewee.BooleanField(default=False)),
        migrator.add_column("worker", "instance_id", peewee.CharField(default="")),
        migrator.add_column("worker", "last_seen_at", peewee.DateTimeField(null=True)),
    )


def _add_missing(migrator: SchemaMigrator, table: str, column: str, field: peewee.Field) -> None:
    """Add a column of version 3 unless the table already has it, or does not exist yet (it is
    then created whole with the other tables)."""
    db = migrator.database
    if table in db.get_tables() and column not in {c.name for c in db.get_columns(table)}:
        migrate(migrator.add_column(table, column, field))


def _to_3_backfill(migrator: SchemaMigrator) -> None:
    """Runs know the backfill that created or re-ran them (the backfill tables are new).

    A metastore without a dag_run table gets it, with the column, when the tables are created.
    """
    _add_missing(migrator, "dag_run", "backfill_id", peewee.BigIntegerField(null=True))


def _to_3_semantics(migrator: SchemaMigrator) -> None:
    """A DAG's display name (dag_display_name). A dag table not there yet is created whole later."""
    _add_missing(migrator, "dag", "display_name", peewee.TextField(default=""))


def _to_3_sensors(migrator: SchemaMigrator) -> None:
    """Pools that count deferred task instances (Airflow's include_deferred)."""
    _add_missing(migrator, "pool", "include_deferred", peewee.BooleanField(default=False))


def _to_3_mapping(migrator: SchemaMigrator) -> None:
    """XComs of mapped task instances (by map index) and their rendered map_index_template."""
    _add_missing(migrator, "task_instance", "rendered_map_index", peewee.TextField(default=""))
    db = migrator.database
    if "xcom" in db.get_tables() and "map_index" not in {c.name for c in db.get_columns("xcom")}:
        migrate(
            migrator.add_column("xcom", "map_index", peewee.IntegerField(default=-1)),
            migrator.drop_index("xcom", "xcom_dag_run_id_task_id_key"),
            migrator.add_index("xcom", ("dag_run_id", "task_id", "map_index", "key"), True),
        )


def _to_3(migrator: SchemaMigrator) -> None:
    _to_3_backfill(migrator)
    _to_3_semantics(migrator)
    _to_3_sensors(migrator)
    _to_3_mapping(migrator)


#: The step that turns version N-1 into version N.
STEPS: dict[int, Callable[[SchemaMigrator], None]] = {2: _to_2, 3: _to_3}


def upgrade(db: peewee.Database, found: int) -> None:
    """Apply every step after version `found`."""
    migrator = SchemaMigrator.from_database(db)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        with db.atomic():
            STEPS[version](migrator)
            m.Meta.update(value=str(version)).where(m.Meta.key == "schema_version").execute()
