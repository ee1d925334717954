"""Most popular: the same list for everyone, the bar every personalised model has to clear."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from recsys_core.baselines._scorer import binary_interactions, check_users, not_fitted
from recsys_core.topn import popularity_order


class MostPopular:
    """Ranks items by their number of training interactions (users who rated them).

    Scores are tie-free ranks (``n_items`` for the most popular down to 1), ties in the count
    going to the lower item code, as :func:`recsys_core.metrics._evaluation.popularity_order`: so its
    top-k lists equal those of ``recsys_core.topn.top_popular_unseen``. ``counts_`` holds the counts.
    """

    name = "most popular"

    def __init__(self) -> None:
        self.params: dict[str, float] = {}
        self.counts_: np.ndarray | None = None
        self._scores: np.ndarray | None = None

    def fit(self, train: sp.csr_matrix) -> Self:
        matrix = binary_interactions(train)
        n_items = matrix.shape[1]
        self.counts_ = np.bincount(matrix.indices, minlength=n_items).astype(np.int64)
        self._n_users = matrix.shape[0]
        scores = np.empty(n_items, dtype=np.float32)
        scores[popularity_order(self.counts_)] = np.arange(n_items, 0, -1, dtype=np.float32)
        self._scores = scores
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        if self._scores is None:
            raise not_fitted(self.name)
        codes = check_users(users, self._n_users)
        return np.broadcast_to(self._scores, (len(codes), len(self._scores))).copy()
