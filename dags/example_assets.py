"""Assets: a task that updates an asset, and a DAG that runs once both its assets are updated."""

from datetime import datetime

from tradewind import DAG, Asset, task

orders = Asset("s3://lake/orders")
prices = Asset("s3://lake/prices")

with DAG(dag_id="example_asset_producer", schedule=None, start_date=datetime(2024, 1, 1), tags=["example"]):

    @task(outlets=[orders])
    def write_orders(outlet_events=None):
        outlet_events[orders].extra = {"rows": 42}

    write_orders()

with DAG(dag_id="example_asset_consumer", schedule=orders & prices, start_date=datetime(2024, 1, 1), tags=["example"]):

    @task
    def report(triggering_asset_events=None):
        for asset, events in triggering_asset_events.items():
            print(asset.uri, [event.extra for event in events])

    report()
