"""The metastore's tables: columns and indexes only, no behaviour (queries live in store.py).

Times are naive UTC datetimes in the database; store.py converts at its boundary.
Ids of runs, task instances and attempts are allocated by the coordinator, the only writer.
"""

from __future__ import annotations

import peewee

database = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class Meta(BaseModel):
    key = peewee.CharField(primary_key=True)
    value = peewee.TextField()


class Bundle(BaseModel):
    hash = peewee.CharField(primary_key=True)
    data = peewee.BlobField()
    created_at = peewee.DateTimeField()


class Dag(BaseModel):
    dag_id = peewee.CharField(primary_key=True, max_length=250)
    fileloc = peewee.TextField()
    description = peewee.TextField(default="")
    owner = peewee.CharField(default="")
    schedule = peewee.CharField(default="")
    paused = peewee.BooleanField(default=False)
    active = peewee.BooleanField(default=True)
    tags = peewee.TextField(default="[]")
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
    dag_id = peewee.CharField(max_length=250)
    version = peewee.IntegerField()
    hash = peewee.CharField()
    serialized = peewee.TextField()
    bundle_hash = peewee.CharField()
    created_at = peewee.DateTimeField()

    class Meta:
        indexes = ((("dag_id", "version"), True),)


class DagRun(BaseModel):
    id = peewee.BigIntegerField(primary_key=True)
    dag_id = peewee.CharField(max_length=250)
    run_id = peewee.CharField(max_length=250)
    state = peewee.CharField(max_length=20)
    run_type = peewee.CharField(max_length=20)
    logical_date = peewee.DateTimeField()
    data_interval_start = peewee.DateTimeField(null=True)
    data_interval_end = peewee.DateTimeField(null=True)
    conf = peewee.TextField(default="{}")
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
    dag_id = peewee.CharField(max_length=250)
    run_id = peewee.CharField(max_length=250)
    task_id = peewee.CharField(max_length=250)
    state = peewee.CharField(max_length=20)
    try_number = peewee.IntegerField(default=0)
    max_tries = peewee.IntegerField(default=1)
    operator = peewee.CharField(default="")
    queue = peewee.CharField(default="default")
    pool = peewee.CharField(default="default_pool")
    priority_weight = peewee.IntegerField(default=1)
    worker = peewee.CharField(default="")
    attempt_token = peewee.CharField(default="")
    start_date = peewee.DateTimeField(null=True)
    end_date = peewee.DateTimeField(null=True)
    next_retry_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = (
            (("dag_run_id", "task_id"), True),
            (("state",), False),
            (("dag_id", "state"), False),
        )


class TaskAttempt(BaseModel):
    id = peewee.BigIntegerField(primary_key=True)
    task_instance_id = peewee.BigIntegerField(index=True)
    try_number = peewee.IntegerField()
    attempt_token = peewee.CharField()
    state = peewee.CharField(max_length=20)
    worker = peewee.CharField(default="")
    ready_at = peewee.DateTimeField(null=True)
    queued_at = peewee.DateTimeField(null=True)
    sent_at = peewee.DateTimeField(null=True)
    acked_at = peewee.DateTimeField(null=True)
    started_at = peewee.DateTimeField(null=True)
    ended_at = peewee.DateTimeField(null=True)
    exit_code = peewee.IntegerField(null=True)
    error = peewee.TextField(default="")
    cpu_user = peewee.FloatField(default=0.0)
    cpu_system = peewee.FloatField(default=0.0)
    max_rss_bytes = peewee.BigIntegerField(default=0)
    rendered = peewee.TextField(default="")


class XCom(BaseModel):
    id = peewee.AutoField()
    dag_run_id = peewee.BigIntegerField()
    task_id = peewee.CharField(max_length=250)
    key = peewee.CharField(max_length=250)
    value = peewee.TextField()

    class Meta:
        table_name = "xcom"
        indexes = ((("dag_run_id", "task_id", "key"), True),)


class Worker(BaseModel):
    name = peewee.CharField(primary_key=True)
    host = peewee.CharField(default="")
    pid = peewee.IntegerField(default=0)
    queues = peewee.TextField(default="[]")
    slots = peewee.IntegerField(default=0)
    labels = peewee.TextField(default="{}")
    kinds = peewee.TextField(default="[]")
    version = peewee.CharField(default="")
    state = peewee.CharField(default="active")
    reason = peewee.TextField(default="")
    connected_at = peewee.DateTimeField(null=True)
    last_heartbeat_at = peewee.DateTimeField(null=True)


class ImportError(BaseModel):  # noqa: A001 - the domain name
    fileloc = peewee.CharField(primary_key=True)
    traceback = peewee.TextField()
    timestamp = peewee.DateTimeField()


class Pool(BaseModel):
    name = peewee.CharField(primary_key=True)
    slots = peewee.IntegerField()
    description = peewee.TextField(default="")


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
