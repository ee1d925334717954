"""The item-kNN blend of a run: ``logit(u, j) = model logit + β · (H_u @ S)_j``.

``S`` is the run's sparse item-item similarity (:func:`recsys_core.baselines.item_similarity`,
each candidate product keeping its most similar products) and ``H_u`` the user's history row
(binary): the products excluded from their list, i.e. the training pairs when validation is
ranked and the train + validation pairs at test and recommendation time. The weight ``β`` is
chosen on validation NDCG@10 after training (:mod:`recsys_core.training._blend_fit`); ``β = 0`` is the
plain model. The blended logit is what every top-N ranks by and what ``sigmoid`` turns into the
shown score, and it stays additive: each history product ``i`` adds ``β · S[i, j]`` to ``j``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from recsys_core.errors import RecsysError, plain
from recsys_core.model._ncf import NCF

#: β tried on validation, smallest first (a tie keeps the smaller one; 0 = the plain model).
BLEND_GRID = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)
#: The largest β training can choose: a stored weight above it was not made by training.
MAX_BLEND_WEIGHT = max(BLEND_GRID)
#: Similarities are cosines of binary columns (:func:`recsys_core.baselines.item_similarity`),
#: in [0, 1]; float32 rounding may put one a hair above 1.
MAX_SIMILARITY = 1.0 + 1e-5
#: Above this many products :meth:`Blend.add_to` adds the kNN term with a numba kernel (twice as
#: fast as scipy's product at 48,769 products); below, importing numba would cost a small run
#: more than it saves. The sampled softmax starts at the same size, and imports numba anyway.
KERNEL_MIN_ITEMS = 8_192
#: Up to this many products the similarity is also kept dense (64 MB at most) and ``H @ S`` is a
#: sparse-by-dense product: 11 ms against 45 ms for scipy's sparse-by-sparse product and its
#: dense form (1,024 customers x 2,000 products), the same float32 sums in the same order.
DENSE_MAX_ITEMS = 4_096


def dense_similarity(similarity: sp.csr_matrix) -> np.ndarray | None:
    """``similarity`` as a float32 array when it has at most :data:`DENSE_MAX_ITEMS` products
    (for :func:`knn_scores`), else ``None``."""
    if similarity.shape[1] > DENSE_MAX_ITEMS:
        return None
    return similarity.toarray().astype(np.float32, copy=False)


def knn_scores(
    history: sp.csr_matrix, similarity: sp.csr_matrix, dense: np.ndarray | None = None
) -> np.ndarray:
    """``H @ S`` as a float32 array ``(history rows, n_items)``, ``H`` binary as float32.

    ``dense`` is :func:`dense_similarity` of ``similarity`` (``None``: the sparse product). Both
    ways give the same bits: each cell sums ``S[i, j]`` over the row's products ``i`` in
    ascending order.
    """
    history = sp.csr_matrix(history, dtype=np.float32)
    if dense is not None:
        return np.asarray(history @ dense, dtype=np.float32)
    return (history @ similarity).toarray()


@dataclass(frozen=True, eq=False)
class Blend:
    """An item-kNN term added to a model's logits.

    Attributes
    ----------
    similarity
        float32 CSR ``n_items x n_items``: ``S[i, j]``, what having ``i`` adds to ``j``.
    weight
        ``β`` (finite, at least 0).
    """

    similarity: sp.csr_matrix
    weight: float

    def __post_init__(self) -> None:
        rows, cols = self.similarity.shape
        if rows != cols:
            raise RecsysError(f"An item similarity must be square, not {rows} x {cols}.")
        if not (np.isfinite(self.weight) and 0 <= self.weight <= MAX_BLEND_WEIGHT):
            raise RecsysError(
                f"The blend weight must be a number from 0 to {MAX_BLEND_WEIGHT:g} (what training can "
                f"choose), not {plain(self.weight)}."
            )

    @property
    def n_items(self) -> int:
        return int(self.similarity.shape[0])

    @functools.cached_property
    def dense(self) -> np.ndarray | None:
        """The similarity as a float32 array on a small catalogue (:func:`dense_similarity`)."""
        return dense_similarity(self.similarity)

    def _history(self, history: sp.csr_matrix) -> sp.csr_matrix:
        """``history`` as float32 CSR (binary, as its product with ``S`` counts it), checked
        against the similarity's size."""
        if history.shape[1] != self.n_items:
            raise RecsysError(
                f"The history has {history.shape[1]} products but the item similarity {self.n_items}; "
                "both must come from the same run."
            )
        return sp.csr_matrix(history, dtype=np.float32)

    def _product(self, history: sp.csr_matrix) -> sp.csr_matrix:
        """``H @ S`` as a float32 CSR (binary ``H`` as float32; same numbers as its dense form)."""
        return self._history(history) @ self.similarity

    def term(self, history: sp.csr_matrix) -> np.ndarray:
        """``β · (H @ S)``: float32 ``(history rows, n_items)``."""
        dense = knn_scores(self._history(history), self.similarity, self.dense)
        dense *= np.float32(self.weight)
        return dense

    def add_to(self, logits: torch.Tensor, history: sp.csr_matrix) -> None:
        """Add :meth:`term` of ``history`` (one row per row of ``logits``) in place.

        Only the stored entries of the sparse ``H @ S`` are added (a few hundred per customer,
        against hundreds of thousands of products): the same float32 sums as adding the dense
        term, without writing, scaling and reading a dense block the size of ``logits``.
        """
        if self.weight == 0 or self.similarity.nnz == 0:
            return  # β = 0 is the plain model, exactly
        if self.n_items > KERNEL_MIN_ITEMS and logits.device.type == "cpu" and logits.is_contiguous():
            self._add_by_kernel(logits, history)
            return
        if self.dense is not None:
            # A small catalogue: the dense term (zeros add nothing), from the fast product.
            logits += torch.from_numpy(self.term(history)).to(logits.device, logits.dtype)
            return
        product = self._product(history)
        # scipy's sparse product stores each (row, column) once (its accumulator merges them), so
        # every cell gets one addition, as in the dense term; its columns are left unsorted, which
        # an addition does not need (sorting them cost more than the product at 48k products).
        if product.nnz == 0:
            return
        values = product.data * np.float32(self.weight)  # float32, as ``term``'s ``dense *= β``
        n_cols = logits.shape[1]
        rows = np.repeat(np.arange(product.shape[0], dtype=np.int64) * n_cols, np.diff(product.indptr))
        cells = torch.from_numpy(rows + product.indices).to(logits.device)
        # One flat index_add_: several times faster on CPU than index_put_ with accumulate.
        logits.view(-1).index_add_(0, cells, torch.from_numpy(values).to(logits.device, logits.dtype))

    def _add_by_kernel(self, logits: torch.Tensor, history: sp.csr_matrix) -> None:
        """:meth:`add_to` in one numba pass (:mod:`recsys_core.model._blend_kernel`), the same bits."""
        from recsys_core.model._blend_kernel import add_blend_term  # numba: imported when used

        history = self._history(history)
        s = self.similarity
        add_blend_term(
            logits.numpy(),
            history.indptr,
            history.indices,
            history.data,
            s.indptr,
            s.indices,
            s.data.astype(np.float32, copy=False),
            np.float32(self.weight),
        )

    def contributions(self, history_items: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``β · S[i, j]`` for every history product ``i`` (columns) and target ``j`` (rows):
        float64 ``(len(targets), len(history_items))``. A product listed twice in the history
        counts once, its share split evenly over its repeats (the history row is binary)."""
        history_items = np.asarray(history_items, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        block = self.similarity[history_items][:, targets].toarray().astype(np.float64).T
        _, inverse, counts = np.unique(history_items, return_inverse=True, return_counts=True)
        return block * (float(self.weight) / counts[inverse])[None, :]


@dataclass(frozen=True, eq=False)
class Blended:
    """A model with its blend, where one argument stands for the ranker (``ranking_metrics``)."""

    model: NCF
    blend: Blend | None = None


def unwrap(ranker: NCF | Blended) -> tuple[NCF, Blend | None]:
    """``(model, blend)`` of a plain model (no blend) or of a :class:`Blended`."""
    if isinstance(ranker, Blended):
        return ranker.model, ranker.blend
    return ranker, None


def maybe_add(blend: Blend | None, logits: torch.Tensor, history: sp.csr_matrix | None) -> None:
    """:meth:`Blend.add_to` when there is a blend and a history; nothing otherwise."""
    if blend is not None and history is not None:
        blend.add_to(logits, history)
