"""Item-kNN: items similar (cosine) to those the user already has."""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from recsys_core.baselines._scorer import binary_interactions, check_users, not_fitted
from recsys_core.errors import RecsysError

#: Co-occurrence products (user-item-item triples) computed per column block: bounds the memory
#: of ``XᵀX`` (~16 Mi entries, a few hundred MB at most) whatever the catalogue's size.
SIMILARITY_BLOCK_WORK = 1 << 24
#: Cells of the padded (columns x longest column) matrix that :func:`_top_per_column` partitions
#: at once (32 MB of float64).
_PARTITION_CELLS = 1 << 22


def _column_blocks(matrix: sp.csr_matrix) -> list[tuple[int, int]]:
    """Consecutive item ranges whose share of ``XᵀX`` costs about :data:`SIMILARITY_BLOCK_WORK`.

    Column ``j`` of ``XᵀX`` touches every item of every user of ``j``: ``Σ_{u ∋ j} n_u`` products,
    an upper bound of its stored entries.
    """
    n_items = matrix.shape[1]
    per_user = np.diff(matrix.indptr).astype(np.float64)
    work = np.cumsum(matrix.T @ per_user)
    bounds, lo = [], 0
    while lo < n_items:
        before = work[lo - 1] if lo else 0.0
        hi = int(np.searchsorted(work, before + SIMILARITY_BLOCK_WORK, side="right"))
        hi = min(max(hi, lo + 1), n_items)
        bounds.append((lo, hi))
        lo = hi
    return bounds


def _similar_lengths(segments: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """``segments`` (sorted by length) cut into blocks of at most :data:`_PARTITION_CELLS`
    cells once padded to the block's longest."""
    blocks, lo = [], 0
    while lo < len(segments):
        n = max(1, _PARTITION_CELLS // int(lengths[segments[lo]]))
        while n > 1 and n * int(lengths[segments[min(lo + n, len(segments)) - 1]]) > _PARTITION_CELLS:
            n //= 2
        blocks.append(segments[lo : lo + n])
        lo += n
    return blocks


def _top_per_column(
    rows: np.ndarray, cols: np.ndarray, sim: np.ndarray, neighbours: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the ``neighbours`` largest ``sim`` of every column (ties to the lower row).

    The entries come grouped by column, rows ascending within each (a sorted CSC block); the
    kept ones are returned in that order. Columns with at most ``neighbours`` entries keep them
    all. The others are laid out as rows of a padded matrix whose ``neighbours``-th largest value
    ``t`` a partition finds: an entry is kept when above ``t``, or equal to it and among the first
    (lowest rows) equal ones that still fit. The same entries as sorting each column, without
    sorting: that sort was most of the blend's fitting time.
    """
    keep = np.ones(len(cols), dtype=bool)
    if not len(cols):
        return rows, cols, sim
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    lengths = np.diff(np.r_[starts, len(cols)])
    # Long columns shortest first, in blocks of similar lengths: little padding.
    long = np.flatnonzero(lengths > neighbours)
    long = long[np.argsort(lengths[long], kind="stable")]
    for segments in _similar_lengths(long, lengths):
        width = int(lengths[segments[-1]])
        offsets = np.arange(width)
        valid = offsets < lengths[segments, None]
        where = (starts[segments, None] + offsets)[valid]
        # Similarities are positive: -inf padding is never among a column's largest.
        padded = np.full((len(segments), width), -np.inf)
        padded[valid] = sim[where]
        t = np.partition(padded, width - neighbours, axis=1)[:, width - neighbours, None]
        above, tied = padded > t, padded == t
        room = neighbours - above.sum(axis=1, keepdims=True)
        keep[where] = (above | (tied & (np.cumsum(tied, axis=1) <= room)))[valid]
    return rows[keep], cols[keep], sim[keep]


def item_similarity(train: sp.spmatrix, neighbours: int = 200, shrink: float = 20.0) -> sp.csr_matrix:
    """Sparse item-item cosine similarity, pruned per candidate product.

    ``sim(i, j) = c_ij / (sqrt(n_i * n_j) + shrink)`` with ``c_ij`` the users who have both
    items and ``n_i`` those who have ``i`` (every stored rating counts once), no self-similarity.
    Each *column* ``j`` keeps its ``neighbours`` largest ``sim(i, j)`` over ``i`` (ties to the
    lower code): a candidate is judged by its strongest neighbours among everything, so a user's
    score for ``j``, ``(X_u @ S)_j``, sums at most ``neighbours`` terms per candidate. Pruning per
    row (each history item votes for its own neighbours) ranked worse (docs/objectives.md).
    ``XᵀX`` is computed in column blocks (:data:`SIMILARITY_BLOCK_WORK`), so memory stays bounded
    for catalogues of hundreds of thousands of products.

    Parameters
    ----------
    train
        ``n_users x n_items`` training matrix (any non-zero entry is an interaction).
    neighbours
        Entries kept per column (at least 1).
    shrink
        Added to the cosine denominator; damps similarities resting on few users.

    Returns
    -------
    scipy.sparse.csr_matrix
        float32 ``n_items x n_items``, sorted indices.
    """
    if int(neighbours) < 1 or not shrink >= 0:
        raise RecsysError("item-kNN needs neighbours >= 1 and shrink >= 0.")
    matrix = binary_interactions(train)
    n_items = matrix.shape[1]
    columns = matrix.tocsc()
    norms = np.sqrt(np.diff(columns.indptr).astype(np.float64))
    by_item = matrix.T.tocsr()
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for lo, hi in _column_blocks(matrix):
        gram = (by_item @ columns[:, lo:hi]).tocsc()  # column j - lo holds c_ij over i
        gram.sort_indices()  # rows ascending within a column: _top_per_column breaks ties by it
        rows = gram.indices.astype(np.int64)
        cols = np.repeat(np.arange(lo, hi, dtype=np.int64), np.diff(gram.indptr))
        sim = gram.data.astype(np.float64) / (norms[rows] * norms[cols] + float(shrink))
        off = rows != cols
        parts.append(_top_per_column(rows[off], cols[off], sim[off], int(neighbours)))
    rows, cols, sim = (np.concatenate([p[i] for p in parts]) if parts else np.empty(0) for i in range(3))
    similarity = sp.csr_matrix(
        (sim.astype(np.float32), (rows.astype(np.int64), cols.astype(np.int64))), shape=(n_items, n_items)
    )
    similarity.sort_indices()
    return similarity


class ItemKNN:
    """Item-based k-nearest neighbours on binary interactions (cosine similarity).

    The similarity is :func:`item_similarity` (each candidate item ``j`` keeps its
    ``neighbours`` most similar items, column ``j`` of the sparse ``similarity_``), and a user's
    score for ``j`` is the sum of ``sim(i, j)`` over the items ``i`` they have, i.e.
    ``X[u] @ similarity_``.

    Parameters
    ----------
    neighbours
        Neighbours kept per candidate item (at least 1).
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
        self._train = binary_interactions(train)
        self.similarity_ = item_similarity(self._train, self.params["neighbours"], self.params["shrink"])
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        if self.similarity_ is None or self._train is None:
            raise not_fitted(self.name)
        codes = check_users(users, self._train.shape[0])
        return (self._train[codes] @ self.similarity_).toarray().astype(np.float32, copy=False)
