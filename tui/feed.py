"""The Watch stream, read in a thread, delivered to the app as a few coalesced messages.

A busy coordinator commits thousands of changes a second; posting each as a Textual message
would starve the keyboard. The feed buffers changes and posts one `Wake` when the buffer goes
from empty to non-empty, and the app takes the whole buffer in one go.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from textual.message import Message

from tradewind.client import Client, Stream
from tradewind.exceptions import ApiError
from tradewind.v1 import control_pb2
from tradewind.wire import from_timestamp

#: How long to wait before trying a lost coordinator again.
RETRY_SECONDS = 1.0


class Wake(Message):
    """Changes are waiting in the feed's buffer."""


class Connected(Message):
    """The stream is open: read a fresh snapshot now and no change will be missed."""

    def __init__(self, server_time: datetime | None) -> None:
        super().__init__()
        self.server_time = server_time


class Resync(Message):
    """The coordinator dropped changes this client was too slow to read: read a fresh snapshot."""

    def __init__(self, dropped: int) -> None:
        super().__init__()
        self.dropped = dropped


class Disconnected(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class Feed:
    def __init__(self, client: Client, post: Callable[[Message], object]) -> None:
        self._client = client
        self._post = post
        self._lock = threading.Lock()
        self._buffer: list[control_pb2.WatchResponse] = []
        self._stopped = threading.Event()
        self._stream: Stream[control_pb2.WatchResponse] | None = None

    def take(self) -> list[control_pb2.WatchResponse]:
        with self._lock:
            taken, self._buffer = self._buffer, []
        return taken

    def stop(self) -> None:
        self._stopped.set()
        if self._stream is not None:
            self._stream.cancel()

    def run(self) -> None:
        """Read the stream until stopped, reconnecting after every loss."""
        while not self._stopped.is_set():
            stream = self._stream = self._client.watch()
            try:
                for response in stream:
                    kind = response.WhichOneof("change")
                    if kind == "ready":
                        self._post(Connected(from_timestamp(response.ready.server_time)))
                        continue
                    if kind == "resync":
                        # The snapshot read for it includes whatever is still buffered.
                        with self._lock:
                            self._buffer.clear()
                        self._post(Resync(response.resync.dropped))
                        continue
                    with self._lock:
                        self._buffer.append(response)
                        first = len(self._buffer) == 1
                    if first:
                        self._post(Wake())
                if not self._stopped.is_set():
                    self._post(Disconnected(f"the coordinator at {self._client.host} closed the connection"))
            except ApiError as exc:
                self._post(Disconnected(str(exc)))
            self._stopped.wait(RETRY_SECONDS)
