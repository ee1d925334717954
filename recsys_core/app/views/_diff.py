"""Two runs side by side: :func:`recsys_core.metrics.compare_runs` in plain sentences (the frames
of its charts are in :mod:`recsys_core.charts`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recsys_core.app.views._text import percent
from recsys_core.charts import relative_change
from recsys_core.metrics import NO_DIFFERENCE, change_verdict

Diff = Mapping[str, Any]


def _interval(lo: float, hi: float) -> str:
    """``"95 % interval 4 %–20 %"`` when the interval has one sign (in the sentence's direction),
    else signed: ``"95 % interval −3 % to +20 %"``."""
    if lo >= 0 or hi <= 0:
        small, large = sorted((abs(lo), abs(hi)))
        return f"95 % interval {_share(small).removesuffix(' %')} %–{_share(large)}"
    return f"95 % interval −{_share(-lo)} to +{_share(hi)}"


def _often(entry: Mapping[str, Any], what: str) -> str | None:
    """``"B finds <what> 12 % more often than A (95 % interval 4 %–20 %)"``, or "about as often
    as A: no measurable difference" where the interval holds no change (the one rule,
    :func:`recsys_core.metrics.change_verdict`)."""
    change = relative_change(entry)
    if change is None:
        return None
    mid, lo, hi = change
    if change_verdict(entry.get("ci95")) == "same":
        return f"B finds {what} about as often as A: {NO_DIFFERENCE} ({_interval(lo, hi)})"
    more = "more" if mid >= 0 else "less"
    return f"B finds {what} {_share(abs(mid))} {more} often than A ({_interval(lo, hi)})"


def _share(value: float) -> str:
    """``0.123 -> "12 %"``; one decimal below 10 % (``"0.4 %"``, ``"4 %"``), so a small change
    never reads 0 %."""
    if value >= 0.095:
        return f"{100 * value:.0f} %"
    return f"{100 * value:.1f}".rstrip("0").rstrip(".") + " %"


def diff_sentences(diff: Diff) -> list[str]:
    """Plain sentences: how much more often B finds the next product (and the held-out products
    customers liked, and those they disliked), whether that is more than noise, how its ranking
    of liked products moved, and how many customers see a different list."""
    metrics, k = diff["metrics"], int(diff.get("k", 10))
    out = []
    for key, what in (
        ("hit_rate_at_k", "the next product"),
        ("hit_rate_liked_at_k", "a next product the customer liked"),
        ("hit_rate_disliked_at_k", "a next product the customer disliked"),
    ):
        sentence = _often(metrics.get(key) or {}, what)
        if sentence:
            out.append(sentence + ".")
    auc = metrics.get("roc_auc") or {}
    if auc.get("delta") is not None and auc.get("ci95"):
        how = {"same": "about as well as", "higher": "better than", "lower": "worse than"}[
            change_verdict(auc["ci95"])
        ]
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
