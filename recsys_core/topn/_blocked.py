"""Exact top-N products of a block of users: one matrix product, a selection that never sorts
the catalogue.

The model's logit ``<p_u, q_i> + b_u + b_i`` is one dot product of *folded* factors,
``[p_u, b_u, 1] . [q_i, 1, b_i]``, so a block of users is scored against every product by a
single BLAS matrix product (torch, on the model's device or a GPU). Products a user has seen
are set to ``-inf`` inside the block (a run's item-kNN blend first adds the sparse product
``history[block] @ S`` times its weight, :mod:`recsys_core.model._blend`). The selection then reads
the block once more:

1. the catalogue is cut into groups of :data:`GROUP` consecutive products and each group's
   maximum is taken (a vectorised reduction);
2. the ``n``-th largest group maximum ``t`` bounds the answer: the ``n`` groups holding the
   largest maxima contain at least ``n`` products scoring ``>= t``, and, when no other group
   reaches ``t``, *every* product scoring ``>= t``; so the top ``n`` lie among those
   ``n * GROUP`` candidates, from which ``torch.topk`` takes ``n + 1``;
3. the rare rows where another group reaches ``t`` or the ``n``-th and ``(n+1)``-th candidates
   tie (ties at the boundary, or users with fewer than ``n`` unseen products) are solved one by
   one from every product scoring ``>= t``.

Order: higher logit first; equal logits (the same float32) go to the lower product code first,
which is the id's sorting order (see :class:`~recsys_core.data.IdMap`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
import torch

from recsys_core.model import NCF, Blend, maybe_add
from recsys_core.topn._select import GROUP, select_top

#: Logit cells scored at once: 64 Mi float32 = 256 MiB, whatever the number of users.
MAX_BLOCK_CELLS = 1 << 26


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's parameters (CPU for a model without any)."""
    return next(model.parameters(), torch.empty(0)).device


def fold_items(model: NCF, device: str | torch.device = "cpu") -> torch.Tensor:
    """``(n_items, d + 2)`` float32 rows ``[q_i, 1, b_i]``."""
    with torch.no_grad():
        q = model.item_embedding.weight.detach().float()
        ones = torch.ones(len(q), 1, dtype=q.dtype, device=q.device)
        return torch.cat([q, ones, model.item_bias.weight.detach().float()], 1).to(device)


def fold_users(model: NCF, start: int, stop: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """``(stop - start, d + 2)`` float32 rows ``[p_u, b_u, 1]`` of users ``start..stop-1``."""
    with torch.no_grad():
        p = model.user_embedding.weight[start:stop].detach().float()
        ones = torch.ones(len(p), 1, dtype=p.dtype, device=p.device)
        return torch.cat([p, model.user_bias.weight[start:stop].detach().float(), ones], 1).to(device)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Scores in [0, 1] of float32 logits, as float64.

    In float64 and elementwise, so a score never depends on the length of the array it was
    computed in (torch's float32 sigmoid differs by an ulp between its vector body and tail).
    """
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))


class BlockedTopN:
    """Scores blocks of users against the whole catalogue and keeps each one's top ``n``.

    Parameters
    ----------
    model
        The trained :class:`~recsys_core.model.NCF`.
    excluded
        ``n_users x n_items`` CSR of the products never to recommend (seen ones), or ``None``.
    n
        List length.
    device
        Where the products and the selection run (``"cpu"``, ``"cuda"``).
    max_cells
        Logit cells scored at once by all workers together; bounds the memory.
    group
        Products per group of the selection bound.
    workers
        Python threads scoring blocks side by side (CPU only). Give each single-threaded torch
        ops (``torch.set_num_threads(1)``): on a busy machine, intra-op threads wait for each
        other at every operation, independent workers do not.
    blend, history
        The run's item-kNN blend and the users' history rows (default ``excluded``): the seen
        products feed the kNN term even when they are not excluded.
    """

    def __init__(
        self,
        model: NCF,
        excluded: sp.csr_matrix | None,
        n: int,
        *,
        device: str | torch.device = "cpu",
        max_cells: int = MAX_BLOCK_CELLS,
        group: int = GROUP,
        workers: int = 1,
        blend: Blend | None = None,
        history: sp.csr_matrix | None = None,
    ):
        self.model = model
        self.excluded = excluded
        self.blend = blend
        self.history = excluded if history is None else history
        self.n = int(n)
        self.device = torch.device(device)
        self.group = int(group)
        self.items = fold_items(model, self.device)
        self.workers = max(1, int(workers)) if self.device.type == "cpu" else 1
        self.rows_per_product = max(1, int(max_cells) // self.workers // max(model.n_items, 1))
        self._local = threading.local()  # one logit buffer per worker thread

    @property
    def k(self) -> int:
        """Columns of every answer: ``min(n, n_items)``."""
        return min(self.n, self.model.n_items)

    def _mask(self, logits: torch.Tensor, start: int, stop: int) -> None:
        if self.excluded is None:
            return
        block = self.excluded[start:stop]
        if block.nnz == 0:
            return
        rows = np.repeat(np.arange(stop - start, dtype=np.int64), np.diff(block.indptr))
        cols = block.indices.astype(np.int64, copy=False)
        logits[torch.from_numpy(rows).to(self.device), torch.from_numpy(cols).to(self.device)] = -math.inf

    def _logits(self, lo: int, hi: int) -> torch.Tensor:
        # One buffer per worker for every block: a fresh big tensor each time costs page faults.
        buffer = getattr(self._local, "buffer", None)
        if buffer is None:
            rows = min(self.rows_per_product, self.model.n_users)
            buffer = self._local.buffer = torch.empty(rows, self.model.n_items, device=self.device)
        out = buffer[: hi - lo]
        torch.mm(fold_users(self.model, lo, hi, self.device), self.items.T, out=out)
        return out

    def _block(self, bounds: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = bounds
        with torch.no_grad():  # per thread: no_grad is thread-local
            logits = self._logits(lo, hi)
            if self.history is not None:
                maybe_add(self.blend, logits, self.history[lo:hi])
            self._mask(logits, lo, hi)
            top, best = select_top(logits, self.n, self.group)
            return top.cpu().numpy(), best.cpu().numpy()

    def top(
        self, start: int, stop: int, on_rows: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``n`` of users ``start..stop-1``; ``on_rows(count)`` after every block scored.

        Returns
        -------
        items, logits
            ``(stop - start, k)`` int32 product codes (``-1`` pad) and float32 logits
            (``-inf`` pad), best first.
        """
        items = np.empty((stop - start, self.k), dtype=np.int32)
        values = np.empty((stop - start, self.k), dtype=np.float32)
        bounds = [
            (lo, min(lo + self.rows_per_product, stop)) for lo in range(start, stop, self.rows_per_product)
        ]
        pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None
        try:
            results = pool.map(self._block, bounds) if pool else map(self._block, bounds)
            for (lo, hi), (top, best) in zip(bounds, results, strict=True):
                items[lo - start : hi - start] = top
                values[lo - start : hi - start] = best
                if on_rows is not None:
                    on_rows(hi - lo)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        return items, values
