import json

import pendulum
from airflow.sdk import dag, task


@dag(
    schedule=None,
    start_date=pendulum.datetime(2021, 1, 1, tz="UTC"),
    catchup=False,
    tags=["tutorial"],
)
def taskflow_etl():
    """A TaskFlow ETL pipeline: extract, transform, load."""

    @task()
    def extract():
        data_string = '{"1001": 301.27, "1002": 433.21, "1003": 502.22}'
        return json.loads(data_string)

    @task(multiple_outputs=True)
    def transform(order_data_dict: dict):
        total_order_value = 0
        for value in order_data_dict.values():
            total_order_value += value
        return {"total_order_value": total_order_value, "orders": len(order_data_dict)}

    @task()
    def load(total_order_value: float, orders: int):
        print(f"Total order value is: {total_order_value:.2f} over {orders} orders")
        assert round(total_order_value, 2) == 1236.70
        return round(total_order_value, 2)

    order_data = extract()
    order_summary = transform(order_data)
    load(order_summary["total_order_value"], order_summary["orders"])


taskflow_etl()
