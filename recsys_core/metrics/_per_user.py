"""Per-user ranking values of top-k lists: the one hit / NDCG kernel behind every ranking metric.

:func:`~recsys_core.metrics.topk_metrics` (the model and every baseline in ``evaluate``), the run
diff and the report all average these arrays; their spread gives the standard errors and the
paired bootstrap its units.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_core.errors import RecsysError

#: The per-user ranking metrics (each averaged over test users, each with a standard error).
PER_USER_METRICS = ("precision_at_k", "recall_at_k", "ndcg_at_k", "hit_rate_at_k")


def per_user_ranking(items: np.ndarray, relevant: sp.csr_matrix, k: int) -> dict[str, np.ndarray]:
    """Precision, recall, NDCG and hit of each user's top-``k`` list (float64 arrays, one per key
    of :data:`PER_USER_METRICS`).

    * ``precision_at_k``: relevant items in the list over ``k``;
    * ``recall_at_k``: relevant items in the list over the user's relevant items;
    * ``ndcg_at_k``: DCG with gain 1 and discount ``1 / log2(rank + 1)`` over the ideal DCG of
      ``min(relevant, k)`` items;
    * ``hit_rate_at_k``: 1.0 when the list holds a relevant item, else 0.0.

    Parameters
    ----------
    items
        ``(n, width)`` item codes, best first, ``-1`` padded (``width`` at most ``min(k,
        n_items)`` counts; more columns are ignored).
    relevant
        ``n x n_items`` boolean CSR; row ``j`` holds the held-out items of user ``j`` (at least one).
    k
        List length.

    Raises
    ------
    RecsysError
        The lists and ``relevant`` cover different numbers of users, or a user has no relevant item.
    """
    relevant = sp.csr_matrix(relevant, dtype=bool)
    relevant.sum_duplicates()
    relevant.eliminate_zeros()
    n_users, n_items = relevant.shape
    items = np.asarray(items, dtype=np.int64)
    if items.ndim != 2 or len(items) != n_users:
        raise RecsysError(f"Got top-k lists for {len(items)} users but relevant items for {n_users}.")
    n_relevant = np.diff(relevant.indptr)
    if n_users and n_relevant.min() == 0:
        raise RecsysError("Every evaluated user needs at least one relevant (held-out) item.")
    k_eff = min(int(k), n_items)
    items = items[:, :k_eff]
    discount = 1.0 / np.log2(np.arange(k_eff) + 2.0)
    ideal = np.cumsum(discount)  # ideal[m - 1] = DCG of m relevant items at the top
    hits = _found(items, relevant)
    n_hits = hits.sum(axis=1)
    return {
        "precision_at_k": n_hits / k,
        "recall_at_k": n_hits / np.maximum(n_relevant, 1),
        "ndcg_at_k": (hits @ discount[: hits.shape[1]]) / ideal[np.minimum(n_relevant, k_eff) - 1],
        "hit_rate_at_k": (n_hits > 0).astype(np.float64),
    }


#: Hit rate split by how the customer rated the held-out product: at or above the "likes it"
#: line, or below it. A model that learns from the ratings should find the liked ones more often.
CLASS_HIT_METRICS = ("hit_rate_liked_at_k", "hit_rate_disliked_at_k")


def _found(items: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
    """``(n, width)`` booleans: is each list entry among its row's items in ``rows``? (A row may
    be empty.)"""
    n_users, n_items = rows.shape
    counts = np.diff(rows.indptr)
    # (row, item) -> one sorted int64 key, so membership of a list entry is a binary search.
    keys = np.repeat(np.arange(n_users, dtype=np.int64), counts) * n_items + rows.indices
    if not len(keys):
        return np.zeros(items.shape, dtype=bool)
    wanted = np.arange(n_users, dtype=np.int64)[:, None] * n_items + items
    found = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return (items >= 0) & (keys[found] == wanted)


def per_user_class_hits(
    items: np.ndarray, relevant: sp.csr_matrix, liked: sp.csr_matrix, k: int
) -> dict[str, np.ndarray]:
    """Per user, whether the top-``k`` list holds a held-out product they liked, and one they
    disliked (keys :data:`CLASS_HIT_METRICS`): 1.0 or 0.0, NaN for a user who has no held-out
    product of that kind.

    Parameters
    ----------
    items
        ``(n, width)`` item codes, best first, ``-1`` padded (as :func:`per_user_ranking`).
    relevant
        ``n x n_items`` boolean CSR of every held-out product per user.
    liked
        The same shape: the held-out products rated at or above the "likes it" line (a subset of
        ``relevant``); the rest of ``relevant`` counts as disliked.
    """
    relevant = sp.csr_matrix(relevant, dtype=bool)
    liked = sp.csr_matrix(liked, dtype=bool)
    if liked.shape != relevant.shape:
        raise RecsysError(
            f"The liked products cover {liked.shape[0]} users but the held-out ones {relevant.shape[0]}."
        )
    liked = liked.multiply(relevant).tocsr()
    disliked = (relevant.astype(np.int8) - liked.astype(np.int8) > 0).tocsr()
    items = np.asarray(items, dtype=np.int64)[:, : min(int(k), relevant.shape[1])]
    result = {}
    for key, rows in zip(CLASS_HIT_METRICS, (liked, disliked), strict=True):
        rows.sort_indices()
        hit = _found(items, rows).any(axis=1).astype(np.float64)
        result[key] = np.where(np.diff(rows.indptr) > 0, hit, np.nan)
    return result
