"""The seam every classical baseline implements, and the binary signal they all learn from."""

from __future__ import annotations

from typing import Protocol, Self, runtime_checkable

import numpy as np
import scipy.sparse as sp

from recsys_core.errors import RecsysError


@runtime_checkable
class Scorer(Protocol):
    """A recommender that scores every item for a block of users.

    Attributes
    ----------
    name
        Human-readable name for tables (``"EASE"``).
    params
        The hyper-parameters it was built with, JSON-ready.
    """

    name: str
    params: dict[str, float]

    def fit(self, train: sp.csr_matrix) -> Self:
        """Learn from the ``n_users x n_items`` training matrix; returns ``self``."""
        ...

    def score(self, users: np.ndarray) -> np.ndarray:
        """float32 ``(len(users), n_items)`` block, higher is better.

        Seen items are not masked here: :func:`~recsys_core.baselines.top_k_scored` does it.
        """
        ...


def binary_interactions(train: sp.spmatrix | np.ndarray) -> sp.csr_matrix:
    """float32 CSR with 1.0 at every observed (user, item) pair, whatever its rating.

    The baselines learn from *implicit* feedback: a rating, even one star, says the user chose
    to buy and review the product, and the ranking metrics count any held-out rating as
    relevant. So every stored, non-zero entry of ``train`` becomes 1; duplicates merge.
    """
    matrix = sp.csr_matrix(train, dtype=np.float32, copy=True)
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def check_users(users: np.ndarray, n_users: int) -> np.ndarray:
    """``users`` as int64 codes, refused when one lies outside ``0..n_users - 1``."""
    codes = np.asarray(users, dtype=np.int64).reshape(-1)
    if len(codes) and (codes.min() < 0 or codes.max() >= n_users):
        raise RecsysError(f"A user code lies outside 0..{n_users - 1}, the users of the training matrix.")
    return codes


def not_fitted(name: str) -> RecsysError:
    """The error for ``score`` before ``fit``."""
    return RecsysError(f"The {name} baseline has not been fitted yet; call fit(train) first.")
