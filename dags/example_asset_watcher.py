"""An AssetWatcher: each new CSV file in /tmp/landing is an event of the asset, which runs the DAG."""

from datetime import datetime

from tradewind import DAG, Asset, AssetWatcher, task
from tradewind.triggers import FileTrigger

landing = Asset(
    "file:///tmp/landing",
    watchers=[AssetWatcher("new_csv", trigger=FileTrigger(filepath="/tmp/landing/*.csv", poke_interval=5))],
)

with DAG(dag_id="example_asset_watcher", schedule=[landing], start_date=datetime(2024, 1, 1), tags=["example"]):

    @task
    def load(triggering_asset_events=None):
        for event in triggering_asset_events[landing]:
            print("new file:", event.extra["payload"])

    load()
