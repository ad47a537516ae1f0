"""Load figures for heartbeats, sampled with psutil."""

from __future__ import annotations

import os

import psutil

from tradewind.v1 import worker_pb2

_process = psutil.Process()
psutil.cpu_percent(None)


def heartbeat(running: int) -> worker_pb2.WorkerMessage:
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return worker_pb2.WorkerMessage(
        heartbeat=worker_pb2.Heartbeat(
            cpu_percent=psutil.cpu_percent(None),
            memory_percent=psutil.virtual_memory().percent,
            rss_bytes=_process.memory_info().rss,
            load_average=load,
            running=running,
        )
    )
