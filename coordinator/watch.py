"""Watch subscribers: every committed change fanned out to each client, with a bounded backlog.

A client that reads slower than changes are committed must not make the coordinator hold an
unbounded queue for it: past MAX_WATCH_BACKLOG waiting changes its backlog is dropped and it
is sent one `resync` (with the count dropped), after which it gets every change again. A
client that sees `resync` re-reads its snapshot.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tradewind.v1 import control_pb2
from tradewind.wire import MAX_WATCH_BACKLOG


@dataclass(eq=False)
class Subscriber:
    #: Only changes of this DAG; empty for all.
    dag_id: str
    backlog: int = MAX_WATCH_BACKLOG
    queue: asyncio.Queue[control_pb2.WatchResponse | None] = field(default_factory=asyncio.Queue)

    def offer(self, response: control_pb2.WatchResponse) -> None:
        if self.queue.qsize() >= self.backlog:
            # An unread resync at the head is folded into the new one, so its count is kept.
            dropped = 0
            while not self.queue.empty():
                item = self.queue.get_nowait()
                dropped += item.resync.dropped if item is not None and item.HasField("resync") else 1
            self.queue.put_nowait(control_pb2.WatchResponse(resync=control_pb2.WatchResync(dropped=dropped)))
        self.queue.put_nowait(response)

    async def next(self) -> control_pb2.WatchResponse | None:
        """The next change; None when the hub closed the subscription."""
        return await self.queue.get()


class WatchHub:
    def __init__(self, backlog: int = MAX_WATCH_BACKLOG) -> None:
        self.backlog = backlog
        self._subscribers: set[Subscriber] = set()

    def __bool__(self) -> bool:
        return bool(self._subscribers)

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, dag_id: str = "") -> Subscriber:
        subscriber = Subscriber(dag_id, self.backlog)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)

    def publish(self, response: control_pb2.WatchResponse, dag_id: str = "") -> None:
        """Offer a committed change to every subscriber whose filter it passes."""
        for subscriber in self._subscribers:
            if not subscriber.dag_id or not dag_id or subscriber.dag_id == dag_id:
                subscriber.offer(response)

    def close(self) -> None:
        for subscriber in self._subscribers:
            subscriber.queue.put_nowait(None)
        self._subscribers.clear()
