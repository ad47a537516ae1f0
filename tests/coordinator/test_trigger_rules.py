from __future__ import annotations

import pytest

from tradewind.trigger_rules import TriggerRule, UpstreamCounts, Verdict, evaluate

R, W, S, UF = Verdict.RUN, Verdict.WAIT, Verdict.SKIP, Verdict.UPSTREAM_FAILED


@pytest.mark.parametrize(
    ("rule", "counts", "verdict"),
    [
        (TriggerRule.ALL_SUCCESS, UpstreamCounts(2, success=2), R),
        (TriggerRule.ALL_SUCCESS, UpstreamCounts(2, success=1), W),
        (TriggerRule.ALL_SUCCESS, UpstreamCounts(2, failed=1), UF),
        (TriggerRule.ALL_SUCCESS, UpstreamCounts(2, success=1, skipped=1), S),
        (TriggerRule.ALL_FAILED, UpstreamCounts(2, failed=1, upstream_failed=1), R),
        (TriggerRule.ALL_FAILED, UpstreamCounts(2, success=1), S),
        (TriggerRule.ALL_DONE, UpstreamCounts(2, success=1, failed=1), R),
        (TriggerRule.ALL_DONE, UpstreamCounts(2, success=1), W),
        (TriggerRule.ALL_SKIPPED, UpstreamCounts(2, skipped=2), R),
        (TriggerRule.ALL_SKIPPED, UpstreamCounts(2, success=1), S),
        (TriggerRule.ONE_SUCCESS, UpstreamCounts(3, success=1), R),
        (TriggerRule.ONE_SUCCESS, UpstreamCounts(2, failed=2), UF),
        (TriggerRule.ONE_SUCCESS, UpstreamCounts(2, skipped=2), S),
        (TriggerRule.ONE_FAILED, UpstreamCounts(3, failed=1), R),
        (TriggerRule.ONE_FAILED, UpstreamCounts(2, success=2), S),
        (TriggerRule.ONE_DONE, UpstreamCounts(3, success=1), R),
        (TriggerRule.ONE_DONE, UpstreamCounts(2, skipped=2), S),
        (TriggerRule.NONE_FAILED, UpstreamCounts(2, success=1, skipped=1), R),
        (TriggerRule.NONE_FAILED, UpstreamCounts(2, failed=1), UF),
        (TriggerRule.NONE_SKIPPED, UpstreamCounts(2, success=1, failed=1), R),
        (TriggerRule.NONE_SKIPPED, UpstreamCounts(2, skipped=1), S),
        (TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, UpstreamCounts(2, success=1, skipped=1), R),
        (TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, UpstreamCounts(2, skipped=2), S),
        (TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, UpstreamCounts(2, upstream_failed=1), UF),
        (TriggerRule.ALWAYS, UpstreamCounts(2), R),
    ],
)
def test_rule_verdicts(rule: TriggerRule, counts: UpstreamCounts, verdict: Verdict) -> None:
    assert evaluate(rule, counts) is verdict


def test_every_rule_has_a_predicate() -> None:
    assert all(evaluate(rule, UpstreamCounts(0)) is R for rule in TriggerRule)
