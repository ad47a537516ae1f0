"""Workers joining, leaving, draining and going silent.

A name belongs to one live worker: a Hello with the name of a connected session of another
instance_id is refused (AlreadyExists); the same instance_id is a reconnect and takes the old
session's attempts over. A worker silent for heartbeat_timeout is lost: its stream is closed
and its attempts run again elsewhere. Only a drained worker that closes its stream with
nothing running has left; any other broken stream is judged by the liveness timer.
"""

from __future__ import annotations

from coordinator.events import AttemptRef
from coordinator.scheduling.effects import CloseStream, Drain, Liveness, OrphanCheck, WatchWorker
from coordinator.scheduling.requests import Requests
from coordinator.sessions import WorkerSession
from tradewind.exceptions import AlreadyExists, NotFound
from tradewind.states import ON_WORKER


class Membership(Requests):
    def join(
        self, session: WorkerSession, running: tuple[AttemptRef, ...]
    ) -> tuple[list[AttemptRef], list[AttemptRef]]:
        """A worker (re)connected: keep the attempts it still runs if they are current, reject the rest."""
        old = self.workers.get(session.name)
        if (
            old is not None
            and old.connected
            and old.instance_id
            and session.instance_id
            and old.instance_id != session.instance_id
        ):
            raise AlreadyExists(
                f"worker name {session.name!r} is in use by a live worker on host {old.host or 'unknown'} "
                f"(pid {old.pid}); give this worker another --name"
            )
        session.last_seen = self.clock.monotonic()
        self._generation += 1
        session.generation = self._generation
        self.workers[session.name] = session
        reclaimed, rejected = [], []
        for attempt_ref in running:
            ti = self.tis.get(attempt_ref.ti_id)
            current = (
                ti is not None
                and ti.attempt is not None
                and ti.token == attempt_ref.token
                and ti.state in ON_WORKER
                and ti.worker == session.name
            )
            if not current or ti is None or ti.attempt is None:
                rejected.append(attempt_ref)
                continue
            if old is not None and ti.id in old.running:
                old.running.discard(ti.id)
                session.running.add(ti.id)
            else:
                self._hold(ti, session)
            ti.attempt.generation = session.generation
            if ti.attempt.acked_at is None:
                ti.attempt.acked_at = self.clock.now()
                self.changes.touch_attempt(ti.attempt)
            reclaimed.append(attempt_ref)
        if old is not None:
            for ti_id in list(old.running):
                ti = self.tis.get(ti_id)
                if ti is not None and ti.attempt is not None:
                    session.running.add(ti_id)
                    ti.attempt.generation = session.generation
                    # Its result may still come, replayed after the Welcome.
                    self._timer(self.ack_timeout, OrphanCheck(ti.id, ti.token, session.name))
            old.running.clear()
        for attempt in self.superseded.values():
            if attempt.worker == session.name:
                attempt.generation = session.generation
        self._worker_changed(session, connected_at=session.connected_at, reason="")
        self._timer(self.heartbeat_timeout, Liveness(session.name, session.generation))
        return reclaimed, rejected

    def _orphan_check(self, timer: OrphanCheck) -> None:
        ti = self.tis.get(timer.ti_id)
        if ti is None or ti.token != timer.token or ti.state not in ON_WORKER or ti.worker != timer.worker:
            return
        self._lose(ti, f"worker {timer.worker!r} reconnected without it")

    def left(self, name: str, generation: int) -> None:
        worker = self.workers.get(name)
        if worker is None or worker.generation != generation:
            return
        worker.connected = False
        if worker.running or not worker.draining:
            # Only a drained worker leaves; any other silence is judged by the liveness timer.
            self._worker_changed(worker)
            return
        del self.workers[name]
        self.changes.workers[name] = {"state": "left", "reason": "", "last_seen_at": self.clock.now()}
        self.effects.append(WatchWorker(worker, ("left", "")))

    def draining(self, name: str, generation: int, reason: str) -> None:
        worker = self.workers.get(name)
        if worker is not None and worker.generation == generation and not worker.draining:
            worker.draining = True
            self._worker_changed(worker, reason=reason)

    def expect(self, session: WorkerSession) -> None:
        """After a restart: a worker that held task instances has `rejoin_window` to come back."""
        session.connected = False
        session.last_seen = self.clock.monotonic() - (self.heartbeat_timeout - self.rejoin_window)
        self._generation += 1
        session.generation = self._generation
        self.workers[session.name] = session
        self._timer(self.rejoin_window, Liveness(session.name, session.generation))

    def _check_liveness(self, timer: Liveness) -> None:
        """Re-armed for as long as the same session lives; a silent worker is lost."""
        worker = self.workers.get(timer.worker)
        if worker is None or worker.generation != timer.generation:
            return
        silent = self.clock.monotonic() - worker.last_seen
        if silent >= self.heartbeat_timeout - 0.001:
            self._lost(worker)
        else:
            self._timer(self.heartbeat_timeout - silent + 0.05, timer)

    def _lost(self, worker: WorkerSession) -> None:
        silent = self.clock.monotonic() - worker.last_seen
        reason = (
            f"worker {worker.name!r} lost: no heartbeat for {silent:.1f}s "
            f"(heartbeat_timeout {self.heartbeat_timeout:g}s)"
        )
        del self.workers[worker.name]
        for ti_id in list(worker.running):
            ti = self.tis.get(ti_id)
            if ti is not None and ti.state in ON_WORKER:
                self._lose(ti, reason, worker)
        worker.running.clear()
        worker.cancelled.clear()
        self.changes.workers[worker.name] = {"state": "lost", "reason": reason, "last_seen_at": self.clock.now()}
        self.effects.append(WatchWorker(worker, ("lost", reason)))
        if worker.connected:
            self.effects.append(CloseStream(worker.name, worker.generation, reason))

    def drain(self, name: str) -> WorkerSession:
        worker = self.workers.get(name)
        if worker is None or not worker.connected:
            raise NotFound(f"worker {name!r} is not connected")
        worker.draining = True
        self.effects.append(Drain(name, "drain requested"))
        self._worker_changed(worker)
        return worker
