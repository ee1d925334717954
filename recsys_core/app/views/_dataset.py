"""Headline figures and chart frames that describe a ratings table."""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

from recsys_core.app.views._text import percent
from recsys_core.charts import stars


class Overview(TypedDict):
    """Headline figures of a ratings frame (see :func:`dataset_overview`)."""

    rows: int
    users: int
    items: int
    sparsity: float
    ratings_per_user: float
    time_min: pd.Timestamp | None
    time_max: pd.Timestamp | None


class TailStats(TypedDict):
    """How concentrated the ratings are on few products (see :func:`long_tail`)."""

    top10_share: float
    single_rating_share: float
    median: float
    max: float
    min: float


def dataset_overview(frame: pd.DataFrame) -> Overview:
    """Headline figures of a ratings frame (``user``, ``item``, ``rating``[, ``timestamp``]).

    Returns
    -------
    Overview
        ``rows, users, items, sparsity`` (share of user × product pairs without a rating),
        ``ratings_per_user`` (mean), ``time_min``/``time_max`` (``pd.Timestamp`` or ``None``).
    """
    rows = len(frame)
    users = int(frame["user"].nunique())
    items = int(frame["item"].nunique())
    cells = users * items
    has_time = "timestamp" in frame.columns and rows > 0
    return {
        "rows": rows,
        "users": users,
        "items": items,
        "sparsity": 1.0 - rows / cells if cells else 1.0,
        "ratings_per_user": rows / users if users else 0.0,
        "time_min": frame["timestamp"].min() if has_time else None,
        "time_max": frame["timestamp"].max() if has_time else None,
    }


def rating_distribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Count and share of each rating value, lowest first: ``rating, label, count, share``."""
    counts = frame["rating"].value_counts().sort_index()
    total = max(int(counts.sum()), 1)
    return pd.DataFrame(
        {
            "rating": counts.index.astype(float),
            "label": [stars(r) for r in counts.index],
            "count": counts.to_numpy(dtype=np.int64),
            "share": counts.to_numpy(dtype=float) / total,
        }
    ).reset_index(drop=True)


def long_tail(frame: pd.DataFrame, max_points: int = 400) -> tuple[pd.DataFrame, TailStats]:
    """Ratings per product, most-rated first, thinned to at most ``max_points`` chart points.

    Returns
    -------
    (DataFrame, TailStats)
        Points ``rank`` (1 = most rated product), ``ratings`` (its count) and ``share_of_products``
        (rank / number of products); the dict holds ``top10_share`` (share of all ratings that
        go to the most-rated 10 % of products), ``single_rating_share`` (share of products with
        exactly one rating), ``median`` and ``max`` ratings per product.
    """
    per_item = np.sort(frame["item"].value_counts().to_numpy())[::-1]
    n = len(per_item)
    if n == 0:
        empty = pd.DataFrame({"rank": [], "ratings": [], "share_of_products": []})
        return empty, {"top10_share": 0.0, "single_rating_share": 0.0, "median": 0.0, "max": 0.0, "min": 0.0}
    # Log-spaced ranks keep the steep head and the flat tail visible with a few hundred points.
    ranks = np.unique(np.geomspace(1, n, num=min(n, max_points)).round().astype(np.int64))
    points = pd.DataFrame({"rank": ranks, "ratings": per_item[ranks - 1], "share_of_products": ranks / n})
    top = max(1, int(np.ceil(0.1 * n)))
    stats: TailStats = {
        "top10_share": float(per_item[:top].sum() / per_item.sum()),
        "single_rating_share": float(np.mean(per_item == 1)),
        "median": float(np.median(per_item)),
        "max": float(per_item[0]),
        "min": float(per_item[-1]),
    }
    return points, stats


def long_tail_sentence(tail: TailStats) -> str:
    """How concentrated the ratings are, in words (:func:`long_tail`'s figures).

    Shares never round to 0 % or 100 % when they are not (:func:`percent`), and where no product
    has a single rating the sentence says so, with the fewest ratings any product has.
    """
    head = f"The most-rated 10 % of products receive {percent(tail['top10_share'])} of all ratings; "
    if tail["single_rating_share"] > 0:
        return head + f"{percent(tail['single_rating_share'])} of products have a single rating."
    return head + f"no product has a single rating (the least rated has {tail['min']:,.0f})."
