"""Fitting a run's item-kNN blend: the similarity from the training pairs, ``β`` on validation.

After training, :func:`fit_blend` builds ``S`` (:func:`recsys_core.baselines.item_similarity`)
from the training pairs and ranks the validation products exactly as the trainer's epoch choice
does (:class:`~recsys_core.training._val_ndcg.ValidationRanker`: NDCG@10 among the products
unrated in training, whose training pairs are also the kNN history; the figures of
:func:`recsys_core.metrics.ranking_metrics`) for every ``β`` of
:data:`~recsys_core.model.BLEND_GRID` it tries (every other one, then the best's neighbours),
scoring each block of users and building its kNN term once per pass; the best wins, a tie going
to the smaller ``β``. ``β = 0`` is the plain
model, so the blend is never worse on validation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recsys_core.baselines import item_similarity
from recsys_core.metrics import RANKING_MAX_USERS
from recsys_core.model import BLEND_GRID, NCF, Blend, one_torch_thread, ranking_threads
from recsys_core.training._softmax_sizes import judged_users
from recsys_core.training._val_ndcg import ValidationRanker


@dataclass
class BlendChoice:
    """What :func:`fit_blend` found.

    Attributes
    ----------
    blend
        The blend to rank with; ``None`` when ``β = 0`` won (or nothing could be measured).
    summary
        JSON-ready record for the run's split summary: ``neighbours, shrink, weight,
        validation_ndcg`` (``{"β": NDCG@10}``) and ``seconds``.
    """

    blend: Blend | None
    summary: dict[str, object] = field(default_factory=dict)


def choose_weight(scores: dict[float, float]) -> float:
    """The ``β`` with the highest validation score; ties (and NaN) go to the smaller ``β``."""
    best, best_score = 0.0, -math.inf
    for beta in sorted(scores):
        score = scores[beta]
        if math.isfinite(score) and score > best_score:
            best, best_score = beta, score
    return best


def _search(
    ranker: ValidationRanker, model: NCF, similarity: sp.csr_matrix, grid: list[float]
) -> dict[float, float]:
    """Validation NDCG@k of every other ``β`` of ``grid`` (the plain model's ``β = 0`` always),
    then of the untried neighbours of the best: validation NDCG rises to one peak along the
    grid and falls (on every run we looked at: the demo data, the dense Amazon sample), so this
    finds the grid's best with 8 rankings instead of 13."""
    coarse = sorted({grid[0], *grid[::2]})
    threads = ranking_threads(model.device)  # the run waits for this search: every core
    scores = ranker.ndcg(model, similarity, coarse, threads=threads)
    best = grid.index(choose_weight(scores))
    around = [grid[i] for i in (best - 1, best + 1) if 0 <= i < len(grid) and grid[i] not in scores]
    if around:
        scores.update(ranker.ndcg(model, similarity, around, threads=threads))
    return dict(sorted(scores.items()))


def fit_blend(
    model: NCF,
    train_pairs: tuple[np.ndarray, np.ndarray],
    val_pairs: tuple[np.ndarray, np.ndarray],
    *,
    neighbours: int,
    shrink: float,
    grid: tuple[float, ...] = BLEND_GRID,
    k: int = 10,
    max_users: int | None = RANKING_MAX_USERS,
    seed: int = 0,
    similarity: sp.csr_matrix | None = None,
) -> BlendChoice:
    """Build the item similarity of the training pairs and choose ``β`` on the validation pairs.

    Parameters
    ----------
    model
        The trained model (best epoch restored).
    train_pairs, val_pairs
        ``(user codes, item codes)`` of the training (before oversampling; repeats count once)
        and validation pairs.
    neighbours, shrink
        Of :func:`~recsys_core.baselines.item_similarity`.
    grid
        ``β`` values tried.
    k, max_users, seed
        List length, and the seeded sample of validation users ranked (as the trainer's: at
        most ``max_users``, fewer on a large catalogue, see
        :func:`~recsys_core.training._softmax_sizes.judged_users`).
    similarity
        The item similarity of ``train_pairs`` when already built (the pipeline builds it while
        the model trains); ``None`` builds it here.
    """
    started = time.perf_counter()
    if max_users is not None:
        max_users = judged_users(model.n_items, max_users)
    ranker = ValidationRanker(
        train_pairs, val_pairs, model.n_users, model.n_items, k, max_users=max_users, seed=seed
    )
    if similarity is None:
        similarity = item_similarity(ranker.seen, neighbours, shrink)
    scores: dict[float, float] = {}
    if len(ranker.users):
        with one_torch_thread(model.device):  # small blocks: see recsys_core.model._threads
            scores = _search(ranker, model, similarity, sorted(float(beta) for beta in grid))
    weight = choose_weight(scores)
    summary: dict[str, object] = {
        "neighbours": int(neighbours),
        "shrink": float(shrink),
        "weight": weight,
        "validation_ndcg": {f"{beta:g}": score for beta, score in scores.items()},
        "similarity_nnz": int(similarity.nnz),
        "seconds": time.perf_counter() - started,
    }
    return BlendChoice(Blend(similarity, weight) if weight > 0 else None, summary)
