"""Per-user hit and NDCG of top-k lists, for standard errors of the averaged metrics."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_core.errors import RecsysError


def per_user_hits_ndcg(items: np.ndarray, relevant: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hit@k (1.0 or 0.0) and NDCG@k of each user's top-k list.

    The definitions of ``recsys_core.metrics._evaluation``'s ranking metrics (gain 1, discount
    ``1 / log2(rank + 1)``, ideal DCG of ``min(relevant, k)`` items), whose means are its
    ``hit_rate_at_k`` and ``ndcg_at_k``; ``std / sqrt(n)`` of these is their standard error.

    Parameters
    ----------
    items
        ``(n, >= min(k, n_items))`` item codes, best first, ``-1`` padded (as ``top_k_scored``).
    relevant
        ``n x n_items`` boolean CSR; row ``j`` holds the held-out items of user ``j`` (at least one).
    k
        List length.

    Returns
    -------
    hits, ndcg
        float64 arrays of length ``n``.
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
    ideal = np.cumsum(discount)
    # Sorted (row, item) keys: membership of a top-k entry is one binary search.
    keys = np.repeat(np.arange(n_users, dtype=np.int64), n_relevant) * n_items + relevant.indices
    wanted = np.arange(n_users, dtype=np.int64)[:, None] * n_items + items
    found = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    hit = (items >= 0) & (keys[found] == wanted) if len(keys) else np.zeros(items.shape, dtype=bool)
    ndcg = (hit @ discount) / ideal[np.minimum(n_relevant, k_eff) - 1]
    return hit.any(axis=1).astype(np.float64), ndcg
