"""A task attempt's log, read from TailLogs in a thread; with follow, lines appear as the worker sends them."""

from __future__ import annotations

import codecs

from textual.widgets import Log

from tradewind.client import Client, Stream
from tradewind.exceptions import ApiError
from tradewind.v1 import control_pb2

#: The newest lines kept on screen; the whole log stays on the coordinator.
MAX_LINES = 50_000


class LogView(Log):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, highlight=False, auto_scroll=True, max_lines=MAX_LINES)
        self._stream: Stream[control_pb2.TailLogsResponse] | None = None
        self.key: tuple[str, str, str, int] | None = None

    def read(
        self,
        client: Client,
        dag_id: str,
        run_id: str,
        task_id: str,
        try_number: int,
        follow: bool,
        map_index: int = -1,
    ) -> None:
        """Show one try's log from its start, replacing what is shown; keep following when `follow`."""
        self.stop()
        self.clear()
        self.key = (dag_id, run_id, task_id, try_number)
        stream = self._stream = client.tail_logs(dag_id, run_id, task_id, try_number, follow, map_index)
        self.run_worker(lambda: self._pump(stream), thread=True, group="log-reader")

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.cancel()
            self._stream = None

    def on_unmount(self) -> None:
        self.stop()

    def _pump(self, stream: Stream[control_pb2.TailLogsResponse]) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            for chunk in stream:
                text = decoder.decode(chunk.data)
                if text and stream is self._stream:
                    self.app.call_from_thread(self.write, text)
            ended = "" if stream is not self._stream else decoder.decode(b"", final=True)
            if ended:
                self.app.call_from_thread(self.write, ended)
        except ApiError as exc:
            if stream is self._stream:
                self.app.call_from_thread(self.write_line, f"\n[log stream lost: {exc}]")
        except RuntimeError:
            pass  # the app is closing
