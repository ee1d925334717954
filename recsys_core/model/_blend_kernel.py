"""The numba kernel behind :meth:`recsys_core.model.Blend.add_to` on large catalogues: ``β · H @ S``
added into a block of logits in one pass, without building the sparse product.

At the seed's shape (48,769 products) a customer's kNN term touches about a fifth of the
catalogue (the history's popular products have long similarity rows), and scipy's product of
two CSR matrices makes two passes over it (one to size the result), then hands back index
arrays to scatter into the logits: 76 ms per block of 345 customers, against 33 ms here. The
kernel walks the same entries in the same order as scipy's product (each history entry in
turn, its similarity row in stored order), sums ``h * s`` in float32 in a scratch row, then adds
``β`` times each non-zero sum to the logit: the float32 operations of ``logits + float32(β) *
(H @ S)``, so both paths agree to the last bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def add_blend_term(
    logits: np.ndarray,
    h_indptr: np.ndarray,
    h_indices: np.ndarray,
    h_data: np.ndarray,
    s_indptr: np.ndarray,
    s_indices: np.ndarray,
    s_data: np.ndarray,
    beta: np.float32,
) -> None:
    """``logits[r, j] += beta * (H @ S)[r, j]`` for every non-zero cell of the product.

    ``logits`` is a C-contiguous float32 ``(rows of H, columns of S)`` array; ``H`` and ``S`` are
    float32 CSR matrices given by their arrays."""
    n_cols = logits.shape[1]
    sums = np.zeros(n_cols, np.float32)
    touched = np.empty(n_cols, np.int64)
    marked = np.zeros(n_cols, np.bool_)
    for r in range(logits.shape[0]):
        n = 0
        for a in range(h_indptr[r], h_indptr[r + 1]):
            i = h_indices[a]
            v = h_data[a]
            for b in range(s_indptr[i], s_indptr[i + 1]):
                j = s_indices[b]
                if not marked[j]:
                    marked[j] = True
                    touched[n] = j
                    n += 1
                sums[j] += v * s_data[b]
        for t in range(n):
            j = touched[t]
            if sums[j] != 0:  # scipy's product keeps no zero cells
                logits[r, j] += beta * sums[j]
            sums[j] = 0
            marked[j] = False
