"""Run-to-run diff: how two runs on the same split differ, with paired bootstrap intervals.

Both runs rank the same test users (a seeded sample of at most ``max_users``) against the same
candidates (everything the user has not rated in train or validation). Each metric's change is
the difference of means over those users; its 95 % interval comes from a paired bootstrap: the
same resampled users (rows of an ``n_boot x n_users`` index matrix, drawn in chunks) for both
runs, so the noise of who happens to be in the test split cancels. The classification metrics
are resampled over test rows the same way. Beyond the numbers: how much the top-k lists overlap,
which products gained and lost exposure, and the change per user segment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_BOOTSTRAP, MAX_LIST_LENGTH, MAX_RESAMPLE_SEED
from recsys_core.metrics._claims import change_verdict
from recsys_core.metrics._evaluation import RANKING_MAX_USERS
from recsys_core.metrics._per_user import CLASS_HIT_METRICS, per_user_class_hits, per_user_ranking
from recsys_core.metrics._resample import bootstrap_weights, check_list_cells, sample_distinct
from recsys_core.topn import build_seen_matrix, effective_chunk, top_unseen

if TYPE_CHECKING:
    from recsys_core.runs import Run

USER_METRICS = ("ndcg_at_k", "hit_rate_at_k", "precision_at_k", "recall_at_k")
ROW_METRICS = ("precision", "recall", "roc_auc")
OVERLAP_QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
EXPOSURE_ROWS = 10

#: A statistic of one run under bootstrap weights: ``(c, n) weights -> (c,) values``.
Statistic = Callable[[np.ndarray], np.ndarray]


# -- per-user values --------------------------------------------------------------------------


def check_same_split(run_a: Run, run_b: Run) -> None:
    """Raise :class:`RecsysError` unless both runs share ids, seen pairs and test pairs."""
    same = (
        run_a.id_map.users.equals(run_b.id_map.users)
        and run_a.id_map.items.equals(run_b.id_map.items)
        and all(
            np.array_equal(getattr(run_a, name), getattr(run_b, name))
            for name in ("test_users", "test_items", "test_ratings", "seen_users", "seen_items")
        )
    )
    if not same:
        raise RecsysError(
            f"The runs {run_a.name!r} and {run_b.name!r} were tested on different splits (different "
            "customers, products or held-out ratings), so their results cannot be compared pair by "
            "pair. Train both on the same file with the same split method and seed."
        )


def sample_users(run: Run, max_users: int | None, seed: int) -> np.ndarray:
    """Distinct test user codes, a seeded sample of at most ``max_users`` (sorted)."""
    return sample_distinct(run.test_users, max_users, seed)


def top_lists(run: Run, users: np.ndarray, k: int, chunk_size: int = 1024) -> np.ndarray:
    """``(len(users), k)`` top-``k`` unseen item codes per user, best first, ``-1`` padded."""
    seen = run.seen_matrix()
    step = effective_chunk(chunk_size, run.n_items)
    blocks = [
        top_unseen(run.model, users[i : i + step], seen, k, run.blend)[0] for i in range(0, len(users), step)
    ]
    width = min(k, run.n_items)
    return np.concatenate(blocks) if blocks else np.empty((0, width), dtype=np.int64)


# -- bootstrap --------------------------------------------------------------------------------


def _mean(values: np.ndarray) -> Statistic:
    return lambda weights: weights @ values / max(len(values), 1)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> Statistic:
    def stat(weights: np.ndarray) -> np.ndarray:
        below = weights @ denominator
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(below > 0, (weights @ numerator) / below, 0.0)

    return stat


def weighted_auc(scores: np.ndarray, positive: np.ndarray) -> Statistic:
    """Weighted ROC AUC (ties count half), for all bootstrap rows at once; NaN with one class."""
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    is_pos = positive[order].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(ordered) else np.array([0])

    def stat(weights: np.ndarray) -> np.ndarray:
        w = weights[:, order]
        pos = np.add.reduceat(w * is_pos, starts, axis=1)
        neg = np.add.reduceat(w * (1.0 - is_pos), starts, axis=1)
        below = np.cumsum(neg, axis=1) - neg
        pairs = pos.sum(axis=1) * neg.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(pairs > 0, (pos * (below + 0.5 * neg)).sum(axis=1) / pairs, np.nan)

    return stat


def paired_bootstrap(
    stats: dict[str, tuple[Statistic, Statistic]], n: int, n_boot: int, seed: int
) -> dict[str, dict[str, Any]]:
    """``{"a", "b", "delta", "ci95", "verdict"}`` per statistic pair, all resampled with the same
    weights.

    The point values use unit weights; ``ci95`` is the 2.5 / 97.5 percentile of the replicates'
    ``b - a`` (``None`` when a value is undefined, e.g. AUC with one class); ``verdict`` is
    :func:`~recsys_core.metrics.change_verdict` of it (``"higher"``, ``"lower"`` or ``"same"``),
    the one rule every sentence and colour of a diff follows.
    """
    ones = np.ones((1, n))
    deltas: dict[str, list[np.ndarray]] = {name: [] for name in stats}
    if n_boot > 0 and n > 0:
        for weights in bootstrap_weights(n, n_boot, seed):
            for name, (stat_a, stat_b) in stats.items():
                deltas[name].append(stat_b(weights) - stat_a(weights))
    result = {}
    for name, (stat_a, stat_b) in stats.items():
        a, b = (float(stat(ones)[0]) if n else float("nan") for stat in (stat_a, stat_b))
        reps = np.concatenate(deltas[name]) if deltas[name] else np.array([np.nan])
        defined = a == a and b == b and bool(np.isfinite(reps).any())
        ci = [float(np.nanpercentile(reps, 2.5)), float(np.nanpercentile(reps, 97.5))] if defined else None
        result[name] = {
            "a": a if a == a else None,
            "b": b if b == b else None,
            "delta": b - a if a == a and b == b else None,
            "ci95": ci,
            "verdict": change_verdict(ci),
        }
    return result


def _user_stats(
    values_a: dict[str, np.ndarray], values_b: dict[str, np.ndarray], mask: np.ndarray
) -> dict[str, tuple[Statistic, Statistic]]:
    return {name: (_mean(values_a[name][mask]), _mean(values_b[name][mask])) for name in USER_METRICS}


def _class_hit_stats(
    run: Run, users: np.ndarray, relevant: sp.csr_matrix, lists: tuple[np.ndarray, np.ndarray], k: int
) -> dict[str, tuple[Statistic, Statistic]]:
    """Hit rate of both ``lists`` over the users with a liked (a disliked) held-out product: a
    ratio of sums, so a resample weighs only those users."""
    liked = run.test_ratings >= run.config.positive_rating
    liked_rows = build_seen_matrix(run.test_users[liked], run.test_items[liked], run.n_users, run.n_items)
    hits_a, hits_b = (per_user_class_hits(items, relevant, liked_rows[users], k) for items in lists)
    stats = {}
    for name in CLASS_HIT_METRICS:
        has = (~np.isnan(hits_a[name])).astype(np.float64)
        if has.any():
            stats[name] = (
                _ratio(np.nan_to_num(hits_a[name]), has),
                _ratio(np.nan_to_num(hits_b[name]), has),
            )
    return stats


def _row_stats(run_a: Run, run_b: Run) -> dict[str, tuple[Statistic, Statistic]]:
    pairs: dict[str, list[Statistic]] = {name: [] for name in ROW_METRICS}
    for run in (run_a, run_b):
        scores = run.test_scores()
        actual = (run.test_ratings >= run.config.positive_rating).astype(np.float64)
        predicted = (scores >= run.config.threshold).astype(np.float64)
        pairs["precision"].append(_ratio(actual * predicted, predicted))
        pairs["recall"].append(_ratio(actual * predicted, actual))
        pairs["roc_auc"].append(weighted_auc(scores, actual > 0))
    return {name: (a, b) for name, (a, b) in pairs.items()}


# -- lists, exposure, segments ----------------------------------------------------------------


def jaccard(items_a: np.ndarray, items_b: np.ndarray) -> np.ndarray:
    """Per-row Jaccard similarity of two ``-1``-padded top-k arrays (1 for two empty lists)."""
    valid_a, valid_b = items_a >= 0, items_b >= 0
    # Products in both lists, by sorting each row of the two lists side by side: users x 2k
    # cells, not the users x k x k booleans of comparing every pair. A list never repeats a
    # product, so an equal adjacent pair is one product in common.
    both = np.sort(np.concatenate([np.where(valid_a, items_a, -1), np.where(valid_b, items_b, -1)], axis=1))
    common = ((both[:, 1:] == both[:, :-1]) & (both[:, 1:] >= 0)).sum(axis=1)
    union = valid_a.sum(axis=1) + valid_b.sum(axis=1) - common
    return np.where(union > 0, common / np.maximum(union, 1), 1.0)


def overlap_summary(similarity: np.ndarray) -> dict[str, Any]:
    """Mean Jaccard, share of identical / changed lists, quantiles and a 10-bin histogram."""
    counts, edges = np.histogram(similarity, bins=10, range=(0.0, 1.0))
    return {
        "mean_jaccard": float(similarity.mean()) if len(similarity) else None,
        "share_identical": float((similarity == 1.0).mean()) if len(similarity) else None,
        "share_changed": float((similarity < 1.0).mean()) if len(similarity) else None,
        "quantiles": {f"{q:g}": float(np.quantile(similarity, q)) for q in OVERLAP_QUANTILES}
        if len(similarity)
        else {},
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }


def exposure_change(
    run: Run, items_a: np.ndarray, items_b: np.ndarray, n: int = EXPOSURE_ROWS
) -> dict[str, list[dict[str, Any]]]:
    """The ``n`` products that gained and lost most exposure (times shown across all lists).

    Rows: ``item, a, b, delta`` (times in the lists of run A and B) and ``name`` with products.
    """
    shown_a = np.bincount(items_a[items_a >= 0], minlength=run.n_items)
    shown_b = np.bincount(items_b[items_b >= 0], minlength=run.n_items)
    delta = shown_b - shown_a
    codes = np.arange(run.n_items)
    names = (run.product_columns() or {}).get("name")

    def rows(order: np.ndarray, keep: np.ndarray) -> list[dict[str, Any]]:
        out = []
        for code in order[keep[order]][:n]:
            row = {"item": str(run.id_map.items[code]), "a": int(shown_a[code]), "b": int(shown_b[code])}
            row["delta"] = int(delta[code])
            if names is not None:
                row["name"] = str(names[code])
            out.append(row)
        return out

    return {
        "gained": rows(np.lexsort((codes, -delta)), delta > 0),
        "lost": rows(np.lexsort((codes, delta)), delta < 0),
    }


def user_segments(run: Run, users: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """``(kind, label, mask over users)``: few / many ratings before the test (split at the
    median), and the star class of the user's highest held-out rating."""
    history = np.bincount(run.seen_users, minlength=run.n_users)[users]
    median = float(np.median(history)) if len(history) else 0.0
    segments = [
        ("history", f"few ratings (≤ {median:g})", history <= median),
        ("history", f"many ratings (> {median:g})", history > median),
    ]
    best = np.full(run.n_users, -np.inf)
    np.maximum.at(best, run.test_users, run.test_ratings)
    held_out = best[users]
    for rating in np.unique(held_out):
        segments.append(("held_out_rating", f"{rating:g}★ held out", held_out == rating))
    return [s for s in segments if s[2].any()]


# -- the diff ---------------------------------------------------------------------------------


def _describe(run: Run) -> dict[str, Any]:
    return {"name": run.name, "created_at": run.created_at, "config": run.config.to_dict()}


def compare_runs(
    run_a: Run,
    run_b: Run,
    *,
    k: int = 10,
    n_boot: int = 1000,
    seed: int = 0,
    max_users: int | None = RANKING_MAX_USERS,
) -> dict[str, Any]:
    """How run B differs from run A on their common test split (the ``recsys compare --json`` object).

    Parameters
    ----------
    run_a, run_b
        Two runs trained on the same split (same ids, seen pairs and test pairs).
    k
        List length of the ranking metrics and the overlap.
    n_boot, seed
        Bootstrap replicates and the seed of the resampling (and of the user sample).
    max_users
        Rank a seeded sample of at most this many test users (``None``: all).

    Returns
    -------
    dict
        ``a, b`` (name, creation time, config), ``k, users, test_users, n_boot, seed``,
        ``metrics`` (``{name: {"a", "b", "delta", "ci95": [lo, hi], "verdict"}}`` for the
        ranking metrics over users, the hit rate on liked and on disliked held-out products, and
        ``precision, recall, roc_auc`` over test rows), ``overlap``
        (:func:`overlap_summary`), ``exposure`` (:func:`exposure_change`) and ``segments``
        (``[{kind, segment, users, metrics: {hit_rate_at_k, ndcg_at_k}}]``).

    Raises
    ------
    RecsysError
        The runs were tested on different splits, ``k`` is not a positive whole number, or the
        test split is empty.
    """
    k = check_count(k, "k", most=MAX_LIST_LENGTH)
    n_boot = check_count(n_boot, "n_boot (bootstrap replicates)", least=0, most=MAX_BOOTSTRAP)
    seed = check_count(seed, "seed (of the resampling)", least=0, most=MAX_RESAMPLE_SEED)
    check_same_split(run_a, run_b)
    if len(run_a.test_users) == 0:
        raise RecsysError("There are no test pairs to compare; the test split is empty.")
    users = sample_users(run_a, max_users, seed)
    check_list_cells(len(users), min(k, run_a.n_items))
    relevant = build_seen_matrix(run_a.test_users, run_a.test_items, run_a.n_users, run_a.n_items)[users]
    items_a, items_b = (top_lists(run, users, k) for run in (run_a, run_b))
    values_a, values_b = (per_user_ranking(items, relevant, k) for items in (items_a, items_b))
    everyone = np.ones(len(users), dtype=bool)
    metrics = paired_bootstrap(_user_stats(values_a, values_b, everyone), len(users), n_boot, seed)
    stats = _class_hit_stats(run_a, users, relevant, (items_a, items_b), k)
    metrics.update(paired_bootstrap(stats, len(users), n_boot, seed))
    metrics.update(paired_bootstrap(_row_stats(run_a, run_b), len(run_a.test_users), n_boot, seed + 1))
    segments = []
    for kind, label, mask in user_segments(run_a, users):
        stats = _user_stats(values_a, values_b, mask)
        stats = {name: stats[name] for name in ("hit_rate_at_k", "ndcg_at_k")}
        segments.append(
            {
                "kind": kind,
                "segment": label,
                "users": int(mask.sum()),
                "metrics": paired_bootstrap(stats, int(mask.sum()), n_boot, seed + 2),
            }
        )
    return {
        "a": _describe(run_a),
        "b": _describe(run_b),
        "k": k,
        "users": len(users),
        "test_users": len(np.unique(run_a.test_users)),
        "n_boot": int(n_boot),
        "seed": int(seed),
        "metrics": metrics,
        "overlap": overlap_summary(jaccard(items_a, items_b)),
        "exposure": exposure_change(run_a, items_a, items_b),
        "segments": segments,
    }
