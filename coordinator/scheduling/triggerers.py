"""Triggerers: the processes that run deferred tasks' triggers, and which trigger runs where.

Each waiting trigger (of a deferred task, or of an asset watcher) runs on exactly one live
triggerer, the least loaded with room, from the moment it is made or a triggerer joins. A
triggerer whose stream ends, or that is silent for the heartbeat timeout, is lost: its triggers
go to the others (or wait for the next to join).
A trigger moved this way may fire twice; deferral keeps the first event.
"""

from __future__ import annotations

from coordinator.scheduling.base import log
from coordinator.scheduling.effects import CloseTriggerer, RunTrigger, TriggererLiveness
from coordinator.scheduling.reschedule import Reschedule
from coordinator.sessions import TriggererSession
from tradewind.exceptions import AlreadyExists


class Triggerers(Reschedule):
    def triggerer_joined(self, session: TriggererSession) -> int:
        """A triggerer (re)connected; returns its session's generation. A live triggerer of the
        same name and another instance keeps the name."""
        now = self.clock.monotonic()
        old = self.triggerers.get(session.name)
        if old is not None:
            if old.instance_id != session.instance_id and now - old.last_seen < self.heartbeat_timeout:
                raise AlreadyExists(
                    f"triggerer name {session.name!r} is in use by a live triggerer on host {old.host or 'unknown'} "
                    f"(pid {old.pid}); give this triggerer another --name"
                )
            self._triggerer_gone(old)
        session.last_seen = now
        self._generation += 1
        session.generation = self._generation
        self.triggerers[session.name] = session
        self._timer(self.heartbeat_timeout, TriggererLiveness(session.name, session.generation))
        self._assign_triggers()
        return session.generation

    def triggerer_left(self, name: str, generation: int) -> None:
        session = self.triggerers.get(name)
        if session is None or session.generation != generation:
            return
        log.warning("triggerer %s left; its %d triggers move", name, len(session.triggers))
        self._triggerer_gone(session)
        self._assign_triggers()

    def _check_triggerer(self, timer: TriggererLiveness) -> None:
        """Re-armed for as long as the same session lives; a silent triggerer is lost."""
        session = self.triggerers.get(timer.triggerer)
        if session is None or session.generation != timer.generation:
            return
        silent = self.clock.monotonic() - session.last_seen
        if silent < self.heartbeat_timeout - 0.001:
            self._timer(self.heartbeat_timeout - silent + 0.05, timer)
            return
        log.warning("triggerer %s lost: no heartbeat for %.1fs", session.name, silent)
        self.effects.append(CloseTriggerer(session.name, session.generation))
        self._triggerer_gone(session)
        self._assign_triggers()

    def _triggerer_gone(self, session: TriggererSession) -> None:
        if self.triggerers.get(session.name) is session:
            del self.triggerers[session.name]
        for trigger_id in session.triggers:
            trigger = self.waiting_triggers.get(trigger_id) or self.watcher_triggers.get(trigger_id)
            if trigger is not None:
                trigger.triggerer = ""
                self.unassigned_triggers.add(trigger_id)
        session.triggers.clear()

    def _assign_triggers(self) -> None:
        """Give every unassigned waiting trigger to the least loaded live triggerer with room."""
        if not self.unassigned_triggers or not self.triggerers:
            return
        for trigger_id in sorted(self.unassigned_triggers):
            session = min(self.triggerers.values(), key=lambda s: len(s.triggers))
            if session.free <= 0:
                return
            self.unassigned_triggers.discard(trigger_id)
            watcher = self.watcher_triggers.get(trigger_id)
            if watcher is not None:
                watcher.triggerer = session.name
                session.triggers.add(trigger_id)
                waiter = f"asset watcher {watcher.name} of {watcher.uri}"
                ref = (watcher.uri, watcher.name)
                run = RunTrigger(session.name, session.generation, watcher, watcher.bundle_hash, waiter, ref)
                self.effects.append(run)
                continue
            trigger = self.waiting_triggers[trigger_id]
            ti = self.tis.get(trigger.ti_id)
            if ti is None:
                del self.waiting_triggers[trigger_id]
                continue
            trigger.triggerer = session.name
            session.triggers.add(trigger_id)
            waiter = f"{ti.run.dag_id}.{ti.task_id} of run {ti.run.run_id}"
            self.effects.append(RunTrigger(session.name, session.generation, trigger, ti.run.dag.bundle_hash, waiter))
