"""How good is a trained model on the held-out test split?

Two views, each next to a baseline that needs no model:

* **Classification** of the test ratings: a score at or above the threshold predicts "the user
  likes it" (rating >= ``positive_rating``). Compared with the trivial classifier that says
  "likes it" for everyone, whose precision is the share of positive ratings.
* **Ranking** of every product a user has not rated yet: is the held-out product among the
  top ``k``? Compared with recommending the most-rated products to everyone.

The validation split is for choosing epochs and settings; these functions are for the test split.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_LIST_LENGTH
from recsys_core.metrics._auc import roc_auc
from recsys_core.metrics._beyond import beyond_accuracy
from recsys_core.metrics._per_user import (
    PER_USER_METRICS,
    per_user_class_hits,
    per_user_ranking,
)
from recsys_core.metrics._resample import bootstrap_weights, check_list_cells, sample_distinct
from recsys_core.model import NCF, Blend, Blended, one_torch_thread, ranking_threads, side_by_side, unwrap
from recsys_core.topn import (
    ScoreBuffer,
    build_seen_matrix,
    effective_chunk,
    popularity_order,
    top_popular_unseen,
    top_unseen,
)

if TYPE_CHECKING:
    from recsys_core.runs import Run

RANKING_KEYS = ("precision_at_k", "recall_at_k", "ndcg_at_k", "hit_rate_at_k", "coverage")

#: ``top_k(user_codes) -> (items, values)`` as :func:`~recsys_core.topn.top_unseen`.
TopK = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


# -- classification ---------------------------------------------------------------------------


def _as_1d(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise RecsysError(f"{name} holds a missing or infinite value at position {bad}; drop it first.")
    return array


def _ratio(numerator: float, denominator: float) -> float:
    # 0 when undefined, as scikit-learn's zero_division=0: a model that predicts no positive has
    # found none. The confusion counts tell this case apart from a genuinely bad model.
    return float(numerator / denominator) if denominator > 0 else 0.0


def precision_recall(actual: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """Precision and recall of the boolean ``predicted`` against the boolean ``actual``.

    The one convention for the test metrics and the validation reports: each is 0 where its
    denominator is (nothing predicted positive, no positives), as scikit-learn's
    ``zero_division=0``.
    """
    tp = int(np.count_nonzero(actual & predicted))
    return _ratio(tp, int(np.count_nonzero(predicted))), _ratio(tp, int(np.count_nonzero(actual)))


def classification_metrics(
    ratings: ArrayLike, scores: ArrayLike, *, threshold: float, positive_rating: float
) -> dict[str, Any]:
    """Precision, recall, F1 and ROC AUC of "score >= threshold" predicting "rating >= positive".

    Parameters
    ----------
    ratings
        True ratings of the test pairs.
    scores
        Model scores in [0, 1] for the same pairs.
    threshold
        A score at or above it predicts a positive.
    positive_rating
        A rating at or above it is a positive.

    Returns
    -------
    dict
        ``precision, recall, f1, roc_auc, trivial_precision, positive_share, threshold,
        positive_rating, confusion {tp, fp, fn, tn}, n``. ``trivial_precision`` is the precision
        of predicting "positive" for every pair, i.e. the share of positives: the number the
        model's precision has to beat. Precision, recall and F1 are 0 where their denominator is
        (nothing predicted positive, no positives), as scikit-learn's ``zero_division=0``;
        ``roc_auc`` is ``None`` (JSON null) when the ratings hold a single class.
    """
    y_rating = _as_1d(ratings, "ratings")
    y_score = _as_1d(scores, "scores")
    if len(y_rating) != len(y_score):
        raise RecsysError(f"Got {len(y_rating)} ratings but {len(y_score)} scores; they must pair up.")
    if len(y_rating) == 0:
        raise RecsysError("There are no test ratings to evaluate; the test split is empty.")
    actual = y_rating >= positive_rating
    predicted = y_score >= threshold
    tp = int(np.count_nonzero(actual & predicted))
    fp = int(np.count_nonzero(~actual & predicted))
    fn = int(np.count_nonzero(actual & ~predicted))
    tn = int(np.count_nonzero(~actual & ~predicted))
    n = len(y_rating)
    precision, recall = precision_recall(actual, predicted)
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    positives = tp + fn
    auc = roc_auc(actual, y_score) if 0 < positives < n else None
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": auc,
        "trivial_precision": positives / n,
        "positive_share": positives / n,
        "threshold": float(threshold),
        "positive_rating": float(positive_rating),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "n": n,
    }


def threshold_curve(
    ratings: ArrayLike, scores: ArrayLike, positive_rating: float, n_points: int = 101
) -> pd.DataFrame:
    """Precision and recall for thresholds evenly spaced over [0, 1], for a trade-off chart.

    Precision is NaN where no score reaches the threshold (nothing predicted positive); recall
    is NaN when the ratings hold no positive at all.

    Returns
    -------
    pandas.DataFrame
        Columns ``threshold, precision, recall``, one row per threshold.
    """
    if n_points < 2:
        raise RecsysError("threshold_curve needs n_points of 2 or more.")
    y_rating = _as_1d(ratings, "ratings")
    y_score = _as_1d(scores, "scores")
    if len(y_rating) != len(y_score):
        raise RecsysError(f"Got {len(y_rating)} ratings but {len(y_score)} scores; they must pair up.")
    thresholds = np.linspace(0.0, 1.0, n_points)
    order = np.argsort(y_score, kind="stable")
    sorted_scores = y_score[order]
    positive_prefix = np.concatenate(([0], np.cumsum(y_rating[order] >= positive_rating)))
    # Everything from the first score >= t onwards is predicted positive.
    start = np.searchsorted(sorted_scores, thresholds, side="left")
    predicted = len(y_score) - start
    total_positive = positive_prefix[-1]
    tp = total_positive - positive_prefix[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), np.nan)
        recall = np.full(n_points, np.nan) if total_positive == 0 else tp / total_positive
    return pd.DataFrame({"threshold": thresholds, "precision": precision, "recall": recall})


# -- ranking ----------------------------------------------------------------------------------


#: Bootstrap resamples of the test users for the standard error of catalogue coverage.
COVERAGE_BOOTSTRAP = 50


def topk_metrics(
    top_k: TopK,
    users: np.ndarray,
    relevant: sp.csr_matrix,
    n_items: int,
    k: int,
    chunk_size: int = 1024,
    *,
    popularity: np.ndarray | None = None,
    categories: np.ndarray | None = None,
    liked: sp.csr_matrix | None = None,
    threads: int = 1,
) -> dict[str, float | None]:
    """Top-``k`` metrics of any recommender: the one code path for the model and the baselines.

    Parameters
    ----------
    top_k
        ``top_k(user_codes) -> (items, values)`` as :func:`~recsys_core.topn.top_unseen`: best first, ``-1``
        where a user has no more candidates.
    users
        Distinct user codes to evaluate.
    relevant
        Boolean CSR, row ``j`` holds the test items of ``users[j]`` (at least one).
    popularity, categories
        Training ratings per item, and optionally each item's category: add the beyond-accuracy
        measures of :func:`recsys_core.metrics.beyond_accuracy` (novelty, head share, diversity).
    liked
        Optionally the held-out items rated at or above the "likes it" line (rows as
        ``relevant``): add :data:`~recsys_core.metrics.CLASS_HIT_METRICS`, the hit rate over the
        users with a liked held-out product and over those with a disliked one (``None`` when
        there are none), each with ``_se`` and ``_users``.
    threads
        Blocks of users ranked side by side (:func:`per_user_topk_metrics`).

    Returns
    -------
    dict
        The means of :data:`PER_USER_METRICS` and ``coverage``, each with its standard error
        ``<name>_se``: the standard deviation of the per-user values over the square root of the
        number of users (coverage, a catalogue-level figure, by a bootstrap over users).
    """
    per_user, lists = per_user_topk_metrics(top_k, users, relevant, n_items, k, chunk_size, threads=threads)
    n_users = max(len(users), 1)
    result: dict[str, float] = {}
    for key in PER_USER_METRICS:
        values = per_user[key]
        result[key] = float(values.sum()) / n_users
        result[f"{key}_se"] = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0
    result["coverage"], result["coverage_se"] = _coverage(lists, n_items)
    if liked is not None:
        for key, values in per_user_class_hits(lists, relevant, liked, k).items():
            result.update(_mean_over_defined(key, values))
    if popularity is not None:
        result.update(beyond_accuracy(lists, popularity, categories, k))
    return result


def _mean_over_defined(key: str, values: np.ndarray) -> dict[str, float | None]:
    """``key``, ``key_se`` and ``key_users``: the mean of the users whose value is defined (not
    NaN), its standard error and how many they are; ``None`` for the mean without any."""
    defined = values[~np.isnan(values)]
    n = len(defined)
    return {
        key: float(defined.mean()) if n else None,
        f"{key}_se": float(defined.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0,
        f"{key}_users": n,
    }


def per_user_topk_metrics(
    top_k: TopK,
    users: np.ndarray,
    relevant: sp.csr_matrix,
    n_items: int,
    k: int,
    chunk_size: int = 1024,
    *,
    threads: int = 1,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-user values of :data:`PER_USER_METRICS` and the top-``k`` lists (``-1`` padded).

    The building block of :func:`topk_metrics`, public for paired comparisons of two runs on
    the same users: the lists of one chunk of users at a time, scored by
    :func:`~recsys_core.metrics.per_user_ranking`. ``threads`` > 1 ranks the chunks on that
    many threads (``top_k`` must then be safe to call from several at once): the same figures.
    """
    k_eff = min(k, n_items)
    check_list_cells(len(users), k_eff)
    per_user = {key: np.zeros(len(users)) for key in PER_USER_METRICS}
    lists = np.full((len(users), k_eff), -1, dtype=np.int64)
    step = effective_chunk(chunk_size, n_items)

    def rank(start: int) -> None:
        rows = users[start : start + step]
        stop = start + len(rows)
        items = top_k(rows)[0][:, :k_eff]
        lists[start:stop, : items.shape[1]] = items
        for key, values in per_user_ranking(items, relevant[start:stop], k).items():
            per_user[key][start:stop] = values

    side_by_side(rank, range(0, len(users), step), threads)
    return per_user, lists


def _coverage(lists: np.ndarray, n_items: int) -> tuple[float, float]:
    """Share of the catalogue in anyone's list, and its bootstrap standard error over users.

    The bootstrap has a fixed seed: the same users and lists always give the same figures."""
    if not len(lists) or n_items < 1:
        return 0.0, 0.0
    coverage = len(np.unique(lists[lists >= 0])) / n_items
    samples = [
        np.count_nonzero(np.bincount(chosen[chosen >= 0], minlength=n_items)) / n_items
        for weights in bootstrap_weights(len(lists), COVERAGE_BOOTSTRAP, seed=0)
        for chosen in (lists[drawn > 0] for drawn in weights)  # the users drawn at least once
    ]
    return float(coverage), float(np.std(samples, ddof=1))


def ranking_metrics(  # noqa: PLR0913 (the test pairs, their ratings and the sample: one call)
    model: NCF | Blended,
    test_users: ArrayLike,
    test_items: ArrayLike,
    seen: sp.csr_matrix,
    *,
    k: int = 10,
    popularity: np.ndarray | None = None,
    chunk_size: int = 1024,
    max_users: int | None = None,
    seed: int = 0,
    categories: np.ndarray | None = None,
    liked: ArrayLike | None = None,
) -> dict[str, Any]:
    """Top-``k`` ranking quality of ``model`` and of the most-popular baseline on the test pairs.

    For each test user, the candidates are all items the user has not rated in train or
    validation (the ``seen`` matrix); the test items are the relevant ones. Metrics are computed
    per user (:func:`~recsys_core.metrics.per_user_ranking`: precision, recall, NDCG and hit
    rate at ``k``) and averaged over test users; ``coverage`` is the share of the catalogue in
    any test user's top ``k``; with ``liked``, the hit rate on liked and on disliked held-out
    products. Each has its standard error ``<name>_se``; then the beyond-accuracy measures.

    Parameters
    ----------
    model
        A trained :class:`~recsys_core.model.NCF` (any device), or a :class:`~recsys_core.model.Blended`
        one (its item-kNN term joins the logits, ``seen`` as the history).
    test_users, test_items
        Integer codes of the test pairs (a user may have several).
    seen
        Boolean CSR of train + validation pairs (:func:`recsys_core.topn.build_seen_matrix`).
    k
        List length.
    popularity
        Training ratings per item (see :func:`~recsys_core.data.item_popularity`); enables the baseline
        and the beyond-accuracy measures (with ``categories``, item code -> category, diversity too).
    max_users, seed
        Evaluate a seeded random sample of at most ``max_users`` test users (``None``: all): tens
        of thousands pin the averages to well under a point (see the ``_se`` keys) and keep the
        full Amazon size (millions of test users) in seconds rather than hours.
    liked
        Optionally one mark per test pair: rated at or above the "likes it" line
        (:func:`topk_metrics`'s ``liked``).

    Returns
    -------
    dict
        ``{"model": {...}, "popularity": {...} or None, "k": k, "users": evaluated_users,
        "test_users": all_test_users}``.
    """
    k = check_count(k, "k (the list length for ranking metrics)", most=MAX_LIST_LENGTH)
    model, blend = unwrap(model)
    distinct_users, relevant, n_test_users = _test_users(model, test_users, test_items, seen, max_users, seed)
    n_items = seen.shape[1]
    seen = sp.csr_matrix(seen, dtype=bool)

    order = None if popularity is None else _popularity_order_checked(popularity, n_items)
    liked_rows = _liked(test_users, test_items, liked, seen.shape, distinct_users)
    beyond = {"popularity": popularity, "categories": categories, "liked": liked_rows}

    result: dict[str, Any] = {
        "model": _model_topk(model, blend, seen, k, distinct_users, relevant, chunk_size, beyond),
        "popularity": None,
        "k": k,
        "users": len(distinct_users),
        "test_users": n_test_users,
    }
    if order is not None:

        def popular_top(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return top_popular_unseen(order, rows, seen, k)

        result["popularity"] = topk_metrics(
            popular_top, distinct_users, relevant, n_items, k, chunk_size, **beyond
        )
    return result


def _model_topk(
    model: NCF,
    blend: Blend | None,
    seen: sp.csr_matrix,
    k: int,
    users: np.ndarray,
    relevant: sp.csr_matrix,
    chunk_size: int,
    beyond: dict[str, Any],
) -> dict[str, float | None]:
    """:func:`topk_metrics` of the model's (and blend's) lists: blocks of ``users`` on every core
    (:func:`~recsys_core.model.ranking_threads`), each thread scoring into its own buffer on one
    torch thread (blocks of small operations: see its module)."""
    buffers = threading.local()

    def model_top(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(buffers, "scores"):
            buffers.scores = ScoreBuffer()
        return top_unseen(model, rows, seen, k, blend, buffers.scores)

    n_items, threads = seen.shape[1], ranking_threads(model.device)
    with one_torch_thread(model.device):
        return topk_metrics(model_top, users, relevant, n_items, k, chunk_size, threads=threads, **beyond)


def _test_users(
    model: NCF,
    test_users: ArrayLike,
    test_items: ArrayLike,
    seen: sp.csr_matrix,
    max_users: int | None,
    seed: int,
) -> tuple[np.ndarray, sp.csr_matrix, int]:
    """The (sampled) distinct test users, their relevant items (CSR rows) and the number of all
    distinct test users, after checking that the pairs, ``seen`` and the model fit together."""
    users = np.asarray(test_users, dtype=np.int64).reshape(-1)
    items = np.asarray(test_items, dtype=np.int64).reshape(-1)
    n_users, n_items = seen.shape
    if (model.n_users, model.n_items) != (n_users, n_items):
        raise RecsysError(
            f"The seen matrix is {n_users} x {n_items} but the model knows {model.n_users} users and "
            f"{model.n_items} items; both must come from the same run."
        )
    if len(users) == 0:
        raise RecsysError("There are no test pairs to rank; the test split is empty.")
    relevant_all = build_seen_matrix(users, items, n_users, n_items)
    distinct_users = np.unique(users)
    sample = sample_distinct(distinct_users, max_users, seed)
    return sample, relevant_all[sample], len(distinct_users)


def _liked(
    users: ArrayLike, items: ArrayLike, liked: ArrayLike | None, shape: tuple[int, int], rows: np.ndarray
) -> sp.csr_matrix | None:
    """The held-out pairs marked ``liked``, rows of ``rows`` (``None`` without the marks)."""
    if liked is None:
        return None
    users = np.asarray(users, dtype=np.int64).reshape(-1)
    mask = np.asarray(liked, dtype=bool).reshape(-1)
    if len(mask) != len(users):
        raise RecsysError(f"Got {len(mask)} 'liked' marks for {len(users)} test pairs; they must pair up.")
    items = np.asarray(items, dtype=np.int64).reshape(-1)
    return build_seen_matrix(users[mask], items[mask], *shape)[rows]


def _popularity_order_checked(popularity: ArrayLike, n_items: int) -> np.ndarray:
    popularity = np.asarray(popularity)
    if popularity.shape != (n_items,):
        raise RecsysError(
            f"The popularity vector has shape {popularity.shape}; it needs one count per item ({n_items})."
        )
    return popularity_order(popularity)


#: Ranking metrics are averaged over at most this many test users (seeded sample).
RANKING_MAX_USERS = 20_000


def evaluate_run(
    run: Run, k: int = 10, *, chunk_size: int = 1024, max_users: int | None = RANKING_MAX_USERS
) -> dict[str, Any]:
    """Test-split metrics of a saved or freshly trained run, without retraining.

    Returns the ``recsys evaluate --json`` object: the classification metrics of
    :func:`classification_metrics` (at the run's threshold and positive rating) plus
    ``ranking`` from :func:`ranking_metrics` with the most-popular baseline.
    """
    scores = run.test_scores()
    metrics = classification_metrics(
        run.test_ratings,
        scores,
        threshold=run.config.threshold,
        positive_rating=run.config.positive_rating,
    )
    metrics["ranking"] = ranking_metrics(
        Blended(run.model, run.blend),
        run.test_users,
        run.test_items,
        run.seen_matrix(),
        k=k,
        popularity=run.popularity,
        chunk_size=chunk_size,
        max_users=max_users,
        seed=run.config.seed,
        categories=run.item_categories(),
        liked=np.asarray(run.test_ratings) >= run.config.positive_rating,
    )
    return metrics
