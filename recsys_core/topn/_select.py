"""Chunked top-k over the catalogue: the seen matrix, popularity, and the best unseen items.

The one place that knows how "the ``k`` best products a user has not rated" is computed, for
the model and for the most-popular baseline. :mod:`recsys_core.metrics._evaluation` (ranking metrics),
:mod:`recsys_core.topn._recommend` (top-N lists) and :mod:`recsys_core.runs._run` (the seen matrix of a
saved run) build on it; it imports none of them.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import ArrayLike

from recsys_core.errors import RecsysError
from recsys_core.model import NCF, Blend, maybe_add

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


class ScoreBuffer:
    """One reusable float32 block of logits for scoring users block after block
    (:meth:`NCF.score_all_items`'s ``out``): the first ``rows`` rows of the largest block asked
    for so far."""

    def __init__(self) -> None:
        self._block: torch.Tensor | None = None

    def take(self, rows: int, n_items: int, device: torch.device) -> torch.Tensor:
        """A contiguous ``(rows, n_items)`` float32 tensor on ``device`` (its contents are stale)."""
        block = self._block
        if block is None or len(block) < rows or block.shape[1] != n_items or block.device != device:
            block = self._block = torch.empty((rows, n_items), dtype=torch.float32, device=device)
        return block[:rows]


def top_unseen(
    model: NCF,
    users: np.ndarray,
    excluded: sp.csr_matrix,
    k: int,
    blend: Blend | None = None,
    buffer: ScoreBuffer | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest-scoring items per user among those not set in ``excluded``.

    One chunk of users is scored against every item with ``model.score_all_items`` (torch, on
    the model's device), plus the run's item-kNN term when ``blend`` is given (the excluded
    products are the history: :mod:`recsys_core.model._blend`), excluded entries are set to ``-inf``
    and :func:`select_top` picks the best (equal logits: lower item code first).

    ``buffer`` holds the logits when given (callers that score many blocks keep one).

    Returns
    -------
    items, logits
        ``(len(users), min(k, n_items))`` arrays, best first. A user with fewer than ``k``
        candidates is padded with item ``-1`` and logit ``-inf``.
    """
    device = model.device
    with torch.no_grad():
        codes = torch.as_tensor(users, dtype=torch.long, device=device)
        out = None if buffer is None else buffer.take(len(codes), excluded.shape[1], device)
        logits = model.score_all_items(codes, out=out).float()
        history = excluded[users]
        maybe_add(blend, logits, history)
        rows, cols = entries(history)
        if len(rows):
            logits[torch.from_numpy(rows).to(device), torch.from_numpy(cols).to(device)] = -math.inf
        top, values = select_top(logits, k)
        del logits
    return top.cpu().numpy(), values.cpu().numpy()


def top_popular_unseen(
    order: np.ndarray, users: np.ndarray, excluded: sp.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`top_unseen` for the most-popular baseline (same exclusion, same selection).

    ``order`` is :func:`popularity_order` (most popular first). It is the same for everyone, so a
    user who rated ``m`` items finds their top ``k`` within its first ``k + m`` items: only those
    columns are scored.

    Returns
    -------
    items, scores
        Item codes (``-1`` padded) and a tie-free popularity score, ``n_items`` for the most
        popular product down to 1 (``-inf`` padded).
    """
    n_items = len(order)
    block = excluded[users]
    width = int(min(n_items, k + (np.diff(block.indptr).max(initial=0))))
    columns = order[:width]
    position = np.full(n_items, -1, dtype=np.int64)
    position[columns] = np.arange(width)
    # Distinct descending scores: raw counts tie a lot and topk would break ties arbitrarily.
    # n_items minus the popularity rank, as MostPopular's: a user's scores never depend on the
    # other users of the block (the width does).
    scores = torch.arange(n_items, n_items - width, -1, dtype=torch.float32).expand(len(users), width).clone()
    rows, cols = entries(block)
    cols = position[cols]
    inside = cols >= 0
    scores[torch.from_numpy(rows[inside]), torch.from_numpy(cols[inside])] = -math.inf
    top, values = select_top(scores, k)
    top = top.numpy()
    items = np.where(top >= 0, columns[np.maximum(top, 0)], -1)
    return items, values.numpy()


# -- the selection --------------------------------------------------------------------------------
# One top-k for every ranker (the model, the baselines, everyone's lists): it never sorts the
# catalogue. The catalogue is cut into groups of GROUP consecutive products and each group's
# maximum taken; the k-th largest group maximum t bounds the answer: the k groups holding the
# largest maxima contain at least k products scoring >= t and, when no other group reaches t,
# every product scoring >= t; so the top k lie among those k * GROUP candidates. The rare rows
# where another group reaches t or the k-th and (k+1)-th candidates tie are solved one by one.
# Equal scores (the same float32) go to the lower product code first: the ids' sorting order.

#: Products per group for the group-maximum bound (a multiple of the SIMD width).
GROUP = 64
#: Up to this many products one ``topk`` over the whole row beats the group bound's two passes
#: (1024 customers x 2,000 products: 4.7 ms against 9.3 ms on one thread); above it the bound
#: wins more and more (345 x 48,769: 6.9 ms against 21.9 ms).
DIRECT_MAX_ITEMS = 4_096


def _group_maxima(logits: torch.Tensor, group: int) -> torch.Tensor:
    n_items = logits.shape[1]
    whole = n_items // group
    maxes = logits[:, : whole * group].unflatten(1, (whole, group)).amax(2)
    if whole * group < n_items:
        tail = logits[:, whole * group :].amax(1, keepdim=True)
        maxes = torch.cat([maxes, tail], 1)
    return maxes


def _sorted_prefix(values: torch.Tensor, columns: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` best of ``values`` (columns ascending along the last axis), ties by position."""
    ordered, order = torch.sort(values, dim=-1, descending=True, stable=True)
    return columns.gather(-1, order[..., :k]), ordered[..., :k]


def _exact_row(row: torch.Tensor, threshold: float, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top ``k`` of one row from every product at or above ``threshold``; ``-1``/``-inf`` pad."""
    keep = row > -math.inf if threshold == -math.inf else row >= threshold
    columns = keep.nonzero().flatten()
    items, values = _sorted_prefix(row[columns], columns, k)
    if len(items) < k:
        pad = k - len(items)
        items = torch.cat([items, torch.full((pad,), -1, dtype=items.dtype, device=row.device)])
        values = torch.cat([values, torch.full((pad,), -math.inf, dtype=row.dtype, device=row.device)])
    return items, values


def _direct_top(logits: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`select_top` of a small catalogue: one ``topk`` of ``k + 1`` over every product (the
    ``(k+1)``-th equal to the ``k``-th means a tie at the boundary, solved row by row)."""
    best, where = torch.topk(logits, k + 1, dim=1)
    crowded = best[:, k] == best[:, k - 1]
    where = where[:, :k].sort(dim=1).values  # ascending columns, for the tie order
    items, values = _sorted_prefix(logits.gather(1, where), where, k)
    for row in crowded.nonzero().flatten().tolist():
        items[row], values[row] = _exact_row(logits[row], float(best[row, k - 1]), k)
    return _finish(items, values)


def select_top(logits: torch.Tensor, k: int, group: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` best products of every row of a masked logit block.

    Parameters
    ----------
    logits
        ``(rows, n_items)`` float32; excluded products hold ``-inf``.
    k
        List length.
    group
        Products per group of the bound (see the module docstring); tests shrink it. ``None``:
        one ``topk`` over the row up to :data:`DIRECT_MAX_ITEMS` products, :data:`GROUP` above.

    Returns
    -------
    items, values
        ``(rows, min(k, n_items))``: product codes (int64) and logits, best first, equal logits
        by ascending code; ``-1`` / ``-inf`` pad rows with fewer than ``k`` candidates.
    """
    if group is not None and group < 2:
        raise ValueError("group must be at least 2")
    n_items = logits.shape[1]
    k = min(k, n_items)
    if group is None:
        if 0 < k < n_items <= DIRECT_MAX_ITEMS:
            return _direct_top(logits, k)
        group = GROUP
    n_groups = -(-n_items // group)
    if n_groups <= 2 * k:  # a small catalogue: sorting all of it is cheap
        columns = torch.arange(n_items, device=logits.device)
        return _finish(*_sorted_prefix(logits, columns.expand_as(logits), k))
    # k + 1 of everything below: a (k+1)-th equal to the k-th means a tie at the boundary
    top_max, top_groups = torch.topk(_group_maxima(logits, group), k + 1, dim=1)
    threshold = top_max[:, k - 1]
    groups = top_groups[:, :k].sort(dim=1).values  # ascending groups -> ascending columns
    candidates = (groups.unsqueeze(2) * group + torch.arange(group, device=logits.device)).flatten(1)
    outside = candidates >= n_items  # the short last group
    candidates.clamp_(max=n_items - 1)
    scores = logits.gather(1, candidates).masked_fill_(outside, -math.inf)
    best, where = torch.topk(scores, k + 1, dim=1)
    crowded = (top_max[:, k] >= threshold) | (best[:, k] == best[:, k - 1])
    where = where[:, :k].sort(dim=1).values  # ascending columns again, for the tie order
    items, values = _sorted_prefix(scores.gather(1, where), candidates.gather(1, where), k)
    for row in crowded.nonzero().flatten().tolist():
        items[row], values[row] = _exact_row(logits[row], float(threshold[row]), k)
    return _finish(items, values)


def _finish(items: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``-1`` for the padding of rows with fewer candidates than ``k``."""
    items = items.masked_fill(values == -math.inf, -1)
    return items, values
