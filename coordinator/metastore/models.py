"""The metastore's tables: columns and indexes only, no behaviour (queries live in store.py).

Times are naive UTC datetimes in the database; store.py converts at its boundary.
Ids of runs, task instances and attempts are allocated by the coordinator, the only writer.
Every string column stores its value through `sanitise`, so a value any client, worker or
task sent is accepted by every backend: PostgreSQL refuses NUL characters and over-long text.
"""

from __future__ import annotations

from typing import Any

import peewee

database = peewee.DatabaseProxy()


def sanitise(value: str, max_length: int | None = None) -> str:
    """NUL escaped as the four characters \\x00, then cut to the column's length."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if max_length is not None and len(value) > max_length:
        value = value[:max_length]
    return value


class CharField(peewee.CharField):
    def db_value(self, value: Any) -> Any:
        value = super().db_value(value)
        return sanitise(value, self.max_length) if isinstance(value, str) else value


class TextField(peewee.TextField):
    def db_value(self, value: Any) -> Any:
        value = super().db_value(value)
        return sanitise(value) if isinstance(value, str) else value


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Meta(BaseModel):
    key = CharField(primary_key=True)
    value = TextField()


class Bundle(BaseModel):
    hash = CharField(primary_key=True)
    data = peewee.BlobField()
    created_at = peewee.DateTimeField()


class Dag(BaseModel):
    dag_id = CharField(primary_key=True, max_length=250)
    fileloc = TextField()
    description = TextField(default="")
    owner = CharField(default="")
    schedule = CharField(default="")
    paused = peewee.BooleanField(default=False)
    active = peewee.BooleanField(default=True)
    tags = TextField(default="[]")
    max_active_runs = peewee.IntegerField(default=16)
    max_active_tasks = peewee.IntegerField(default=16)
    catchup = peewee.BooleanField(default=False)
    latest_version = peewee.IntegerField(default=0)
    # The logical date of the newest scheduled run; the timetable computes the next from it.
    last_scheduled_date = peewee.DateTimeField(null=True)
    next_run_at = peewee.DateTimeField(null=True)
    last_parsed_at = peewee.DateTimeField(null=True)
    task_count = peewee.IntegerField(default=0)


class DagVersion(BaseModel):
    id = peewee.AutoField()
    dag_id = CharField(max_length=250)
    version = peewee.IntegerField()
    hash = CharField()
    serialized = TextField()
    bundle_hash = CharField()
    created_at = peewee.DateTimeField()

    class Meta:
        indexes = ((("dag_id", "version"), True),)


class DagRun(BaseModel):
    id = peewee.BigIntegerField(primary_key=True)
    dag_id = CharField(max_length=250)
    run_id = CharField(max_length=250)
    state = CharField(max_length=20)
    run_type = CharField(max_length=20)
    logical_date = peewee.DateTimeField()
    data_interval_start = peewee.DateTimeField(null=True)
    data_interval_end = peewee.DateTimeField(null=True)
    conf = TextField(default="{}")
    queued_at = peewee.DateTimeField()
    start_date = peewee.DateTimeField(null=True)
    end_date = peewee.DateTimeField(null=True)
    dag_version_id = peewee.IntegerField()

    class Meta:
        indexes = (
            (("dag_id", "run_id"), True),
            (("dag_id", "id"), False),
            (("state",), False),
        )


class TaskInstance(BaseModel):
    id = peewee.BigIntegerField(primary_key=True)
    dag_run_id = peewee.BigIntegerField()
    dag_id = CharField(max_length=250)
    run_id = CharField(max_length=250)
    task_id = CharField(max_length=250)
    #: The index of a mapped task's instance; -1 when the task is not mapped.
    map_index = peewee.IntegerField(default=-1)
    state = CharField(max_length=20)
    try_number = peewee.IntegerField(default=0)
    max_tries = peewee.IntegerField(default=1)
    operator = CharField(default="")
    queue = CharField(default="default")
    pool = CharField(default="default_pool")
    priority_weight = peewee.IntegerField(default=1)
    worker = CharField(default="")
    attempt_token = CharField(default="")
    start_date = peewee.DateTimeField(null=True)
    end_date = peewee.DateTimeField(null=True)
    next_retry_at = peewee.DateTimeField(null=True)
    #: A mapped instance's name rendered from its task's map_index_template ("" for none).
    rendered_map_index = TextField(default="")

    class Meta:
        indexes = (
            (("dag_run_id", "task_id", "map_index"), True),
            (("state",), False),
            (("dag_id", "state"), False),
        )


class TaskAttempt(BaseModel):
    id = peewee.BigIntegerField(primary_key=True)
    task_instance_id = peewee.BigIntegerField(index=True)
    try_number = peewee.IntegerField()
    attempt_token = CharField()
    state = CharField(max_length=20)
    worker = CharField(default="")
    ready_at = peewee.DateTimeField(null=True)
    queued_at = peewee.DateTimeField(null=True)
    sent_at = peewee.DateTimeField(null=True)
    acked_at = peewee.DateTimeField(null=True)
    started_at = peewee.DateTimeField(null=True)
    ended_at = peewee.DateTimeField(null=True)
    exit_code = peewee.IntegerField(null=True)
    error = TextField(default="")
    cpu_user = peewee.FloatField(default=0.0)
    cpu_system = peewee.FloatField(default=0.0)
    max_rss_bytes = peewee.BigIntegerField(default=0)
    rendered = TextField(default="")
    #: The execution ended for a reason that was not the task's fault (its worker was lost, ...).
    lost = peewee.BooleanField(default=False)


class XCom(BaseModel):
    id = peewee.AutoField()
    dag_run_id = peewee.BigIntegerField()
    task_id = CharField(max_length=250)
    key = CharField(max_length=250)
    value = TextField()
    #: The map index of the task instance that pushed it; -1 for a task that is not mapped.
    map_index = peewee.IntegerField(default=-1)

    class Meta:
        table_name = "xcom"
        indexes = ((("dag_run_id", "task_id", "map_index", "key"), True),)


class Worker(BaseModel):
    name = CharField(primary_key=True)
    #: Tells a reconnect of the same worker from another worker using its name.
    instance_id = CharField(default="")
    host = CharField(default="")
    pid = peewee.IntegerField(default=0)
    queues = TextField(default="[]")
    slots = peewee.IntegerField(default=0)
    labels = TextField(default="{}")
    kinds = TextField(default="[]")
    version = CharField(default="")
    state = CharField(default="active")
    reason = TextField(default="")
    connected_at = peewee.DateTimeField(null=True)
    last_heartbeat_at = peewee.DateTimeField(null=True)
    #: When the coordinator last heard from it; kept across a restart, and a worker gone
    #: for longer than the retention is forgotten.
    last_seen_at = peewee.DateTimeField(null=True)


class ImportError(BaseModel):  # noqa: A001 - the domain name
    fileloc = CharField(primary_key=True)
    traceback = TextField()
    timestamp = peewee.DateTimeField()


class Pool(BaseModel):
    name = CharField(primary_key=True)
    slots = peewee.IntegerField()
    description = TextField(default="")


ALL_MODELS: list[type[BaseModel]] = [
    Meta,
    Bundle,
    Dag,
    DagVersion,
    DagRun,
    TaskInstance,
    TaskAttempt,
    XCom,
    Worker,
    ImportError,
    Pool,
]
