"""TaskFlow: Python functions whose return values flow to the next task as XComs."""

from datetime import datetime

from tradewind import dag, task


@dag(schedule="@once", start_date=datetime(2024, 1, 1), tags=["example"])
def example_taskflow():
    @task
    def extract() -> dict:
        return {"orders": [12.5, 30.0, 7.25]}

    @task
    def total(data: dict) -> float:
        return sum(data["orders"])

    @task
    def report(amount: float, ds=None) -> None:
        print(f"total for {ds}: {amount:.2f}")

    report(total(extract()))


example_taskflow()
