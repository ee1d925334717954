"""The baseline ladder and the popularity curve of a run's suggestions, as chart frames."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from recsys_core.views._text import percent

#: The model's row label in the ladder chart.
MODEL_LABEL = "this model"
#: Ladder measures: key in the metrics -> plain label (the technical name goes in brackets).
LADDER_MEASURES = {
    "hit_rate_at_k": "Finds the next product (hit rate@10)",
    "ndcg_at_k": "Ranks it high (NDCG@10)",
}
#: Half-width of a 95 % interval in standard errors.
Z95 = 1.96
#: Seconds per million training ratings for fitting and tuning the whole ladder, measured on the
#: demo data on two cores.
LADDER_SECONDS_PER_MILLION = 200.0


def ladder_wait_seconds(n_ratings: int) -> int:
    """A rough estimate of the ladder's fitting time, rounded up to 5 s (at least 5 s)."""
    return max(5, math.ceil(LADDER_SECONDS_PER_MILLION * n_ratings / 1e6 / 5) * 5)


def ladder_chart_data(model: Mapping[str, Any], ladder: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Long frame ``method, measure, value, low, high, is_model``: the model, then each rung.

    ``low``/``high`` are ``value ± 1.96·SE`` (clipped at 0). Rungs the ladder skipped (see
    :func:`ladder_skipped`) have no rows.
    """
    entries = [(MODEL_LABEL, model)] + [
        (str(entry.get("label", name)), entry)
        for name, entry in ladder.items()
        if entry.get("skipped") is None
    ]
    rows = []
    for method, entry in entries:
        for key, label in LADDER_MEASURES.items():
            value = entry.get(key)
            if value is None:
                continue
            half = Z95 * float(entry.get(f"{key}_se") or 0.0)
            rows.append(
                {
                    "method": method,
                    "measure": label,
                    "value": float(value),
                    "low": max(float(value) - half, 0.0),
                    "high": float(value) + half,
                    "is_model": method == MODEL_LABEL,
                }
            )
    return pd.DataFrame(rows, columns=["method", "measure", "value", "low", "high", "is_model"])


def ladder_skipped(ladder: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``"EASE: <why>"`` for every rung that could not run on this data."""
    return [
        f"{entry.get('label', name)}: {entry['skipped']}"
        for name, entry in ladder.items()
        if entry.get("skipped")
    ]


def bucket_label(bucket: int, n_buckets: int) -> str:
    """``(1, 10) -> "top 10 %"``, ``(3, 10) -> "20–30 %"``: a rank bucket as a share of the catalogue."""
    lo, hi = 100 * (bucket - 1) / n_buckets, 100 * bucket / n_buckets
    return f"top {hi:g} %" if bucket == 1 else f"{lo:g}–{hi:g} %"


def popularity_chart_data(profiles: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Long frame ``bucket, label, series, share`` of :func:`recsys_core.beyond.popularity_profile`s.

    One series per run (its share of suggestions per bucket) and ``"all ratings"`` (the
    buckets' share of the training ratings, from the first profile) as the reference.
    """
    rows = []
    for i, (name, profile) in enumerate(profiles.items()):
        n = len(profile)
        for row in profile.itertuples(index=False):
            label = bucket_label(int(row.bucket), n)
            if i == 0:
                rows.append(
                    {
                        "bucket": row.bucket,
                        "label": label,
                        "series": "all ratings",
                        "share": row.ratings_share,
                    }
                )
            rows.append(
                {"bucket": row.bucket, "label": label, "series": name, "share": row.recommendation_share}
            )
    return pd.DataFrame(rows, columns=["bucket", "label", "series", "share"])


def popularity_sentence(name: str, profile: pd.DataFrame) -> str | None:
    """ "“A”: 62 % of its suggestions come from the most-rated 10 % of products (which get 45 % of
    all ratings)." — ``None`` for an empty profile."""
    if profile.empty:
        return None
    head = profile.iloc[0]
    share = bucket_label(1, len(profile)).removeprefix("top ")
    return (
        f"“{name}”: {percent(float(head['recommendation_share']))} of its suggestions come from the "
        f"most-rated {share} of products (which get {percent(float(head['ratings_share']))} of all ratings)."
    )
