"""Beyond accuracy: what a recommender shows, whatever it hits.

Pure functions over top-k item lists (``n_users x k`` item codes, best first, ``-1`` padded, as
``recsys_core.topn.top_unseen`` returns them) and the training popularity of each item:

* catalogue coverage@k: share of the catalogue in anyone's top k;
* novelty@k: mean ``-log2`` of the recommended products' popularity share (their share of all
  training ratings); higher = less obvious products;
* head share@k: share of the recommendations taken from the most-rated 10 % of products;
* diversity@k: mean over users of (distinct categories / products) in their top k.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_LIST_LENGTH

#: The "head" of the catalogue: this share of the products, the most rated first.
HEAD_FRACTION = 0.1


def _top(top_items: np.ndarray, k: int) -> np.ndarray:
    items = np.asarray(top_items, dtype=np.int64)
    if items.ndim != 2:
        raise RecsysError(f"Top-k lists must be a 2-d array (users x k), got {items.ndim} dimension(s).")
    return items[:, : check_count(k, "k", most=MAX_LIST_LENGTH)]


def _popularity(popularity: np.ndarray) -> np.ndarray:
    counts = np.asarray(popularity, dtype=np.float64).reshape(-1)
    if len(counts) == 0 or (counts < 0).any():
        raise RecsysError("The popularity vector must hold one non-negative count per product.")
    return counts


def coverage_at_k(top_items: np.ndarray, n_items: int, k: int = 10) -> float:
    """Share of the ``n_items`` products appearing in at least one top-``k`` list."""
    items = _top(top_items, k)
    shown = np.unique(items[items >= 0])
    return float(len(shown)) / max(int(n_items), 1)


def novelty_at_k(top_items: np.ndarray, popularity: np.ndarray, k: int = 10) -> float | None:
    """Mean ``-log2(popularity share)`` over every recommendation shown (``None`` when none).

    A product's share is its training ratings over all training ratings; a product with none
    counts as rated once, so novelty stays finite.
    """
    items = _top(top_items, k)
    counts = np.maximum(_popularity(popularity), 1.0)
    shown = items[items >= 0]
    if len(shown) == 0:
        return None
    return float(np.mean(-np.log2(counts[shown] / counts.sum())))


def head_items(popularity: np.ndarray, fraction: float = HEAD_FRACTION) -> np.ndarray:
    """Boolean mask of the head: the ``ceil(fraction * n)`` most-rated products (ties to lower codes)."""
    counts = _popularity(popularity)
    n_head = math.ceil(fraction * len(counts))
    order = np.lexsort((np.arange(len(counts)), -counts))
    mask = np.zeros(len(counts), dtype=bool)
    mask[order[:n_head]] = True
    return mask


def head_share_at_k(top_items: np.ndarray, popularity: np.ndarray, k: int = 10) -> float | None:
    """Share of the recommendations shown that are head products (``None`` when none shown)."""
    items = _top(top_items, k)
    shown = items[items >= 0]
    if len(shown) == 0:
        return None
    return float(head_items(popularity)[shown].mean())


def diversity_at_k(top_items: np.ndarray, categories: np.ndarray | None, k: int = 10) -> float | None:
    """Mean over users of distinct categories / products in their top ``k``.

    ``categories`` holds one label per item code (empty or missing labels count as one
    "unknown" category); ``None``, or no label at all, gives ``None``. Users with an empty list
    are left out.
    """
    if categories is None:
        return None
    labels = pd.Series(np.asarray(categories, dtype=object)).fillna("").astype(str)
    if (labels == "").all():
        return None
    codes = pd.factorize(labels)[0].astype(np.int64)
    items = _top(top_items, k)
    valid = items >= 0
    lengths = valid.sum(axis=1)
    keep = lengths > 0
    if not keep.any():
        return None
    cats = np.where(valid, codes[np.maximum(items, 0)], -1)[keep]
    # Distinct labels per row: sort each row, count changes (padding -1 sorts first and is skipped).
    cats.sort(axis=1)
    previous = np.concatenate([np.full((len(cats), 1), -1), cats[:, :-1]], axis=1)
    distinct = ((cats >= 0) & (cats != previous)).sum(axis=1)
    return float(np.mean(distinct / lengths[keep]))


def beyond_accuracy(
    top_items: np.ndarray, popularity: np.ndarray, categories: np.ndarray | None = None, k: int = 10
) -> dict[str, float | None]:
    """All four measures: ``coverage_at_k, novelty_at_k, head_share_at_k, diversity_at_k``."""
    counts = _popularity(popularity)
    return {
        "coverage_at_k": coverage_at_k(top_items, len(counts), k),
        "novelty_at_k": novelty_at_k(top_items, counts, k),
        "head_share_at_k": head_share_at_k(top_items, counts, k),
        "diversity_at_k": diversity_at_k(top_items, categories, k),
    }


def popularity_profile(
    top_items: np.ndarray, popularity: np.ndarray, k: int = 10, n_buckets: int = 10
) -> pd.DataFrame:
    """Where recommendations fall on the popularity curve, for a chart.

    Products are ranked most-rated first (ties to lower codes) and cut into ``n_buckets``
    equal rank buckets (the first holds the most-rated products).

    Returns
    -------
    pandas.DataFrame
        One row per bucket: ``bucket`` (1 = most rated), ``rank_from, rank_to`` (1-based,
        inclusive), ``ratings_share`` (the bucket's share of all training ratings) and
        ``recommendation_share`` (its share of the recommendations shown; 0 when none).
    """
    counts = _popularity(popularity)
    if n_buckets < 1:
        raise RecsysError("n_buckets must be at least 1.")
    n = len(counts)
    n_buckets = min(int(n_buckets), n)
    order = np.lexsort((np.arange(n), -counts))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    bucket_of_rank = (np.arange(n) * n_buckets) // n
    bucket = bucket_of_rank[rank]
    items = _top(top_items, k)
    shown = items[items >= 0]
    shown_counts = np.bincount(bucket[shown], minlength=n_buckets).astype(np.float64)
    rating_counts = np.bincount(bucket, weights=counts, minlength=n_buckets)
    bounds = [np.flatnonzero(bucket_of_rank == b) for b in range(n_buckets)]
    return pd.DataFrame(
        {
            "bucket": np.arange(1, n_buckets + 1),
            "rank_from": [int(b[0]) + 1 for b in bounds],
            "rank_to": [int(b[-1]) + 1 for b in bounds],
            "ratings_share": rating_counts / max(counts.sum(), 1.0),
            "recommendation_share": shown_counts / max(len(shown), 1),
        }
    )
