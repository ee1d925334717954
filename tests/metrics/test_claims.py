"""The one rule for a difference: intervals that separate, or "within the noise"."""

from __future__ import annotations

import pytest

from recsys_core.metrics import (
    Z95,
    change_verdict,
    compare_estimates,
    how_often,
    interval95,
    separation,
)


def test_separation_needs_intervals_that_do_not_touch() -> None:
    assert separation((0.1, 0.2), (0.21, 0.3)) == "higher"
    assert separation((0.21, 0.3), (0.1, 0.2)) == "lower"
    assert separation((0.1, 0.2), (0.2, 0.3)) == "same"  # touching whiskers: no claim
    assert separation((0.1, 0.2), (0.15, 0.25)) == "same"
    assert separation((0.1, float("nan")), (0.5, 0.6)) == "same"


def test_compare_estimates_uses_95_percent_whiskers() -> None:
    assert interval95(0.2, 0.01) == pytest.approx((0.2 - Z95 * 0.01, 0.2 + Z95 * 0.01))
    assert interval95(0.2, None) == (0.2, 0.2)
    # The demo's headline case: 21.2 % vs EASE's 19.7 %, each ±1.96 × 0.6 points: they overlap.
    assert compare_estimates(0.197, 0.006, 0.212, 0.006) == "same"
    assert compare_estimates(0.067, 0.004, 0.212, 0.006) == "higher"
    assert compare_estimates(0.212, 0.006, 0.067, 0.004) == "lower"


def test_change_verdict_is_the_interval_against_no_change() -> None:
    assert change_verdict([0.01, 0.05]) == "higher"
    assert change_verdict([-0.05, -0.01]) == "lower"
    assert change_verdict([-0.01, 0.05]) == "same"
    assert change_verdict([0.0, 0.05]) == "same"
    assert change_verdict(None) == "same"


def test_how_often_claims_a_ratio_only_when_the_intervals_separate() -> None:
    assert how_often("same", 0.212, 0.197) == "about as often as"
    assert how_often("higher", 0.212, 0.067) == "3.2× as often as"
    assert how_often("higher", 0.201, 0.197) == "more often than"  # clear, but 1.0× would read as none
    assert how_often("lower", 0.05, 0.2) == "less often than"
