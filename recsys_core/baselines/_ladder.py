"""The baseline ladder of a run: classic recommenders the model has to beat, measured its way.

Most popular, item-kNN, EASE and iALS (:mod:`recsys_core.baselines`) are each fitted on the
run's training split (every observed rating is an interaction; no oversampling), their few
hyper-parameters tuned on the run's validation pairs (NDCG@k among the products unseen in
training, exactly as the model's epoch is chosen), and scored on the test pairs with
:func:`recsys_core.metrics.topk_metrics`: the same users, the same excluded products, the same
metric code as the model.

Fitting takes seconds on the demo data, so ``recsys train`` does not do it: the first
``recsys evaluate`` (or the app's results) fits the ladder and caches it beside the run in
:data:`LADDER_FILE`, keyed by the run's manifest, ``k`` and the user sample. The figures depend
on the split only (:class:`LadderSplit`, :func:`split_fingerprint`), so a runs folder also keeps
one shared copy per split (:func:`shared_ladder`): a second run of the same data, split method
and seed reuses it, and the app fits it while the model trains.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recsys_core.baselines._cost import LADDER_TIME_BUDGET, estimate_seconds, minutes
from recsys_core.baselines._ease import EASE
from recsys_core.baselines._ials import IALS
from recsys_core.baselines._itemknn import ItemKNN
from recsys_core.baselines._ladder_cache import (
    fingerprint_lock,
    read_cache,
    read_shared,
    write_cache,
    write_shared,
)
from recsys_core.baselines._popular import MostPopular
from recsys_core.baselines._scorer import Scorer
from recsys_core.baselines._split import LadderSplit, split_fingerprint
from recsys_core.baselines._topk import top_k_scored
from recsys_core.baselines._tune import IALS_GRID, ITEM_KNN_GRID, Params, ease_grid, tune
from recsys_core.errors import RecsysError, plain
from recsys_core.files import file_sha256
from recsys_core.metrics import RANKING_MAX_USERS, sample_distinct, topk_metrics
from recsys_core.topn import build_seen_matrix

if TYPE_CHECKING:
    from recsys_core.runs import Run

#: The cached ladder, next to the run's files (not in its manifest: it can always be refitted).
LADDER_FILE = "baselines.json"
#: Bumped when the ladder's recipe changes, so older caches are refitted.
LADDER_VERSION = 2


@dataclass(frozen=True)
class Rung:
    """One baseline: how to build it and which parameter grid to tune on validation."""

    label: str
    make: Callable[[Params], Scorer]
    grid: Callable[[sp.csr_matrix], list[Params]]


#: Name (as in ``evaluate --json``) -> rung, from the simplest to the strongest.
RUNGS: dict[str, Rung] = {
    "most_popular": Rung("most popular", lambda p: MostPopular(), lambda train: [{}]),
    "item_knn": Rung("item-kNN", lambda p: ItemKNN(**p), lambda train: list(ITEM_KNN_GRID)),
    "ease": Rung("EASE", lambda p: EASE(**p), ease_grid),
    "ials": Rung("iALS", lambda p: IALS(**p), lambda train: list(IALS_GRID)),
}


@dataclass(frozen=True)
class Holdout:
    """Users to rank, their relevant products (CSR rows) and what is excluded from their lists."""

    users: np.ndarray
    relevant: sp.csr_matrix
    excluded: sp.csr_matrix


def run_holdouts(run: Run, max_users: int | None, seed: int) -> tuple[sp.csr_matrix, Holdout, Holdout]:
    """The run's training matrix and its validation and test holdouts (seeded user samples)."""
    return split_holdouts(LadderSplit.of_run(run), max_users, seed)


def split_holdouts(
    split: LadderSplit, max_users: int | None, seed: int
) -> tuple[sp.csr_matrix, Holdout, Holdout]:
    """The split's training matrix and its validation and test holdouts (seeded user samples).

    Validation excludes the training pairs only; test excludes training and validation pairs,
    as for the model.
    """
    shape = split.shape
    train = build_seen_matrix(split.train_users, split.train_items, *shape)
    seen = build_seen_matrix(
        np.concatenate([split.train_users, split.val_users]),
        np.concatenate([split.train_items, split.val_items]),
        *shape,
    )
    return (
        train,
        _holdout(split.val_users, split.val_items, train, shape, max_users, seed),
        _holdout(split.test_users, split.test_items, seen, shape, max_users, seed),
    )


def _holdout(
    users: np.ndarray,
    items: np.ndarray,
    excluded: sp.csr_matrix,
    shape: tuple[int, int],
    max_users: int | None,
    seed: int,
) -> Holdout:
    distinct = sample_distinct(users, max_users, seed)
    relevant = build_seen_matrix(users, items, *shape)[distinct]
    return Holdout(distinct, relevant, excluded)


def score_holdout(
    scorer: Scorer,
    holdout: Holdout,
    k: int,
    *,
    popularity: np.ndarray | None = None,
    categories: np.ndarray | None = None,
) -> dict[str, float | None]:
    """:func:`topk_metrics` of a fitted scorer on a holdout (beyond accuracy with ``popularity``)."""

    def top(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return top_k_scored(scorer, rows, holdout.excluded, k)

    n_items = holdout.excluded.shape[1]
    return topk_metrics(
        top, holdout.users, holdout.relevant, n_items, k, popularity=popularity, categories=categories
    )


def fit_ladder(
    run: Run,
    *,
    k: int = 10,
    max_users: int | None = RANKING_MAX_USERS,
    names: tuple[str, ...] = tuple(RUNGS),
    on_rung: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Fit, tune and score every baseline of :data:`RUNGS` on ``run``'s split
    (:func:`fit_split_ladder` of :meth:`LadderSplit.of_run`)."""
    return fit_split_ladder(LadderSplit.of_run(run), k=k, max_users=max_users, names=names, on_rung=on_rung)


def fit_split_ladder(
    split: LadderSplit,
    *,
    k: int = 10,
    max_users: int | None = RANKING_MAX_USERS,
    names: tuple[str, ...] = tuple(RUNGS),
    on_rung: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    time_budget: float | None = LADDER_TIME_BUDGET,
) -> dict[str, dict[str, Any]]:
    """Fit, tune and score every baseline of :data:`RUNGS` on ``split``.

    ``should_stop`` is asked before each fit of each grid point: when it says yes, the fit ends
    with :class:`LadderStopped` (a background fit when the process exits). ``on_rung(label)``
    hears each baseline as it starts.

    ``time_budget`` (seconds, ``None``: no limit) bounds the whole ladder: a baseline whose
    estimated time (:func:`~recsys_core.baselines._cost.estimate_seconds`: EASE's ``n³`` solve,
    scoring every user over the catalogue …) exceeds what is left is skipped before it starts,
    and one that runs out of it between two grid points is stopped; either way its entry says why.

    Returns
    -------
    dict
        ``{name: {<the keys of ranking.model>, "params", "fit_seconds", "tune_seconds",
        "validation_ndcg_at_k", "label"}}``; a baseline that cannot run here (EASE on a catalogue
        too large for memory) is ``{"label", "skipped": <why, with the memory it would take>}``.
    """
    if time_budget is not None and not time_budget > 0:
        raise RecsysError(
            f"The ladder's time budget must be a positive number of seconds, not {plain(time_budget)}."
        )
    if not len(split.val_users):
        raise RecsysError(
            "This run has no validation ratings, so the classic methods cannot be tuned; train it "
            "with a split that keeps one rating per customer for validation (leave-last-out or random)."
        )
    train, validation, test = split_holdouts(split, max_users, split.seed)
    deadline = None if time_budget is None else time.perf_counter() + time_budget
    ladder: dict[str, dict[str, Any]] = {}
    for name in names:
        rung = RUNGS[name]
        if on_rung is not None:
            on_rung(rung.label)
        started = time.perf_counter()
        grid = rung.grid(train)
        too_long = _too_long(name, train, grid, len(validation.users), len(test.users), deadline)
        if too_long:
            ladder[name] = {"label": rung.label, "skipped": too_long}
            continue
        try:
            scorer, params, table = tune(
                partial(_fit_point, rung, train, should_stop, deadline),
                grid,
                lambda s: score_holdout(s, validation, k)["ndcg_at_k"],
            )
        except RecsysError as exc:
            ladder[name] = {"label": rung.label, "skipped": str(exc)}
            continue
        chosen = next(row for row in table if all(row.get(key) == value for key, value in params.items()))
        ladder[name] = {
            **score_holdout(scorer, test, k, popularity=split.popularity, categories=split.categories),
            "label": rung.label,
            "params": params,
            "fit_seconds": float(chosen["fit_seconds"]),
            "tune_seconds": time.perf_counter() - started,
            "validation_ndcg_at_k": float(chosen["objective"]),
        }
    return ladder


class LadderStopped(Exception):
    """A ladder fit ended early because its ``should_stop`` said so (nothing is cached)."""


def _too_long(
    name: str,
    train: sp.csr_matrix,
    grid: list[Params],
    val_users: int,
    test_users: int,
    deadline: float | None,
) -> str | None:
    """Why rung ``name`` is skipped when its estimated time exceeds what is left of the budget."""
    if deadline is None:
        return None
    left = deadline - time.perf_counter()
    estimate = estimate_seconds(name, train, grid, val_users, test_users)
    if estimate <= left:
        return None
    n_users, n_items = train.shape
    return (
        f"it would take {minutes(estimate)} on this machine ({n_users:,} customers x {n_items:,} "
        f"products, {len(grid)} settings tried), more than the {minutes(max(left, 0))} left of the "
        "ladder's time budget."
    )


def _fit_point(
    rung: Rung,
    train: sp.csr_matrix,
    should_stop: Callable[[], bool] | None,
    deadline: float | None,
    params: Params,
) -> Scorer:
    # Asked before every grid point: a stop waits for one fit at most, never for a whole rung.
    if should_stop is not None and should_stop():
        raise LadderStopped("The ladder fit was stopped.")
    if deadline is not None and time.perf_counter() > deadline:
        raise RecsysError("it was stopped when the ladder's time budget ran out, before it was tuned.")
    return rung.make(params).fit(train)


def rung_labels() -> dict[str, str]:
    """Each rung's name and label: exactly what a cached ladder must hold."""
    return {name: rung.label for name, rung in RUNGS.items()}


def shared_ladder(
    split: LadderSplit,
    shared: str | os.PathLike[str] | None,
    *,
    k: int = 10,
    max_users: int | None = RANKING_MAX_USERS,
    on_rung: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, dict[str, Any]]:
    """:func:`fit_split_ladder`, cached in the folder ``shared`` under the split's fingerprint.

    Every run of the same data, split method and seed (:func:`split_fingerprint`) finds the
    ladder there; a cache that fails its checks is refitted. A second caller of the same split
    in this process waits for the first one's fit, then reads its result.
    """
    fit = {"k": k, "max_users": max_users, "on_rung": on_rung, "should_stop": should_stop}
    if shared is None:
        return fit_split_ladder(split, **fit)
    fingerprint = split_fingerprint(split, k, max_users)
    with fingerprint_lock(fingerprint):
        cached = read_shared(shared, fingerprint, rung_labels())
        if cached is not None:
            return cached
        ladder = fit_split_ladder(split, **fit)
        write_shared(shared, fingerprint, ladder)
        return ladder


def ladder_for(
    run: Run,
    folder: str | os.PathLike[str] | None = None,
    *,
    k: int = 10,
    max_users: int | None = RANKING_MAX_USERS,
    on_rung: Callable[[str], None] | None = None,
    shared: str | os.PathLike[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The run's ladder: cached in ``folder`` (the run's folder) and in ``shared`` when given.

    ``folder``'s cache is used only when it was made for this run's manifest, ``k`` and user
    sample; ``shared`` (a runs folder's ladders, see :func:`shared_ladder`) serves every run of
    the same split. Both are written atomically, and a cache that cannot be written (read-only
    folder) is simply skipped.
    """
    key = _cache_key(folder, k, max_users)
    path = Path(folder) / LADDER_FILE if folder is not None else None
    if path is not None and key is not None:
        cached = read_cache(path, {"key", "ladder"}, rung_labels())
        if cached is not None and cached["key"] == key:
            return cached["ladder"]
    ladder = shared_ladder(LadderSplit.of_run(run), shared, k=k, max_users=max_users, on_rung=on_rung)
    if path is not None and key is not None:
        _write_cache(path, {"key": key, "ladder": ladder})
    return ladder


def _cache_key(folder: str | os.PathLike[str] | None, k: int, max_users: int | None) -> dict[str, Any] | None:
    if folder is None:
        return None
    try:
        manifest = file_sha256(Path(folder) / "manifest.json")
    except OSError:
        return None
    return {"version": LADDER_VERSION, "manifest": manifest, "k": int(k), "max_users": max_users}


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    # A read-only run folder (or a value JSON cannot hold): the ladder is refitted next time.
    with contextlib.suppress(OSError, ValueError, TypeError):
        write_cache(path, data)  # sealed: see _ladder_cache
