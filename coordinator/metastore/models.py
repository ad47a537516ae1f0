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
    # dag_display_name, "" when none.
    display_name = TextField(default="")


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
    #: The backfill that created or last re-ran it.
    backfill_id = peewee.BigIntegerField(null=True)

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


class TaskReschedule(BaseModel):
    """One execution of a sensor in reschedule mode that ended up_for_reschedule (Airflow's
    task_reschedule): the first of a try dates its timeout, the last says when it runs next."""

    id = peewee.AutoField()
    task_instance_id = peewee.BigIntegerField(index=True)
    try_number = peewee.IntegerField()
    start_date = peewee.DateTimeField()
    end_date = peewee.DateTimeField()
    reschedule_date = peewee.DateTimeField()


class Trigger(BaseModel):
    """What a deferred task instance waits on; kept after it fired, for a resumed execution
    lost with its worker to resume again after a restart."""

    id = peewee.BigIntegerField(primary_key=True)
    task_instance_id = peewee.BigIntegerField(index=True)
    try_number = peewee.IntegerField()
    classpath = TextField()
    kwargs = TextField()
    next_method = CharField(max_length=250)
    next_kwargs = TextField()
    timeout_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField()
    fired = peewee.BooleanField(default=False)


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
    #: Deferred task instances keep their slots of this pool (Airflow's include_deferred).
    include_deferred = peewee.BooleanField(default=False)


class Variable(BaseModel):
    """A variable; `value` is Fernet ciphertext (coordinator/secrets.py)."""

    key = CharField(max_length=250, primary_key=True)
    value = TextField()
    description = TextField(default="")


class Connection(BaseModel):
    """A connection; `password` and `extra` are Fernet ciphertext (empty when there is none)."""

    conn_id = CharField(max_length=250, primary_key=True)
    conn_type = CharField(max_length=500)
    host = CharField(max_length=500, default="")
    login = CharField(max_length=500, default="")
    password = TextField(default="")
    schema = CharField(max_length=500, default="")
    port = peewee.IntegerField(default=0)
    extra = TextField(default="")
    description = TextField(default="")


class ApiToken(BaseModel):
    """A bearer token: only its SHA-256 is stored; the secret is shown once, when it is made."""

    id = peewee.AutoField()
    name = CharField(max_length=250)
    role = CharField(max_length=16)
    hash = CharField(max_length=64, unique=True)
    created_at = peewee.DateTimeField()
    expires_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)
    #: The token name of whoever made it ("" when made offline with `coordinator tokens create`).
    created_by = CharField(default="")


class AuditEntry(BaseModel):
    """One change a person (or program) made: who (token name), which RPC, on what, when."""

    id = peewee.AutoField()
    timestamp = peewee.DateTimeField(index=True)
    actor = CharField(max_length=250)
    rpc = CharField(max_length=100)
    subject = TextField()


class Backfill(BaseModel):
    """Runs of one DAG over a range of logical dates, started by their own max_active_runs."""

    id = peewee.BigIntegerField(primary_key=True)
    dag_id = CharField(max_length=250)
    from_date = peewee.DateTimeField()
    to_date = peewee.DateTimeField()
    reprocess = CharField(max_length=20)
    max_active_runs = peewee.IntegerField()
    run_backwards = peewee.BooleanField(default=False)
    #: running, completed or cancelled.
    state = CharField(max_length=20)
    created_at = peewee.DateTimeField()
    completed_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("dag_id", "id"), False),)


class BackfillDagRun(BaseModel):
    """One logical date of a backfill, in the order it takes them: its run, or why it has none."""

    id = peewee.AutoField()
    backfill_id = peewee.BigIntegerField()
    sort_ordinal = peewee.IntegerField()
    logical_date = peewee.DateTimeField()
    dag_run_id = peewee.BigIntegerField(null=True)
    #: "in flight" or "already exists" for a date left alone; empty for a date it runs.
    skipped = CharField(max_length=40, default="")

    class Meta:
        indexes = ((("backfill_id", "sort_ordinal"), True),)


class Asset(BaseModel):
    """An asset some DAG names, by URI; kept when the DAG goes, so its events stay readable."""

    uri = CharField(primary_key=True, max_length=1500)
    name = CharField(max_length=1500)
    group = CharField(default="asset")
    extra = TextField(default="{}")


class AssetEvent(BaseModel):
    """One change of an asset's data (source_* empty when a program emitted it)."""

    id = peewee.BigIntegerField(primary_key=True)
    uri = CharField(max_length=1500)
    extra = TextField(default="{}")
    source_dag_id = CharField(max_length=250, default="")
    source_run_id = CharField(max_length=250, default="")
    source_task_id = CharField(max_length=250, default="")
    source_map_index = peewee.IntegerField(default=-1)
    #: JSON list of the alias names the task added it through.
    source_aliases = TextField(default="[]")
    timestamp = peewee.DateTimeField()

    class Meta:
        indexes = ((("uri", "id"), False),)


class AssetDagQueue(BaseModel):
    """Events queued for a DAG scheduled on their asset, until a run of that DAG consumes them."""

    dag_id = CharField(max_length=250)
    event_id = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("dag_id", "event_id")


class AssetAliasAsset(BaseModel):
    """The assets an alias resolves to: each one a task added an event of through the alias."""

    alias = CharField(max_length=1500)
    uri = CharField(max_length=1500)

    class Meta:
        primary_key = peewee.CompositeKey("alias", "uri")


class DagRunAssetEvent(BaseModel):
    """The events that started an asset-triggered run (its triggering_asset_events)."""

    dag_run_id = peewee.BigIntegerField()
    event_id = peewee.BigIntegerField(index=True)

    class Meta:
        primary_key = peewee.CompositeKey("dag_run_id", "event_id")


ALL_MODELS: list[type[BaseModel]] = [
    Meta,
    Bundle,
    Dag,
    DagVersion,
    DagRun,
    TaskInstance,
    TaskAttempt,
    TaskReschedule,
    Trigger,
    XCom,
    Worker,
    ImportError,
    Pool,
    Variable,
    Connection,
    ApiToken,
    AuditEntry,
    Backfill,
    BackfillDagRun,
    Asset,
    AssetEvent,
    AssetDagQueue,
    DagRunAssetEvent,
    AssetAliasAsset,
]
