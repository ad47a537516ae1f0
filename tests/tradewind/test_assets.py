"""The assets SDK: Asset, conditions, outlets, and what the serialized DAG carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tradewind import DAG, Asset, AssetAlias, AssetOrTimeSchedule, AssetWatcher, BashOperator, Dataset
from tradewind.assets import condition_uris, evaluate
from tradewind.exceptions import DagDefinitionError
from tradewind.serialization import serialize_dag

START = datetime(2024, 1, 1, tzinfo=UTC)
A, B, C = Asset("a"), Asset(name="b", uri="s3://b"), Dataset("s3://c")


def test_a_name_alone_is_also_the_uri_and_assets_are_equal_by_uri() -> None:
    assert (A.name, A.uri) == ("a", "a")
    assert Asset(uri="s3://b") == B and hash(Asset(uri="s3://b")) == hash(B)
    assert C.uri == "s3://c"


@pytest.mark.parametrize(
    ("uri", "message"), [("", "needs a name or a uri"), ("a b", "not valid"), ("airflow://x", "reserved")]
)
def test_bad_uris_are_refused(uri: str, message: str) -> None:
    with pytest.raises(DagDefinitionError, match=message):
        Asset(uri=uri or None)


def test_conditions_nest_and_evaluate_over_the_uris_with_events() -> None:
    condition = ((A & B) | C).as_json()
    assert condition == {"any": [{"all": [{"asset": "a"}, {"asset": "s3://b"}]}, {"asset": "s3://c"}]}
    assert list(condition_uris(condition)) == ["a", "s3://b", "s3://c"]
    assert not evaluate(condition, {"a"})
    assert evaluate(condition, {"a", "s3://b"}) and evaluate(condition, {"s3://c"})


def test_a_dag_on_assets_serializes_its_condition_assets_and_outlets() -> None:
    with DAG("consumer", schedule=[A, B], start_date=START) as dag:
        BashOperator(task_id="t", bash_command="true", outlets=[C], inlets=[A])
    data = serialize_dag(dag, "consumer.py")
    assert data["schedule"] is None
    assert data["asset_condition"] == {"all": [{"asset": "a"}, {"asset": "s3://b"}]}
    assert [a["uri"] for a in data["assets"]] == ["a", "s3://b", "s3://c"]
    assert data["tasks"][0]["outlets"] == ["s3://c"] and data["tasks"][0]["inlets"] == ["a"]


def test_a_dag_without_assets_serializes_as_before() -> None:
    with DAG("plain", schedule="@daily", start_date=START) as dag:
        BashOperator(task_id="t", bash_command="true")
    data = serialize_dag(dag, "plain.py")
    assert "asset_condition" not in data and "assets" not in data and "outlets" not in data["tasks"][0]


def test_asset_or_time_schedule_keeps_both() -> None:
    with DAG("both", schedule=AssetOrTimeSchedule(timetable="@daily", assets=A | B), start_date=START) as dag:
        BashOperator(task_id="t", bash_command="true")
    data = serialize_dag(dag, "both.py")
    assert data["schedule"] == {"kind": "preset", "expr": "@daily"}
    assert data["asset_condition"] == {"any": [{"asset": "a"}, {"asset": "s3://b"}]}


def test_a_dag_scheduled_on_a_watched_asset_serializes_its_watcher() -> None:
    watched = Asset("w", watchers=[AssetWatcher("files", trigger=FileTrigger("/in"))])
    data = serialize_dag(DAG("watch", schedule=[watched], start_date=START), "watch.py")
    (asset,) = data["assets"]
    assert [w["name"] for w in asset["watchers"]] == ["files"]


def test_an_alias_in_inlets_is_refused_at_parse_time() -> None:
    refused = pytest.raises(DagDefinitionError, match="task 't'.*does not support an AssetAlias in inlets yet")
    with DAG("al", schedule=None, start_date=START), refused:
        BashOperator(task_id="t", bash_command="true", inlets=[AssetAlias("x")])


def test_an_alias_serializes_in_a_schedule_and_in_outlets() -> None:
    with DAG("al", schedule=AssetAlias("daily-files") | A, start_date=START) as dag:
        BashOperator(task_id="t", bash_command="true", outlets=[AssetAlias("out"), B])
    data = serialize_dag(dag, "al.py")
    assert data["asset_condition"] == {"any": [{"alias": "daily-files"}, {"asset": "a"}]}
    assert data["tasks"][0]["outlets"] == ["s3://b"] and data["tasks"][0]["outlet_aliases"] == ["out"]
    condition = data["asset_condition"]
    assert not evaluate(condition, {"s3://x"}, {})
    assert evaluate(condition, {"s3://x"}, {"daily-files": {"s3://x"}})


def test_events_added_through_an_alias_and_by_metadata_are_reported_in_order() -> None:
    from tradewind import Metadata
    from tradewind.asset_events import OutletEventAccessors, collect_metadata

    alias = AssetAlias("out")
    events = OutletEventAccessors()
    events[alias].add(Asset("s3://x"), extra={"n": 1})

    def more():  # type: ignore[no-untyped-def]
        yield Metadata(Asset("s3://y"), {"n": 2}, alias=alias)

    collect_metadata(more(), events)
    added = json.loads(events.alias_events_json())
    assert [(e["alias"], e["uri"], e["extra"]) for e in added] == [
        ("out", "s3://x", {"n": 1}),
        ("out", "s3://y", {"n": 2}),
    ]


class FileTrigger:
    def __init__(self, path: str) -> None:
        self.path = path

    def serialize(self) -> tuple[str, dict[str, object]]:
        return "tests.FileTrigger", {"path": self.path}


def test_a_watcher_is_described_as_its_trigger_serializes_for_the_triggerer() -> None:
    watched = Asset("w", watchers=[AssetWatcher("files", trigger=FileTrigger("/in"))])
    assert watched.describe()["watchers"] == [
        {"name": "files", "classpath": "tests.FileTrigger", "kwargs": {"path": "/in"}}
    ]
    with pytest.raises(DagDefinitionError, match="watcher 'bad': its trigger .* has no serialize"):
        Asset("b", watchers=[AssetWatcher("bad", trigger=object())]).describe()


def test_outlets_must_hold_assets() -> None:
    refused = pytest.raises(DagDefinitionError, match="task 't': outlets must hold assets, not 's3://x'")
    with DAG("bad", schedule=None, start_date=START), refused:
        BashOperator(task_id="t", bash_command="true", outlets=["s3://x"])


def test_an_asset_function_is_an_asset_and_a_dag_of_one_task_producing_it() -> None:
    from tradewind import asset

    @asset(schedule="@daily", start_date=START, uri="s3://lake/orders")
    def orders(self: Asset, context: dict[str, object]) -> str:
        return f"{self.uri} {context['ds']}"

    assert isinstance(orders, Asset) and (orders.name, orders.uri) == ("orders", "s3://lake/orders")
    data = serialize_dag(orders.dag, "orders.py")
    assert data["dag_id"] == "orders" and data["schedule"] == {"kind": "preset", "expr": "@daily"}
    (task,) = data["tasks"]
    assert (task["task_id"], task["outlets"]) == ("orders", ["s3://lake/orders"])
    assert orders.dag.get_task("orders").execute({"ds": "2024-01-01"}) == "s3://lake/orders 2024-01-01"


def test_an_asset_function_naming_other_assets_is_refused_for_now() -> None:
    from tradewind import asset

    with pytest.raises(DagDefinitionError, match="Tradewind does not support @asset function parameters"):

        @asset(schedule=None)
        def report(orders: object) -> None: ...


def test_inlet_events_beyond_the_newest_sent_are_an_error_never_another_event() -> None:
    from tradewind.asset_events import InletEvents

    newest = [{"id": i, "uri": "u", "extra": {"n": i}, "timestamp": "2024-01-01T00:00:00+00:00"} for i in (4, 5)]
    events = InletEvents("u", 5, newest)
    assert len(events) == 5 and events[-1].extra == {"n": 5} and events[3].extra == {"n": 4}
    assert [e.extra for e in events[-2:]] == [{"n": 4}, {"n": 5}]
    with pytest.raises(DagDefinitionError, match="does not support reading more than the newest 2 events"):
        events[0]
    with pytest.raises(IndexError):
        events[5]


def test_a_task_that_yields_metadata_sets_its_outlets_extra_and_returns_its_value() -> None:
    from tradewind import Metadata, PythonOperator
    from tradewind.asset_events import OutletEventAccessors

    def produce():  # type: ignore[no-untyped-def]
        yield Metadata(A, {"rows": 1})
        yield "ignored"
        yield Metadata(A, {"more": 2})
        return 42

    with DAG("meta", schedule=None, start_date=START):
        task = PythonOperator(task_id="t", python_callable=produce, outlets=[A])
    outlet_events = OutletEventAccessors()
    assert task.execute({"outlet_events": outlet_events}) == 42
    assert outlet_events.extras_json() == '{"a": {"rows": 1, "more": 2}}'
