"""A warm, single-threaded Python process that forks one child per job.

Starting a task must not start a fresh interpreter, and the processes that host gRPC (the
coordinator and the worker) must never fork themselves. So each of them starts this server
with subprocess; it imports the preload modules once and forks a child for every job. A child
runs in its own session (process group == pid), so killing the group kills everything it
started. When the owner goes away, the server kills its children and exits.

A job with a warm-up (a Python task: its DAG file imported) leaves behind a *spare*: a child
of the same warm state, forked once the server has been quiet for SPARE_QUIET_SECONDS and
already leading its own group, that waits for the next job of that warm-up. That job then starts without a fork on its
path. A few warm-ups keep a spare each (MAX_SPARES, least recently used first out); a spare
unused for SPARE_IDLE_SECONDS exits.

Protocol: one JSON message per SOCK_SEQPACKET datagram, with the job's stdout descriptor
attached (SCM_RIGHTS). Requests: spawn. Replies: spawned (pid), error, exit (status, rusage).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import itertools
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from tradewind.exceptions import TradewindError

_MAX = 1 << 20
WARM_SECONDS = 10.0
MAX_WARM = 256
#: Warm keys (DAG files) with a child forked ahead of their next job, and how long one waits.
MAX_SPARES = 4
SPARE_IDLE_SECONDS = 300.0
#: A spare is forked once the server has had nothing to do for this long: forking one while
#: jobs start and end would take the CPU from them (on a small machine, more than it saves).
SPARE_QUIET_SECONDS = 0.02
#: How long a job waits for a just-forked spare to lead its own group before it is forked anew.
SPARE_READY_SECONDS = 2.0


class ForkServerError(TradewindError):
    """The fork server could not start a job, or it died."""


@dataclass(frozen=True)
class ChildExit:
    #: Exit code, or -N when killed by signal N.
    returncode: int
    cpu_user: float
    cpu_system: float
    max_rss_bytes: int


class Child:
    def __init__(self, pid: int, exit: Future[ChildExit], started_at: float = 0.0) -> None:
        self.pid = pid
        self.exit = exit
        #: When the server started it (time.time()), so a late reading of the reply does not move it.
        self.started_at = started_at or time.time()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)


class ForkServer:
    def __init__(
        self, preload: Sequence[str] = ("tradewind",), python: str = sys.executable, on_loop: bool = False
    ) -> None:
        """With `on_loop`, replies are read on the asyncio loop running where `start()` is called
        (one wake-up less per reply than a reader thread); callers on that loop use `submit`."""
        self.preload = tuple(preload)
        self.python = python
        self.on_loop = on_loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sock: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._spawning: dict[int, Future[Child]] = {}
        self._exits: dict[int, Future[ChildExit]] = {}
        self._reader: threading.Thread | None = None
        self._dead: str | None = None

    @property
    def alive(self) -> bool:
        return self._dead is None and self._process is not None and self._process.poll() is None

    def ensure_running(self) -> None:
        """Start a new server when the last one died (killed, out of memory)."""
        if not self.alive:
            self.close()
            self.start()

    def start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._process = subprocess.Popen(
            # -c, not -m: targets in this module must not be imported a second time in every child.
            [
                self.python,
                "-P",  # a folder in the working directory must not shadow a package the children import
                "-c",
                "import sys, tradewind.forkserver as f; f.main(sys.argv[1:])",
                str(child.fileno()),
                *self.preload,
            ],
            pass_fds=(child.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        child.close()
        self._sock = parent
        ready = parent.recv(_MAX)
        if not ready:
            code = self._process.wait()
            raise ForkServerError(f"the fork server exited with code {code} while starting")
        message = json.loads(ready)
        if message.get("op") != "ready":
            raise ForkServerError(f"the fork server failed to start: {message.get('error', message)}")
        self._dead = None
        if self.on_loop:
            self._loop = asyncio.get_running_loop()
            parent.setblocking(False)
            self._loop.add_reader(parent.fileno(), self._readable)
            return
        self._reader = threading.Thread(target=self._read, name="forkserver-reader", daemon=True)
        self._reader.start()

    def spawn(self, target: str, kwargs: dict[str, Any], **options: Any) -> Child:
        """Fork a child that calls `target` ("module:function") with `kwargs`; returns once it runs.
        Takes the options of `submit`."""
        return self.submit(target, kwargs, **options).result(timeout=30)

    def submit(
        self,
        target: str,
        kwargs: dict[str, Any],
        *,
        stdout: int | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        warm: tuple[str, dict[str, Any]] | None = None,
    ) -> Future[Child]:
        """Like spawn, without waiting: the future resolves once the child runs. `stdout` may be
        closed by the caller as soon as this returns.

        `warm` is a (target, kwargs) the server itself calls once, before the first fork that
        names it, so every later child starts with its work done (say, a DAG file imported).
        It gets WARM_SECONDS; a warm-up that fails or overruns is skipped, not retried."""
        if not self.alive or self._sock is None:
            raise ForkServerError(f"the fork server is not running ({self._dead or 'not started'})")
        job = next(self._ids)
        started: Future[Child] = Future()
        self._spawning[job] = started
        message = json.dumps(
            {"op": "spawn", "id": job, "target": target, "kwargs": kwargs, "cwd": cwd, "env": env, "warm": warm}
        ).encode()
        try:
            with self._send_lock:
                socket.send_fds(self._sock, [message], [stdout] if stdout is not None else [])
        except OSError as exc:
            self._spawning.pop(job, None)
            raise ForkServerError(f"cannot reach the fork server: {exc}") from exc
        return started

    def _read(self) -> None:
        assert self._sock is not None
        try:
            while data := self._sock.recv(_MAX):
                self._handle(data)
        except OSError:
            pass
        self._died()

    def _readable(self) -> None:
        """On the loop: every reply waiting on the socket, without blocking."""
        sock = self._sock
        if sock is None:
            return
        try:
            while data := sock.recv(_MAX):
                self._handle(data)
        except BlockingIOError:
            return
        except OSError:
            pass
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
        self._died()

    def _handle(self, data: bytes) -> None:
        message = json.loads(data)
        op = message["op"]
        if op == "spawned":
            exit: Future[ChildExit] = Future()
            self._exits[message["pid"]] = exit
            self._spawning.pop(message["id"]).set_result(Child(message["pid"], exit, message.get("at", 0.0)))
        elif op == "error":
            self._spawning.pop(message["id"]).set_exception(ForkServerError(message["error"]))
        elif op == "exit":
            future = self._exits.pop(message["pid"], None)
            if future is not None:
                future.set_result(
                    ChildExit(message["returncode"], message["utime"], message["stime"], message["maxrss"])
                )

    def _died(self) -> None:
        self._dead = "the fork server exited"
        error = ForkServerError("the fork server died before the job ended")
        for pending in list(self._spawning.values()) + list(self._exits.values()):
            if not pending.done():
                pending.set_exception(error)
        self._spawning.clear()
        self._exits.clear()

    def close(self) -> None:
        """Stop the server; it kills every child it still has."""
        if self._sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._sock.fileno())
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        if self._process is not None:
            if self._process.poll() is None and self._dead is not None:
                self._process.kill()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        if self._loop is not None:  # no reader is left to fail what still waits
            self._loop = None
            self._died()


def exec_command(argv: list[str]) -> None:
    """A target that runs a program (the server starts it with posix_spawn, not this function)."""
    os.execvp(argv[0], argv)


EXEC_TARGET = f"{__name__}:exec_command"


# ---- the server process ------------------------------------------------------------------


class _WarmTimeout(Exception):
    pass


def _warm_key(request: dict[str, Any]) -> str | None:
    return json.dumps(request["warm"], sort_keys=True) if request.get("warm") else None


def _warm(request: dict[str, Any], done: set[str]) -> None:
    """Run a request's warm-up in the server once, under a time limit; failures are left to the child."""
    key = _warm_key(request)
    if key is None or len(done) >= MAX_WARM or key in done:
        return
    done.add(key)
    target, kwargs = request["warm"]

    def expire(*_: object) -> None:
        raise _WarmTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, WARM_SECONDS)
    try:
        module_name, _, function_name = target.partition(":")
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
            getattr(importlib.import_module(module_name), function_name)(**kwargs)
    except BaseException:  # noqa: BLE001 - the child repeats the work and reports what goes wrong
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class _Spare:
    """A child forked ahead of its job, already leading its own process group, waiting on `sock`."""

    pid: int
    sock: socket.socket
    made_at: float


class _Server:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.children: set[int] = set()
        self.warmed: set[str] = set()
        #: By warm key, least recently used first.
        self.spares: dict[str, _Spare] = {}
        #: Warm keys whose spare is to be forked once the server is quiet.
        self.wanted: dict[str, None] = {}
        self.busy_at = 0.0
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_write, False)
        os.set_blocking(self.wake_read, False)
        self.selector = selectors.DefaultSelector()

    def inherited(self) -> list[int]:
        """What a child must not keep: the server's own descriptors and every spare's."""
        return [self.sock.fileno(), self.wake_read, self.wake_write, *(s.sock.fileno() for s in self.spares.values())]

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.selector.register(self.sock, selectors.EVENT_READ, "control")
        self.selector.register(self.wake_read, selectors.EVENT_READ, "child")
        self.sock.send(json.dumps({"op": "ready"}).encode())
        while self._turn():
            pass
        for spare in self.spares.values():
            spare.sock.close()
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def _turn(self) -> bool:
        timeout = SPARE_IDLE_SECONDS / 4
        if self.wanted:
            timeout = max(0.0, self.busy_at + SPARE_QUIET_SECONDS - time.monotonic())
        events = self.selector.select(timeout=timeout)
        if events:
            self.busy_at = time.monotonic()
        elif self.wanted:
            for warm_key in list(self.wanted):
                del self.wanted[warm_key]
                self._make_spare(warm_key)
        for key, _ in events:
            if key.data == "child":
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_read, 4096)
                _reap(self.sock, self.children)
                continue
            try:
                data, fds, _flags, _addr = socket.recv_fds(self.sock, _MAX, 4)
            except OSError:
                data, fds = b"", []
            if not data:
                return False
            self._request(data, fds)
        self._expire_spares()
        return True

    def _request(self, data: bytes, fds: list[int]) -> None:
        request = json.loads(data)
        for fd in fds:
            os.set_inheritable(fd, False)  # only the dup2 onto 1 and 2 reaches a program
        stdout = fds[0] if fds else None
        _warm(request, self.warmed)
        key = _warm_key(request) if request["target"] != EXEC_TARGET else None
        try:
            if request["target"] == EXEC_TARGET:
                pid = _spawn_program(request, stdout)
            else:
                pid = self._hand_to_spare(key, data, stdout) or _fork(request, stdout, self.selector, self.inherited())
        except OSError as exc:
            if stdout is not None:
                os.close(stdout)
            self.sock.send(json.dumps({"op": "error", "id": request["id"], "error": f"cannot start: {exc}"}).encode())
            return
        if stdout is not None:
            os.close(stdout)
        self.children.add(pid)
        self.sock.send(json.dumps({"op": "spawned", "id": request["id"], "pid": pid, "at": time.time()}).encode())
        _reap(self.sock, self.children)
        if key is not None and key not in self.spares:
            self.wanted[key] = None

    def _hand_to_spare(self, key: str | None, data: bytes, stdout: int | None) -> int | None:
        """The pid of the spare now running this job; None when there is none that could take it."""
        spare = self.spares.pop(key, None) if key is not None else None
        if spare is None:
            return None
        try:
            spare.sock.settimeout(SPARE_READY_SECONDS)
            if spare.sock.recv(1) != b"r":  # it leads its own group by now
                return None
            socket.send_fds(spare.sock, [data], [stdout] if stdout is not None else [])
            return spare.pid
        except OSError:
            return None
        finally:
            spare.sock.close()

    def _make_spare(self, key: str) -> None:
        """Fork the next child for `key` now, so the next job of that key starts without a fork."""
        if key in self.spares:
            return
        if len(self.spares) >= MAX_SPARES:
            oldest = next(iter(self.spares))
            self.spares.pop(oldest).sock.close()  # it exits when it reads the end
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            return
        if pid == 0:
            self.selector.close()
            ours.close()
            _spare(theirs, self.inherited())
        theirs.close()
        self.children.add(pid)
        self.spares[key] = _Spare(pid, ours, time.monotonic())

    def _expire_spares(self) -> None:
        now = time.monotonic()
        for key, spare in list(self.spares.items()):
            if now - spare.made_at > SPARE_IDLE_SECONDS:
                del self.spares[key]
                spare.sock.close()


def _fork(request: dict[str, Any], stdout: int | None, selector: selectors.BaseSelector, close: list[int]) -> int:
    """Fork a child and return once it leads its own process group with default signal handlers.

    Only then may its owner killpg it: before, a kill would find no such group (and the
    child would run on after it), or meet the server's own SIGTERM handler."""
    ready_read, ready_write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(ready_read)
        os.close(ready_write)
        raise
    if pid == 0:
        selector.close()
        os.close(ready_read)
        try:
            _lead_own_group(close)
            os.close(ready_write)
        except BaseException:  # noqa: BLE001
            os._exit(1)
        _child(request, stdout)
    os.close(ready_write)
    try:
        while os.read(ready_read, 1):
            pass
    finally:
        os.close(ready_read)
    return pid


def _spawn_program(request: dict[str, Any], stdout: int | None) -> int:
    """Start a program with posix_spawn: no copy of this interpreter, so much cheaper than fork.

    posix_spawn has no working-directory action, so the (single-threaded) server steps into
    the directory around the call; the child inherits it.
    """
    argv = request["kwargs"]["argv"]
    env = request.get("env")
    actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
    if stdout is not None:
        actions += [(os.POSIX_SPAWN_DUP2, stdout, 1), (os.POSIX_SPAWN_DUP2, stdout, 2)]
    else:
        actions += [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_DUP2, 1, 2)]
    path = shutil.which(argv[0], path=(env or os.environ).get("PATH")) or argv[0]
    here = os.getcwd()
    if request.get("cwd"):
        os.chdir(request["cwd"])
    try:
        return os.posix_spawn(
            path,
            argv,
            env if env is not None else os.environ,
            file_actions=actions,
            setsid=True,
            setsigdef=(signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE),
        )
    finally:
        os.chdir(here)


def _reap(sock: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        message = {
            "op": "exit",
            "pid": pid,
            "returncode": code,
            "utime": usage.ru_utime,
            "stime": usage.ru_stime,
            "maxrss": usage.ru_maxrss * 1024,
        }
        with contextlib.suppress(OSError):
            sock.send(json.dumps(message).encode())


def _lead_own_group(close: list[int]) -> None:
    """In a new child: default signal handlers, a session of its own, none of the server's descriptors."""
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    os.setsid()
    for fd in close:
        with contextlib.suppress(OSError):
            os.close(fd)


def _spare(sock: socket.socket, close: list[int]) -> None:
    """A spare child: lead its own group, say so, then wait for its one job (or the end, and exit)."""
    try:
        _lead_own_group([fd for fd in close if fd != sock.fileno()])
        sock.send(b"r")
        data, fds, _flags, _addr = socket.recv_fds(sock, _MAX, 4)
        sock.close()
    except BaseException:  # noqa: BLE001
        os._exit(1)
    if not data:
        os._exit(0)
    _child(json.loads(data), fds[0] if fds else None)


def _child(request: dict[str, Any], stdout: int | None) -> None:
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        target_fd = stdout if stdout is not None else null
        os.dup2(target_fd, 1)
        os.dup2(target_fd, 2)
        for fd in {null, target_fd}:
            if fd > 2:
                os.close(fd)
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        if request.get("cwd"):
            os.chdir(request["cwd"])
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
        module_name, _, function_name = request["target"].partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        function(**request["kwargs"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the child reports everything in its output
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main(argv: list[str]) -> None:
    sock = socket.socket(fileno=int(argv[0]))
    sock.set_inheritable(False)
    try:
        for name in argv[1:]:
            importlib.import_module(name)
        gc.freeze()  # children share the preloaded objects instead of copying pages the GC touches
    except BaseException as exc:  # noqa: BLE001
        sock.send(json.dumps({"op": "failed", "error": f"cannot import {exc}"}).encode())
        return
    _Server(sock).serve()
