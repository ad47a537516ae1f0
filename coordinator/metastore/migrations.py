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


def _to_3_mapping(migrator: SchemaMigrator) -> None:
    """XComs of mapped task instances (by map index) and their rendered map_index_template."""
    migrate(
        migrator.add_column("task_instance", "rendered_map_index", peewee.TextField(default="")),
        migrator.add_column("xcom", "map_index", peewee.IntegerField(default=-1)),
        migrator.drop_index("xcom", "xcom_dag_run_id_task_id_key"),
        migrator.add_index("xcom", ("dag_run_id", "task_id", "map_index", "key"), True),
    )


def _to_3(migrator: SchemaMigrator) -> None:
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
