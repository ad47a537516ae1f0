"""`worker join --parent-pid PID`: a worker that must not outlive the process that started it.

`coordinator standalone` starts its local workers this way, so a standalone that dies (even
by SIGKILL) does not leave workers behind to fight the next one for their names.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
CHECK_SECONDS = 1.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (the fork server then kills the tasks)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


async def watch_parent(pid: int, gone: Callable[[], None]) -> None:
    """Call `gone` once process `pid` has ended (checked every second; at once if it already has)."""
    is_parent = os.getppid() == pid
    if is_parent:
        die_with_parent()
    while alive(pid) and (not is_parent or os.getppid() == pid):
        await asyncio.sleep(CHECK_SECONDS)
    gone()
