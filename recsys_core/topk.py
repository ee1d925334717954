"""Chunked top-k over the catalogue: the seen matrix, popularity, and the best unseen items.

The one place that knows how "the ``k`` best products a user has not rated" is computed, for
the model and for the most-popular baseline. :mod:`recsys_core.evaluation` (ranking metrics),
:mod:`recsys_core.recommend` (top-N lists) and :mod:`recsys_core.runs` (the seen matrix of a
saved run) build on it; it imports none of them.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import ArrayLike

from recsys_core.errors import RecsysError
from recsys_core.model import NCF

#: Most cells (users x items) scored at once: caps memory at ~64 MB of float32 scores whatever
#: ``chunk_size`` asks for (and keeps the matrix product in cache-friendly blocks).
MAX_CHUNK_CELLS = 1 << 24


def build_seen_matrix(users: ArrayLike, items: ArrayLike, n_users: int, n_items: int) -> sp.csr_matrix:
    """Boolean ``n_users x n_items`` CSR matrix with ``True`` at every (user, item) pair given.

    Duplicate pairs collapse to one entry; column indices are sorted within each row.
    """
    users = np.asarray(users, dtype=np.int64).reshape(-1)
    items = np.asarray(items, dtype=np.int64).reshape(-1)
    if len(users) != len(items):
        raise RecsysError(f"Got {len(users)} user codes but {len(items)} item codes; they must pair up.")
    if len(users) and (
        users.min() < 0 or users.max() >= n_users or items.min() < 0 or items.max() >= n_items
    ):
        raise RecsysError(
            f"A (user, item) code lies outside the {n_users} x {n_items} catalogue; encode the pairs with "
            "the run's IdMap and drop unknown ids (-1) first."
        )
    matrix = sp.csr_matrix(
        (np.ones(len(users), dtype=bool), (users, items)), shape=(int(n_users), int(n_items)), dtype=bool
    )
    matrix.sum_duplicates()  # merges repeats (True + True stays True) and sorts the indices
    matrix.eliminate_zeros()
    return matrix


def item_popularity(train_items: ArrayLike, n_items: int) -> np.ndarray:
    """Number of training ratings of each item: an ``int64`` array of length ``n_items``."""
    items = np.asarray(train_items, dtype=np.int64).reshape(-1)
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise RecsysError(f"An item code lies outside 0..{n_items - 1}; drop unknown ids (-1) first.")
    return np.bincount(items, minlength=int(n_items)).astype(np.int64)


def popularity_order(popularity: ArrayLike) -> np.ndarray:
    """Item codes from most to least popular; ties go to the lower code, so the order is fixed."""
    popularity = np.asarray(popularity, dtype=np.float64)
    return np.lexsort((np.arange(len(popularity)), -popularity))


def effective_chunk(chunk_size: int, n_items: int) -> int:
    """Users per chunk: at most ``chunk_size`` and at most :data:`MAX_CHUNK_CELLS` cells."""
    if chunk_size < 1:
        raise RecsysError("chunk_size must be at least 1.")
    return max(1, min(int(chunk_size), MAX_CHUNK_CELLS // max(int(n_items), 1)))


def entries(block: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every stored entry of a CSR block, as int64."""
    rows = np.repeat(np.arange(block.shape[0], dtype=np.int64), np.diff(block.indptr))
    return rows, block.indices.astype(np.int64, copy=False)


def top_unseen(
    model: NCF, users: np.ndarray, excluded: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest-scoring items per user among those not set in ``excluded``.

    One chunk of users is scored against every item with ``model.score_all_items`` (torch, on
    the model's device), excluded entries are set to ``-inf`` and ``torch.topk`` picks the best.

    Returns
    -------
    items, logits
        ``(len(users), min(k, n_items))`` arrays, best first. A user with fewer than ``k``
        candidates is padded with item ``-1`` and logit ``-inf``.
    """
    device = model.device
    with torch.no_grad():
        logits = model.score_all_items(torch.as_tensor(users, dtype=torch.long, device=device)).float()
        rows, cols = entries(excluded[users])
        if len(rows):
            logits[torch.from_numpy(rows).to(device), torch.from_numpy(cols).to(device)] = -math.inf
        values, top = torch.topk(logits, min(k, logits.shape[1]), dim=1)
        del logits
        valid = values != -math.inf
        top = torch.where(valid, top, -1)
    return top.cpu().numpy(), values.cpu().numpy()


def top_popular_unseen(
    order: np.ndarray, users: np.ndarray, excluded: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`top_unseen` for the most-popular baseline (same exclusion, same ``topk``).

    ``order`` is :func:`popularity_order` (most popular first). It is the same for everyone, so a
    user who rated ``m`` items finds their top ``k`` within its first ``k + m`` items: only those
    columns are scored.

    Returns
    -------
    items, scores
        Item codes (``-1`` padded) and a tie-free popularity score (``-inf`` padded).
    """
    n_items = len(order)
    block = excluded[users]
    width = int(min(n_items, k + (np.diff(block.indptr).max(initial=0))))
    columns = order[:width]
    position = np.full(n_items, -1, dtype=np.int64)
    position[columns] = np.arange(width)
    # Distinct descending scores: raw counts tie a lot and topk would break ties arbitrarily.
    scores = torch.arange(width, 0, -1, dtype=torch.float32).expand(len(users), width).clone()
    rows, cols = entries(block)
    cols = position[cols]
    inside = cols >= 0
    scores[torch.from_numpy(rows[inside]), torch.from_numpy(cols[inside])] = -math.inf
    values, top = torch.topk(scores, min(k, width), dim=1)
    valid = (values != -math.inf).numpy()
    items = np.where(valid, columns[top.numpy()], -1)
    return items, values.numpy()
