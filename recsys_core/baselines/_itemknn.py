"""Item-kNN: items similar (cosine) to those the user already has."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from recsys_core.baselines._scorer import binary_interactions, check_users, not_fitted
from recsys_core.errors import RecsysError


class ItemKNN:
    """Item-based k-nearest neighbours on binary interactions (cosine similarity).

    ``sim(i, j) = c_ij / (sqrt(n_i * n_j) + shrink)`` with ``c_ij`` the users who have both
    items and ``n_i`` those who have ``i``. Each item keeps its ``neighbours`` most similar
    items (row ``i`` of the sparse ``similarity_``, ties to the lower code, no self-similarity),
    and a user's score for ``j`` is the sum of ``sim(i, j)`` over the items ``i`` they have,
    i.e. ``X[u] @ similarity_`` (the convention of ``implicit``'s ItemItemRecommender).

    Parameters
    ----------
    neighbours
        Neighbours kept per item (at least 1).
    shrink
        Added to the cosine denominator; damps similarities resting on few users.
    """

    name = "item-kNN"

    def __init__(self, neighbours: int = 50, shrink: float = 0.0) -> None:
        if int(neighbours) < 1 or shrink < 0:
            raise RecsysError("item-kNN needs neighbours >= 1 and shrink >= 0.")
        self.params: dict[str, float] = {"neighbours": int(neighbours), "shrink": float(shrink)}
        self.similarity_: sp.csr_matrix | None = None
        self._train: sp.csr_matrix | None = None

    def fit(self, train: sp.csr_matrix) -> Self:
        matrix = binary_interactions(train)
        n_items = matrix.shape[1]
        gram = (matrix.T @ matrix).tocsr()
        gram.sort_indices()
        norms = np.sqrt(gram.diagonal().astype(np.float64))
        rows = np.repeat(np.arange(n_items, dtype=np.int64), np.diff(gram.indptr))
        cols = gram.indices.astype(np.int64)
        sim = gram.data / (norms[rows] * norms[cols] + self.params["shrink"])
        off = rows != cols
        rows, cols, sim = rows[off], cols[off], sim[off]
        # Rank within each row by descending similarity (stable: ties keep the lower column),
        # all rows at once: rows stay grouped because they are the primary sort key.
        order = np.lexsort((-sim, rows))
        starts = np.searchsorted(rows, np.arange(n_items))
        rank = np.arange(len(order)) - starts[rows[order]]
        keep = order[rank < self.params["neighbours"]]
        self.similarity_ = sp.csr_matrix(
            (sim[keep].astype(np.float32), (rows[keep], cols[keep])), shape=(n_items, n_items)
        )
        self._train = matrix
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        if self.similarity_ is None or self._train is None:
            raise not_fitted(self.name)
        codes = check_users(users, self._train.shape[0])
        return (self._train[codes] @ self.similarity_).toarray().astype(np.float32, copy=False)
