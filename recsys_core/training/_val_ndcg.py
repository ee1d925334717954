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

import numpy as np
import scipy.sparse as sp
import torch

from recsys_core.metrics import per_user_ranking
from recsys_core.model import NCF
from recsys_core.topn import ScoreBuffer, build_seen_matrix, effective_chunk, entries, select_top

#: Users per block, as ``ranking_metrics``' default ``chunk_size`` (capped by the catalogue size).
CHUNK_USERS = 1024


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
        # Reused blocks of logits (the model's, and a copy to blend when several β are ranked).
        self._base, self._work = ScoreBuffer(), ScoreBuffer()

    def ndcg(
        self, model: NCF, similarity: sp.csr_matrix | None = None, weights: Sequence[float] = (0.0,)
    ) -> dict[float, float]:
        """Mean NDCG@``k`` of ``model`` blended with ``similarity`` at each ``β`` of ``weights``
        (``β = 0``: the plain model); NaN for each without validation users."""
        if not len(self.users):
            return {float(beta): math.nan for beta in weights}
        per_user = self.per_user(model, similarity, weights)
        return {beta: float(values.sum()) / len(self.users) for beta, values in per_user.items()}

    def per_user(
        self, model: NCF, similarity: sp.csr_matrix | None = None, weights: Sequence[float] = (0.0,)
    ) -> dict[float, np.ndarray]:
        """Each judged user's NDCG@``k`` (in :attr:`users` order) at each ``β`` of ``weights``."""
        per_user = {float(beta): np.zeros(len(self.users)) for beta in weights}
        if not len(self.users):
            return per_user
        model.eval()
        step = effective_chunk(CHUNK_USERS, self.n_items)
        for start in range(0, len(self.users), step):
            rows = self.users[start : start + step]
            history = self.seen[rows]
            relevant = self.relevant[start : start + len(rows)]
            for beta, items in self._top_lists(model, rows, history, similarity, per_user):
                ndcg = per_user_ranking(items, relevant, self.k)["ndcg_at_k"]
                per_user[beta][start : start + len(rows)] = ndcg
        return per_user

    @torch.no_grad()
    def _top_lists(
        self,
        model: NCF,
        rows: np.ndarray,
        history: sp.csr_matrix,
        similarity: sp.csr_matrix | None,
        weights: Iterable[float],
    ) -> Iterator[tuple[float, np.ndarray]]:
        """``(β, top-k item codes)`` of one block of users for each ``β``."""
        device = model.device
        codes = torch.as_tensor(rows, dtype=torch.long, device=device)
        base = model.score_all_items(codes, out=self._base.take(len(rows), self.n_items, device)).float()
        weights = [float(beta) for beta in weights]
        knn = None
        if similarity is not None and similarity.nnz and any(beta != 0 for beta in weights):
            knn = (sp.csr_matrix(history, dtype=np.float32) @ similarity).toarray()
        mask_rows, mask_cols = (torch.from_numpy(a).to(device) for a in entries(history))
        for index, beta in enumerate(weights):
            # The last β may use the model's logits themselves; the others work on a copy.
            last = index == len(weights) - 1
            logits = base if last else self._work.take(len(rows), self.n_items, device).copy_(base)
            if knn is not None and beta != 0:
                # Blend.term's float32 steps: the product, then times β, then added.
                logits += torch.from_numpy(knn * np.float32(beta)).to(device, logits.dtype)
            if len(mask_rows):
                logits[mask_rows, mask_cols] = -math.inf
            yield beta, select_top(logits, self.k)[0].cpu().numpy()
