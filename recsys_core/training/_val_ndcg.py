"""Validation NDCG@k of a model and of its item-kNN blends, scoring each block of users once.

The softmax trainer judges every epoch by validation NDCG@10 and :func:`~recsys_core.training.fit_blend`
chooses the blend's ``β`` by it over a grid. Both used to call
:func:`recsys_core.metrics.ranking_metrics` once per epoch or per ``β``, which scores every
validation user against the catalogue and rebuilds the kNN term ``H @ S`` each time, along with
metrics nobody reads there (coverage and its bootstrap). :class:`ValidationRanker` prepares the
users, their held-out products and their training history once, and per block of users computes
the model's logits and ``H @ S`` once, then ranks every ``β`` from them.

The figures are those of ``ranking_metrics`` to the last bit: the same user blocks
(:func:`~recsys_core.topn.effective_chunk`), the blended logits built in the same float32 steps as
:meth:`~recsys_core.model.Blend.add_to`, the same masking and selection
(:func:`~recsys_core.topn.select_top`), the same per-user NDCG
(:func:`~recsys_core.metrics.per_user_ranking`) summed in one pass and divided by the users.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from recsys_core.metrics import per_user_ranking
from recsys_core.model import NCF, dense_similarity, knn_scores, side_by_side
from recsys_core.topn import ScoreBuffer, build_seen_matrix, effective_chunk, entries, select_top

#: Users per block, as ``ranking_metrics``' default ``chunk_size`` (capped by the catalogue size).
CHUNK_USERS = 1024
#: The kNN terms of every judged user are kept between the blend's rankings (its coarse and its
#: fine pass over β) up to this size: 40 MB on the demo data; at the seed's shape (20,000 x 48,769,
#: 3.9 GB) each pass builds its own.
KNN_CACHE_BYTES = 128 << 20


class ValidationRanker:
    """NDCG@``k`` of the validation pairs, ranked among the products each user did not rate in
    training (the training pairs are also the blend's history).

    Parameters
    ----------
    train_pairs, val_pairs
        ``(user codes, item codes)`` of the training and validation pairs.
    n_users, n_items
        The model's table sizes.
    k
        List length.
    max_users, seed
        Judge a seeded sample of at most ``max_users`` validation users (``None``: all), drawn
        as ``ranking_metrics`` and the baseline ladder draw theirs: at the full Amazon size
        ranking every validation user after every epoch would cost more than the epoch.
    """

    def __init__(
        self,
        train_pairs: tuple[np.ndarray, np.ndarray],
        val_pairs: tuple[np.ndarray, np.ndarray],
        n_users: int,
        n_items: int,
        k: int = 10,
        *,
        max_users: int | None = None,
        seed: int = 0,
    ):
        self.k, self.n_items = int(k), int(n_items)
        self.seen = build_seen_matrix(*train_pairs, n_users, n_items)
        val_users = np.asarray(val_pairs[0], dtype=np.int64)
        users = np.unique(val_users)
        if max_users is not None and len(users) > max_users:
            users = np.sort(np.random.default_rng(seed).choice(users, size=int(max_users), replace=False))
        self.users = users
        self.relevant = build_seen_matrix(val_users, val_pairs[1], n_users, n_items)[users]
        # Reused blocks of logits, one set per thread ranking (see per_user), and the blocks
        # of users, prepared once for every epoch.
        self._lanes = [_Buffers()]
        self._blocks: dict[tuple[int, int, torch.device], _Block] = {}
        # The kNN term of each block for the last similarity ranked (see _knn).
        self._similarity: sp.csr_matrix | None = None
        self._dense: np.ndarray | None = None
        self._knn_blocks: dict[int, np.ndarray] = {}

    def ndcg(
        self,
        model: NCF,
        similarity: sp.csr_matrix | None = None,
        weights: Sequence[float] = (0.0,),
        *,
        threads: int = 1,
    ) -> dict[float, float]:
        """Mean NDCG@``k`` of ``model`` blended with ``similarity`` at each ``β`` of ``weights``
        (``β = 0``: the plain model); NaN for each without validation users. ``threads``: as
        :meth:`per_user`."""
        if not len(self.users):
            return {float(beta): math.nan for beta in weights}
        per_user = self.per_user(model, similarity, weights, threads=threads)
        return {beta: float(values.sum()) / len(self.users) for beta, values in per_user.items()}

    def per_user(
        self,
        model: NCF,
        similarity: sp.csr_matrix | None = None,
        weights: Sequence[float] = (0.0,),
        *,
        threads: int = 1,
    ) -> dict[float, np.ndarray]:
        """Each judged user's NDCG@``k`` (in :attr:`users` order) at each ``β`` of ``weights``.

        ``threads`` > 1 ranks the blocks of users on that many threads (each with its own
        buffers; torch's operations and scipy's products release the GIL): the same figures.
        """
        per_user = {float(beta): np.zeros(len(self.users)) for beta in weights}
        if not len(self.users):
            return per_user
        model.eval()
        if similarity is not None and self._similarity is not similarity:
            self._similarity, self._knn_blocks = similarity, {}
            self._dense = dense_similarity(similarity)
        step = effective_chunk(CHUNK_USERS, self.n_items)
        starts = list(range(0, len(self.users), step))
        lanes = max(1, min(int(threads), len(starts)))
        while len(self._lanes) < lanes:
            self._lanes.append(_Buffers())

        blocks = [self._block(start, step, model.device) for start in starts]

        def rank(lane: int) -> None:
            for block in blocks[lane::lanes]:
                lists = self._top_lists(self._lanes[lane], model, block, similarity, per_user)
                for beta, items in lists:
                    ndcg = per_user_ranking(items, block.relevant, self.k)["ndcg_at_k"]
                    per_user[beta][block.start : block.start + len(block.rows)] = ndcg

        side_by_side(rank, range(lanes), lanes)
        return per_user

    def _block(self, start: int, step: int, device: torch.device) -> _Block:
        """The users from ``start`` (at most ``step``), their histories and held-out products:
        the same every epoch, so prepared once."""
        key = (start, step, device)
        block = self._blocks.get(key)
        if block is None:
            rows = self.users[start : start + step]
            history = self.seen[rows]
            mask_rows, mask_cols = (torch.from_numpy(a).to(device) for a in entries(history))
            codes = torch.as_tensor(rows, dtype=torch.long, device=device)
            relevant = self.relevant[start : start + len(rows)]
            block = _Block(start, rows, codes, history, mask_rows, mask_cols, relevant)
            self._blocks[key] = block
        return block

    @torch.no_grad()
    def _top_lists(
        self,
        buffers: _Buffers,
        model: NCF,
        block: _Block,
        similarity: sp.csr_matrix | None,
        weights: Iterable[float],
    ) -> Iterator[tuple[float, np.ndarray]]:
        """``(β, top-k item codes)`` of one block of users for each ``β``."""
        device, n = model.device, len(block.rows)
        base = model.score_all_items(block.codes, out=buffers.base.take(n, self.n_items, device)).float()
        # Excluded products first: -inf plus any β times a (finite) kNN score stays -inf.
        if len(block.mask_rows):
            base[block.mask_rows, block.mask_cols] = -math.inf
        weights = [float(beta) for beta in weights]
        knn = None
        if similarity is not None and similarity.nnz and any(beta != 0 for beta in weights):
            knn = torch.from_numpy(self._knn(block.history, similarity, block.start)).to(device)
        for beta in weights:
            logits = base
            if knn is not None and beta != 0:
                # Blend.term's float32 steps: the product, then times β, then added.
                scaled = torch.mul(
                    knn, np.float32(beta).item(), out=buffers.scaled.take(n, self.n_items, device)
                )
                logits = torch.add(base, scaled, out=buffers.work.take(n, self.n_items, device))
            yield beta, select_top(logits, self.k)[0].cpu().numpy()

    def _knn(self, history: sp.csr_matrix, similarity: sp.csr_matrix, start: int) -> np.ndarray:
        """The block's ``H @ S`` (:func:`~recsys_core.model.knn_scores`), kept for the next
        ranking of the same ``similarity`` when every block's fits in :data:`KNN_CACHE_BYTES`."""
        knn = self._knn_blocks.get(start)
        if knn is None:
            knn = knn_scores(history, similarity, self._dense)
            if len(self.users) * self.n_items * 4 <= KNN_CACHE_BYTES:
                self._knn_blocks[start] = knn
        return knn


@dataclass(frozen=True, eq=False)
class _Block:
    """One block of judged users (:attr:`ValidationRanker.users` from ``start``), prepared once:
    their codes, training history and its entries (the products excluded from their lists),
    and their held-out products."""

    start: int
    rows: np.ndarray
    codes: torch.Tensor
    history: sp.csr_matrix
    mask_rows: torch.Tensor
    mask_cols: torch.Tensor
    relevant: sp.csr_matrix


class _Buffers:
    """One thread's reused blocks of logits: the model's, β times the kNN term, and their sum."""

    def __init__(self) -> None:
        self.base, self.scaled, self.work = ScoreBuffer(), ScoreBuffer(), ScoreBuffer()
