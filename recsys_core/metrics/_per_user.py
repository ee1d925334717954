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
    # (row, item) -> one sorted int64 key, so membership of a list entry is a binary search.
    keys = np.repeat(np.arange(n_users, dtype=np.int64), n_relevant) * n_items + relevant.indices
    wanted = np.arange(n_users, dtype=np.int64)[:, None] * n_items + items
    found = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    hits = (items >= 0) & (keys[found] == wanted) if len(keys) else np.zeros(items.shape, dtype=bool)
    n_hits = hits.sum(axis=1)
    return {
        "precision_at_k": n_hits / k,
        "recall_at_k": n_hits / np.maximum(n_relevant, 1),
        "ndcg_at_k": (hits @ discount[: hits.shape[1]]) / ideal[np.minimum(n_relevant, k_eff) - 1],
        "hit_rate_at_k": (n_hits > 0).astype(np.float64),
    }
