"""Top-k of any :class:`~recsys_core.baselines.Scorer`, seen items masked.

Same contract as ``recsys_core.topn.top_unseen`` for the model, so the baselines go
through the very same ranking-metric code: ``topk_metrics(lambda rows:
top_k_scored(scorer, rows, seen, k), ...)``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from recsys_core.baselines._scorer import Scorer
from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_LIST_LENGTH
from recsys_core.topn import effective_chunk, select_top


def top_k_scored(
    scorer: Scorer, users: np.ndarray, excluded: sp.csr_matrix, k: int, *, chunk_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest-scoring items per user among those not set in ``excluded``.

    Users are scored a chunk at a time (``effective_chunk(chunk_size, n_items)`` users, so at
    most ``MAX_CHUNK_CELLS`` float32 scores live at once), and the best are picked by
    :func:`recsys_core.topn.select_top`, the one selection of the project (ties go to the
    lower item code).

    Parameters
    ----------
    scorer
        A fitted scorer; its ``score`` blocks are overwritten here (masking).
    users
        User codes (rows of ``excluded``).
    excluded
        ``n_users x n_items`` CSR; set entries are never recommended (train, or train +
        validation).
    k
        List length.

    Returns
    -------
    items, scores
        ``(len(users), min(k, n_items))`` int64 and float32 arrays, best first. A user with
        fewer than ``k`` candidates is padded with item ``-1`` and score ``-inf``.
    """
    k = check_count(k, "k (the list length)", most=MAX_LIST_LENGTH)
    codes = np.asarray(users, dtype=np.int64).reshape(-1)
    excluded = sp.csr_matrix(excluded)
    n_items = excluded.shape[1]
    k_eff = min(int(k), n_items)
    items = np.full((len(codes), k_eff), -1, dtype=np.int64)
    scores = np.full((len(codes), k_eff), -np.inf, dtype=np.float32)
    step = effective_chunk(chunk_size, n_items)
    for start in range(0, len(codes), step):
        rows = codes[start : start + step]
        block = np.asarray(scorer.score(rows), dtype=np.float32)
        if block.shape != (len(rows), n_items):
            raise RecsysError(
                f"{scorer.name} scored a {block.shape} block for {len(rows)} users; the excluded matrix "
                f"has {n_items} items. Fit it on a matrix of the same catalogue."
            )
        chunk_items, chunk_scores = _top_of_block(block, excluded[rows], k_eff)
        items[start : start + len(rows)] = chunk_items
        scores[start : start + len(rows)] = chunk_scores
    return items, scores


def _top_of_block(block: np.ndarray, excluded: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.repeat(np.arange(block.shape[0]), np.diff(excluded.indptr))
    block[rows, excluded.indices] = -np.inf
    block[np.isnan(block)] = -np.inf  # a NaN would otherwise sort above everything
    items, values = select_top(torch.from_numpy(block), k)
    return items.numpy(), values.numpy()
