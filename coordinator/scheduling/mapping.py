"""Dynamic task mapping: a mapped task becomes one task instance per item when its inputs are known.

Before expansion a mapped task has one task instance at map index -1 that stands for it. A task
mapped over literals only is expanded when its run starts, as in Airflow; any other when its
trigger rule lets it run (a task of a mapped task group downstream of another of its tasks: as
soon as that one is expanded, each instance then waiting for its own index's upstream). Then
the values it is mapped over are read, literals from the DAG version and XComs from the run;
that instance becomes map index 0 and instances 1..n-1 are created, each then waiting on its
own trigger rule. Zero items skip it; more than max_map_length, or a value that is neither a
list nor a dict, fails it naming the task and the value. A task instance's own arguments are
computed at dispatch from the values kept at expansion: the cross product of several arguments
(the last varying fastest, as in Airflow), or the index-th dict of expand_kwargs. A cleared
mapped task reads its values again and matches its instances to them (`_revise`)."""

from __future__ import annotations

import math
from typing import Any

from coordinator.mapspec import MappingError, MapSpec, Source, same_group
from coordinator.records import Run, TaskInstance
from coordinator.scheduling.effects import WriteLog
from coordinator.scheduling.readiness import Readiness, skipped_by_upstream, upstream_counts
from tradewind import xcom_codec
from tradewind.exceptions import SerializationError
from tradewind.states import TaskState
from tradewind.trigger_rules import Verdict, evaluate

T = TaskState
#: Airflow's default [core] max_map_length.
MAX_MAP_LENGTH = 1024


class Mapping(Readiness):
    max_map_length = MAX_MAP_LENGTH

    def _evaluate_mapped(self, ti: TaskInstance) -> list[TaskInstance]:
        """Decide a mapped task's instance whose values are not read yet: the unexpanded one is
        waited for, ended or expanded; an expanded one (cleared, or after a restart) is waited
        for, ended, or run once the task's instances match what it is mapped over now. Returns
        the instances to evaluate in turn."""
        spec = ti.spec
        mapping = spec.mapping
        assert mapping is not None
        run = ti.run
        if ti.map_index < 0:
            in_group = [up for up in spec.upstream if same_group(run.dag.tasks[up].mapping, mapping)]
            if in_group and all(up in run.mapped for up in in_group):
                return self._expand(ti)
        verdict = evaluate(spec.trigger_rule, upstream_counts(ti))
        if verdict is Verdict.RUN and skipped_by_upstream(ti):
            verdict = Verdict.SKIP
        if verdict is Verdict.WAIT:
            return []
        if verdict is not Verdict.RUN:
            self._end_ti(ti, T.SKIPPED if verdict is Verdict.SKIP else T.UPSTREAM_FAILED)
            return []
        if ti.map_index < 0:
            return self._expand(ti)
        revived = self._revise(ti)
        if ti.state is T.NONE:
            self._schedule(ti)
        return revived

    def _expand_literals(self, run: Run) -> list[TaskInstance]:
        """At run start, expand every mapped task mapped over literals only, as Airflow does; the
        new instances of tasks without upstream tasks are returned, to be evaluated as roots."""
        roots: list[TaskInstance] = []
        for task_id, spec in run.dag.tasks.items():
            if spec.mapping is not None and not spec.mapping.producers:
                instances = self._expand(run.tis[task_id])
                if not spec.upstream:
                    roots.extend(instances[1:])
        return roots

    def _read(self, ti: TaskInstance) -> tuple[Any, int] | None:
        """What the task is mapped over and how many items that is; None when it cannot be
        mapped, after failing `ti` saying why."""
        try:
            values = map_values(ti.run, ti)
            count = map_length(ti.spec.mapping, values)  # type: ignore[arg-type]
            if count > self.max_map_length:
                raise MappingError(
                    f"task {ti.task_id!r} would expand to {count} task instances, more than "
                    f"max_map_length ({self.max_map_length})"
                )
        except MappingError as exc:
            self._map_failed(ti, str(exc))
            return None
        except (SerializationError, ValueError) as exc:
            self._map_failed(ti, f"task {ti.task_id!r}: what it is mapped over cannot be read: {exc}")
            return None
        return values, count

    def _expand(self, ti: TaskInstance) -> list[TaskInstance]:
        run = ti.run
        read = self._read(ti)
        if read is None:
            return []
        values, count = read
        if count == 0:
            self._end_ti(ti, T.SKIPPED)
            return []
        run.map_values[ti.task_id] = values
        ti.map_index = 0
        self.changes.touch_ti(ti)
        instances = [ti]
        for index in range(1, count):
            new = TaskInstance(id=self.ids.next_ti(), run=run, task_id=ti.task_id, max_tries=ti.max_tries)
            new.map_index = index
            self.tis[new.id] = new
            self.changes.new_tis.append(new)
            instances.append(new)
        run.mapped[ti.task_id] = instances
        run.unfinished += count - 1
        return instances

    def _revise(self, ti: TaskInstance) -> list[TaskInstance]:
        """Read an expanded task's values again and match its instances to them, as Airflow
        does when an upstream task ran again: an instance past the items is removed, a removed
        one within them comes back, and new ones are made. Returns those that came or came back."""
        run = ti.run
        read = self._read(ti)
        if read is None:
            return []
        values, count = read
        run.map_values[ti.task_id] = values
        instances = run.mapped[ti.task_id]
        for other in instances[count:]:
            if other.state is T.NONE:
                self._end_ti(other, T.REMOVED)
        revived = []
        for other in instances[:count]:
            if other.state is T.REMOVED:
                self._set_state(other, T.NONE)
                other.end_date = None
                run.unfinished += 1
                revived.append(other)
        for index in range(len(instances), count):
            new = TaskInstance(id=self.ids.next_ti(), run=run, task_id=ti.task_id, max_tries=ti.max_tries)
            new.map_index = index
            self.tis[new.id] = new
            self.changes.new_tis.append(new)
            instances.append(new)
            run.unfinished += 1
            revived.append(new)
        return revived

    def _map_failed(self, ti: TaskInstance, message: str) -> None:
        """Fail the unexpanded instance with a try whose error and log say why."""
        ti.try_number += 1
        self._new_attempt(ti)
        run = ti.run
        self.effects.append(WriteLog(run.dag_id, run.run_id, ti.task_id, ti.map_index, ti.try_number, f"{message}\n"))
        self._break(ti, message)

    def _mapped_arguments(self, ti: TaskInstance) -> dict[str, Any]:
        """This instance's own expanded arguments, from the values kept when its instances were
        last matched to them (read again after a restart)."""
        run = ti.run
        values = run.map_values.get(ti.task_id)
        if values is None:
            values = run.map_values[ti.task_id] = map_values(run, ti)
        return arguments_at(ti, values)


def map_values(run: Run, ti: TaskInstance) -> Any:
    """What the task is mapped over, decoded: [(name, items)] for expand, the list of dicts for
    expand_kwargs; a dict's items are (key, value) pairs, as in Airflow."""
    mapping = ti.spec.mapping
    assert mapping is not None
    if mapping.kind == "dict":
        return [(name, _items(ti, source, source_value(run, ti, source))) for name, source in mapping.args]
    assert mapping.source is not None
    value = source_value(run, ti, mapping.source)
    if not isinstance(value, list):
        raise MappingError(
            f"task {ti.task_id!r} cannot expand_kwargs over {mapping.source.describe()}: it is a "
            f"{type(value).__name__}, not a list of dicts"
        )
    for item in value:
        if not isinstance(item, dict) or not all(isinstance(key, str) for key in item):
            raise MappingError(
                f"task {ti.task_id!r} cannot expand_kwargs over {mapping.source.describe()}: an item is a "
                f"{type(item).__name__}, not a dict of arguments by name"
            )
    return value


def map_length(mapping: MapSpec, values: Any) -> int:
    if mapping.kind == "dict":
        return math.prod(len(items) for _, items in values)
    return len(values)


def arguments_at(ti: TaskInstance, values: Any) -> dict[str, Any]:
    mapping = ti.spec.mapping
    assert mapping is not None
    index = ti.map_index
    if index >= map_length(mapping, values):
        raise MappingError(
            f"task {ti.task_id!r} has no item at map index {index}: what it is mapped over now has "
            f"{map_length(mapping, values)} items"
        )
    if mapping.kind == "list":
        return dict(values[index])
    picked: dict[str, Any] = {}
    for name, items in reversed(values):
        picked[name] = items[index % len(items)]
        index //= len(items)
    return {name: picked[name] for name, _ in values}


def source_value(run: Run, ti: TaskInstance, source: Source) -> Any:
    if not source.task_id:
        return source.literal
    producers = run.mapped.get(source.task_id)
    if producers is not None:
        value: Any = [
            xcom_codec.loads(text)
            for p in producers
            if (text := run.xcoms.get((source.task_id, p.map_index, source.key))) is not None
        ]
    else:
        text = run.xcoms.get((source.task_id, -1, source.key))
        if text is None:
            raise MappingError(f"task {ti.task_id!r} cannot be mapped over {source.describe()}: it pushed no value")
        value = xcom_codec.loads(text)
    for step in source.path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            raise MappingError(
                f"task {ti.task_id!r} cannot be mapped over {source.describe()}: it has no item {step!r}"
            ) from None
    return value


def _items(ti: TaskInstance, source: Source, value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        return value
    raise MappingError(
        f"task {ti.task_id!r} cannot be mapped over {source.describe()}: it is a {type(value).__name__}, "
        "not a list or a dict"
    )
