"""The trigger rules, as a table of predicates over the counts of upstream states.

Each rule maps an `UpstreamCounts` to a `Verdict`: wait, run, skip, or upstream_failed.
Rules decide eagerly where Airflow does (all_success turns upstream_failed as soon as one
upstream fails), so work per event stays proportional to a task's direct upstream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class TriggerRule(StrEnum):
    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_SKIPPED = "all_skipped"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_SKIPPED = "none_skipped"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    ALWAYS = "always"
    #: A teardown's rule: run when the upstream is done and a setup succeeded (any failures else).
    ALL_DONE_SETUP_SUCCESS = "all_done_setup_success"


class Verdict(StrEnum):
    WAIT = "wait"
    RUN = "run"
    SKIP = "skip"
    UPSTREAM_FAILED = "upstream_failed"


@dataclass(frozen=True, slots=True)
class UpstreamCounts:
    """How many direct upstream task instances are in each finished state, out of `total`."""

    total: int
    success: int = 0
    failed: int = 0
    upstream_failed: int = 0
    skipped: int = 0
    removed: int = 0
    #: Of the above, the direct upstream setup tasks: how many, and how many succeeded or skipped.
    setups: int = 0
    setup_success: int = 0
    setup_skipped: int = 0

    @property
    def done(self) -> int:
        return self.success + self.failed + self.upstream_failed + self.skipped + self.removed

    @property
    def failures(self) -> int:
        return self.failed + self.upstream_failed

    @property
    def all_done(self) -> bool:
        return self.done >= self.total


W, RUN, SKIP, UF = Verdict.WAIT, Verdict.RUN, Verdict.SKIP, Verdict.UPSTREAM_FAILED


def _all_success(c: UpstreamCounts) -> Verdict:
    if c.failures:
        return UF
    if c.skipped:
        return SKIP
    return RUN if c.success + c.removed >= c.total else W


def _all_failed(c: UpstreamCounts) -> Verdict:
    if c.success or c.skipped:
        return SKIP
    return RUN if c.all_done else W


def _all_done(c: UpstreamCounts) -> Verdict:
    return RUN if c.all_done else W


def _all_skipped(c: UpstreamCounts) -> Verdict:
    if c.success or c.failures:
        return SKIP
    return RUN if c.all_done else W


def _one_success(c: UpstreamCounts) -> Verdict:
    if c.success:
        return RUN
    if c.all_done:
        return UF if c.failures else SKIP
    return W


def _one_failed(c: UpstreamCounts) -> Verdict:
    if c.failures:
        return RUN
    return SKIP if c.all_done else W


def _one_done(c: UpstreamCounts) -> Verdict:
    if c.success or c.failures:
        return RUN
    return SKIP if c.all_done else W


def _none_failed(c: UpstreamCounts) -> Verdict:
    if c.failures:
        return UF
    return RUN if c.all_done else W


def _none_skipped(c: UpstreamCounts) -> Verdict:
    if c.skipped:
        return SKIP
    return RUN if c.all_done else W


def _none_failed_min_one_success(c: UpstreamCounts) -> Verdict:
    if c.failures:
        return UF
    if not c.all_done:
        return W
    return RUN if c.success or c.total == 0 else SKIP


def _always(c: UpstreamCounts) -> Verdict:
    return RUN


def _all_done_setup_success(c: UpstreamCounts) -> Verdict:
    """Airflow's teardown rule: skipped when every setup was skipped, upstream_failed when none
    succeeded, otherwise run once everything upstream is done, whatever failed."""
    if not c.all_done:
        return W
    if c.setups and c.setup_skipped >= c.setups:
        return SKIP
    if c.setups and not c.setup_success:
        return UF
    return RUN


RULES: dict[TriggerRule, Callable[[UpstreamCounts], Verdict]] = {
    TriggerRule.ALL_SUCCESS: _all_success,
    TriggerRule.ALL_FAILED: _all_failed,
    TriggerRule.ALL_DONE: _all_done,
    TriggerRule.ALL_SKIPPED: _all_skipped,
    TriggerRule.ONE_SUCCESS: _one_success,
    TriggerRule.ONE_FAILED: _one_failed,
    TriggerRule.ONE_DONE: _one_done,
    TriggerRule.NONE_FAILED: _none_failed,
    TriggerRule.NONE_SKIPPED: _none_skipped,
    TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS: _none_failed_min_one_success,
    TriggerRule.ALWAYS: _always,
    TriggerRule.ALL_DONE_SETUP_SUCCESS: _all_done_setup_success,
}


def evaluate(rule: TriggerRule, counts: UpstreamCounts) -> Verdict:
    """What a task with this rule should do given its upstream counts. No upstream means run."""
    if counts.total == 0:
        return RUN
    return RULES[rule](counts)
