"""Deferral: an operator that gives its slot back while a trigger waits for it in the triggerer."""

from datetime import timedelta

from tradewind import DAG, BaseOperator, TimeDeltaTrigger


class WaitThenReport(BaseOperator):
    """Waits `seconds` in the triggerer (not on a worker), then resumes in `report`."""

    def __init__(self, *, seconds: float, **kwargs):
        super().__init__(**kwargs)
        self.seconds = seconds

    def execute(self, context):
        self.defer(
            trigger=TimeDeltaTrigger(timedelta(seconds=self.seconds)),
            method_name="report",
            kwargs={"asked": self.seconds},
            timeout=timedelta(minutes=10),
        )

    def report(self, context, asked, event=None):
        print(f"waited {asked}s in the triggerer; the trigger fired at {event}")
        return asked


with DAG(dag_id="example_deferral", schedule=None, tags=["example"]):
    WaitThenReport(task_id="wait", seconds=2)
