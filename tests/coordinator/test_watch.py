"""Watch back-pressure: a subscriber that falls behind is sent one resync, never an unbounded queue."""

from __future__ import annotations

import asyncio

from coordinator.watch import WatchHub
from tradewind.v1 import control_pb2


def change(n: int) -> control_pb2.WatchResponse:
    return control_pb2.WatchResponse(task_instance=control_pb2.TaskInstance(id=n, dag_id="d"))


def drain(queue: asyncio.Queue[control_pb2.WatchResponse | None]) -> list[control_pb2.WatchResponse | None]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_a_subscriber_that_does_not_read_gets_one_resync_and_a_bounded_queue() -> None:
    hub = WatchHub(backlog=100)
    slow, fast = hub.subscribe(), hub.subscribe()
    fast_seen = 0
    for n in range(1, 10_001):
        hub.publish(change(n), "d")
        assert slow.queue.qsize() <= 101
        fast_seen += len(drain(fast.queue))
    assert fast_seen == 10_000
    items = drain(slow.queue)
    resyncs = [i for i in items if i is not None and i.WhichOneof("change") == "resync"]
    assert len(resyncs) == 1
    assert items[0] is resyncs[0]
    kept = [i.task_instance.id for i in items[1:] if i is not None]
    assert kept == list(range(10_001 - len(kept), 10_001))
    assert resyncs[0].resync.dropped + len(kept) == 10_000


def test_after_a_resync_every_change_is_delivered_again() -> None:
    hub = WatchHub(backlog=10)
    subscriber = hub.subscribe()
    for n in range(25):
        hub.publish(change(n), "d")
    drain(subscriber.queue)
    for n in range(25, 30):
        hub.publish(change(n), "d")
    assert [i.task_instance.id for i in drain(subscriber.queue) if i is not None] == [25, 26, 27, 28, 29]


def test_a_dag_filter_passes_its_dag_and_global_changes_only() -> None:
    hub = WatchHub()
    only_d = hub.subscribe("d")
    hub.publish(change(1), "d")
    hub.publish(change(2), "other")
    hub.publish(control_pb2.WatchResponse(worker=control_pb2.Worker(name="w")), "")
    kinds = [i.WhichOneof("change") for i in drain(only_d.queue) if i is not None]
    assert kinds == ["task_instance", "worker"]


def test_close_ends_every_subscription_and_unsubscribe_forgets() -> None:
    hub = WatchHub()
    a, b = hub.subscribe(), hub.subscribe()
    hub.unsubscribe(a)
    assert len(hub) == 1
    hub.close()
    assert drain(b.queue) == [None] and not hub
