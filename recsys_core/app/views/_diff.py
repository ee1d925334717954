"""Two runs side by side: :func:`recsys_core.metrics.compare_runs` in plain sentences (the frames
of its charts are in :mod:`recsys_core.charts`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recsys_core.app.views._text import percent
from recsys_core.charts import relative_change

Diff = Mapping[str, Any]


def _interval(lo: float, hi: float) -> str:
    """``"95 % interval 4 %–20 %"`` when the interval has one sign (in the sentence's direction),
    else signed: ``"95 % interval −3 % to +20 %"``."""
    if lo >= 0 or hi <= 0:
        small, large = sorted((abs(100 * lo), abs(100 * hi)))
        return f"95 % interval {small:.0f} %–{large:.0f} %"
    return f"95 % interval {100 * lo:+.0f} % to {100 * hi:+.0f} %".replace("-", "−")


def diff_sentences(diff: Diff) -> list[str]:
    """Plain sentences: how much more often B finds the next product, whether that is more than
    noise, how its ranking of liked products moved, and how many customers see a different list."""
    metrics, k = diff["metrics"], int(diff.get("k", 10))
    out = []
    change = relative_change(metrics.get("hit_rate_at_k") or {})
    if change is not None:
        mid, lo, hi = change
        more = "more" if mid >= 0 else "less"
        sentence = (
            f"B finds the next product {abs(100 * mid):.0f} % {more} often than A ({_interval(lo, hi)})"
        )
        if lo <= 0 <= hi:
            sentence += ": within the noise, the interval includes no change"
        out.append(sentence + ".")
    auc = metrics.get("roc_auc") or {}
    if auc.get("delta") is not None and auc.get("ci95"):
        lo, hi = auc["ci95"]
        how = "about as well as" if lo <= 0 <= hi else ("better than" if auc["delta"] > 0 else "worse than")
        out.append(
            f"B ranks liked products above disliked ones {how} A "
            f"({percent(auc['b'], 1)} vs {percent(auc['a'], 1)} of pairs)."
        )
    overlap = diff.get("overlap") or {}
    if overlap.get("share_changed") is not None:
        out.append(
            f"{percent(overlap['share_changed'])} of customers see a different top-{k}; on average the two "
            f"lists share {percent(overlap.get('mean_jaccard'))} of their products."
        )
    return out
