"""When is a difference a difference? The one rule every sentence, colour and table applies.

Two figures differ only when their 95 % intervals separate: the whiskers a chart draws
(±1.96 standard errors) do not overlap. A change measured pair by pair (the run diff's paired
bootstrap) is one interval against "no change" (the point 0). Everything that words or colours
a difference (the Train page's headline and ladder sentence, Compare's diff, the sweep, the CLI's
``compare`` and the HTML report) asks :func:`separation` or :func:`change_verdict`, so none of
them can claim "1.1× as often" where the chart beside it says "within the noise".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

#: Half-width of a 95 % interval in standard errors (of a normal).
Z95 = 1.959964

#: ``"higher"``: the second figure is clearly above the first; ``"lower"``: clearly below;
#: ``"same"``: their intervals overlap (within the noise).
Verdict = Literal["higher", "lower", "same"]

#: The words for a verdict where nothing measurable changed.
NO_DIFFERENCE = "no measurable difference"


def interval95(value: float, se: float | None) -> tuple[float, float]:
    """``value ± 1.96 se``; just ``(value, value)`` when the standard error is unknown."""
    spread = Z95 * float(se) if se is not None and math.isfinite(float(se)) else 0.0
    return float(value) - spread, float(value) + spread


def separation(first: Sequence[float], second: Sequence[float]) -> Verdict:
    """The rule: ``second`` is ``"higher"`` when its interval lies wholly above ``first``'s,
    ``"lower"`` when wholly below, else ``"same"`` (touching or overlapping intervals, or a bound
    that is not a number).

    Parameters
    ----------
    first, second
        ``(low, high)`` of each figure's 95 % interval (:func:`interval95`).
    """
    low_a, high_a = (float(v) for v in first)
    low_b, high_b = (float(v) for v in second)
    if not all(math.isfinite(v) for v in (low_a, high_a, low_b, high_b)):
        return "same"
    if low_b > high_a:
        return "higher"
    if high_b < low_a:
        return "lower"
    return "same"


def compare_estimates(a: float, a_se: float | None, b: float, b_se: float | None) -> Verdict:
    """:func:`separation` of two independent figures given as value and standard error: is ``b``
    clearly above or below ``a``? (Two rungs of the ladder, two points of a sweep.)"""
    return separation(interval95(a, a_se), interval95(b, b_se))


def change_verdict(ci95: Sequence[float] | None) -> Verdict:
    """:func:`separation` of a measured change's 95 % interval from "no change" (0): ``"higher"``
    when the whole interval is above 0, ``"lower"`` when below, ``"same"`` when it holds 0 or
    is unknown (``None``)."""
    if ci95 is None:
        return "same"
    return separation((0.0, 0.0), ci95)


def how_often(verdict: Verdict, mine: float, theirs: float) -> str:
    """The words for "how often does mine find it, next to theirs", true to ``verdict``.

    ``"1.4× as often as"`` only when the intervals separate and the ratio reads above 1.0×;
    ``"more often than"`` / ``"less often than"`` when they separate by less than that;
    ``"about as often as"`` when they overlap.
    """
    if verdict == "same":
        return "about as often as"
    ratio = mine / theirs if theirs > 0 else math.inf
    if verdict == "higher":
        return f"{ratio:.1f}× as often as" if math.isfinite(ratio) and ratio >= 1.05 else "more often than"
    return "less often than"
