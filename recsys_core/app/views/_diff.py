"""Two runs side by side: :func:`recsys_core.metrics.compare_runs` in plain sentences and chart frames."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from recsys_core.app.views._text import percent

#: The diff's metrics, plain label first (technical name in brackets), in chart order.
DIFF_MEASURES = {
    "hit_rate_at_k": "finds the next product (hit rate)",
    "ndcg_at_k": "ranks it high (NDCG)",
    "roc_auc": "ranks liked first (AUC)",
    "precision": "precision",
    "recall": "recall",
}

Diff = Mapping[str, Any]


def relative_change(entry: Mapping[str, Any]) -> tuple[float, float, float] | None:
    """``(change, low, high)`` of B against A as shares of A's value (``0.12`` = 12 % more).

    ``None`` when A's value is 0 or unknown, or the interval is undefined.
    """
    a, delta, ci = entry.get("a"), entry.get("delta"), entry.get("ci95")
    if not a or delta is None or not ci:
        return None
    return delta / a, ci[0] / a, ci[1] / a


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


def diff_chart_data(diff: Diff) -> pd.DataFrame:
    """``measure, change, low, high`` (shares of A's value) per metric with an interval."""
    rows = []
    for key, label in DIFF_MEASURES.items():
        change = relative_change(diff["metrics"].get(key) or {})
        if change is not None:
            rows.append(dict(zip(("measure", "change", "low", "high"), (label, *change), strict=True)))
    return pd.DataFrame(rows, columns=["measure", "change", "low", "high"])


def exposure_data(diff: Diff) -> pd.DataFrame:
    """``product, change, a, b, direction``: the products that gained and lost most exposure."""
    rows = []
    for direction in ("gained", "lost"):
        for row in diff["exposure"].get(direction, []):
            name = row.get("name") or ""
            product = f"{name} ({row['item']})" if name else str(row["item"])
            rows.append(
                {
                    "product": product,
                    "change": row["delta"],
                    "a": row["a"],
                    "b": row["b"],
                    "direction": direction,
                }
            )
    return pd.DataFrame(rows, columns=["product", "change", "a", "b", "direction"])


def _segment_label(kind: str, segment: str) -> str:
    if kind == "held_out_rating":
        return f"next product rated {segment.removesuffix(' held out')}"
    return f"customers with {segment}"


def segment_data(diff: Diff) -> pd.DataFrame:
    """``segment, customers, change, low, high``: B's hit-rate change per customer segment."""
    rows = []
    for seg in diff.get("segments", []):
        change = relative_change(seg["metrics"].get("hit_rate_at_k") or {})
        if change is not None:
            label = _segment_label(seg["kind"], seg["segment"])
            rows.append(
                dict(
                    zip(
                        ("segment", "customers", "change", "low", "high"),
                        (label, seg["users"], *change),
                        strict=True,
                    )
                )
            )
    return pd.DataFrame(rows, columns=["segment", "customers", "change", "low", "high"])
