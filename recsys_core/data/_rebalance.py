"""Per-class random oversampling of the training split (the reference notebook's rebalancing).

The reference notebook counters the dominance of 5★ ratings by duplicating rows of the rare
classes with imbalanced-learn's :class:`~imblearn.over_sampling.RandomOverSampler`::

    RandomOverSampler(sampling_strategy={1: round(n1 * 2.5), 2: round(n2 * 3), 3: round(n3 * 2)},
                      random_state=42)

:func:`rebalance` does exactly that, for any ``{rating: factor}`` mapping, on the training split
only (validation and test keep the true class shares). It resamples a column of row numbers
rather than the frame itself, which keeps it cheap at a million rows, and selects the same rows
as the notebook's call on the full frame: the sampler's draws depend only on the labels and the
seed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys_core.errors import RecsysError
from recsys_core.limits import MAX_OVERSAMPLED_ROWS


@dataclass
class Rebalanced:
    """The oversampled training split and the class counts around it.

    Attributes
    ----------
    frame
        The original rows (in their original order) followed by the added copies, with a fresh
        ``RangeIndex``. Same columns as the input.
    before, after
        ``{rating: count}`` before and after oversampling, sorted by rating.
    """

    frame: pd.DataFrame
    before: dict[float, int]
    after: dict[float, int]


def _fmt(rating: float) -> str:
    return f"{float(rating):g}★"


def _present_classes(
    counts: Mapping[float, int],
    multipliers: Mapping[float, float],
    least: float,
    invalid: tuple[str, str],
    verb: str,
) -> Iterator[tuple[float, float]]:
    """``(training class, factor)`` of every multiplier whose rating occurs in ``counts``, the
    class keyed as there. A :class:`RecsysError` for a factor below ``least`` or not a number
    (``invalid``: what the factor is called, and the rule), and for an absent rating given any
    factor other than 1 (``verb``: what the factor would do to it)."""
    by_value = {float(rating): rating for rating in counts}
    for rating, factor in multipliers.items():
        factor = float(factor)
        if not factor >= least:  # also rejects NaN
            raise RecsysError(f"Invalid {invalid[0]} {factor:g} for {_fmt(rating)}: {invalid[1]}")
        key = by_value.get(float(rating))
        if key is None:
            if factor != 1.0:
                present = ", ".join(_fmt(r) for r in sorted(by_value)) or "none"
                raise RecsysError(
                    f"Cannot {verb} {_fmt(rating)} ×{factor:g}: no training rating has that value "
                    f"(ratings present: {present}). Remove it from the multipliers or set it to 1."
                )
            continue
        yield key, factor


def oversampling_strategy(
    counts: Mapping[float, int], multipliers: Mapping[float, float]
) -> dict[float, int]:
    """Target count per rating class: ``round(count * factor)`` for every class that grows.

    Python's ``round`` (round half to even) is used on purpose: the reference notebook used it,
    and matching its targets is what makes the resampled rows identical.

    Parameters
    ----------
    counts
        Rating class -> number of training rows with that rating.
    multipliers
        Rating class -> oversampling factor (at least 1). Classes without a factor, and classes
        whose target equals their count (factor 1), are left out of the result: they are not
        resampled.

    Returns
    -------
    dict
        ``{rating: target_count}`` in the form ``RandomOverSampler(sampling_strategy=...)``
        expects, keyed by the ratings as they appear in ``counts``.

    Raises
    ------
    RecsysError
        A factor below 1 (or not a number), or a factor above 1 for a rating that does not occur
        in the training data.
    """
    strategy: dict[float, int] = {}
    rule = "oversampling only adds copies, so each factor must be 1 or more (1 leaves the class untouched)."
    for key, factor in _present_classes(counts, multipliers, 1.0, ("multiplier", rule), "oversample"):
        count = int(counts[key])
        target = round(count * factor)
        if target > count:
            strategy[key] = target
    rows = sum(int(c) for c in counts.values()) + sum(t - int(counts[k]) for k, t in strategy.items())
    if rows > MAX_OVERSAMPLED_ROWS:
        raise RecsysError(
            f"Oversampling would make {rows:,} training rows (at most {MAX_OVERSAMPLED_ROWS:,}); "
            "use smaller multipliers."
        )
    return dict(sorted(strategy.items()))


def class_counts(ratings: pd.Series) -> dict[float, int]:
    """``{rating: count}`` of a rating column, sorted by rating."""
    counts = ratings.value_counts(sort=False)
    return {float(k): int(v) for k, v in sorted(counts.items())}


def rebalance(train_frame: pd.DataFrame, multipliers: Mapping[float, float], seed: int) -> Rebalanced:
    """Oversample the rating classes of ``train_frame`` by ``multipliers``.

    Parameters
    ----------
    train_frame
        The training split: a frame with a ``rating`` column (other columns are carried along).
    multipliers
        Rating class -> factor at least 1, e.g. ``{1.0: 2.5, 2.0: 3.0, 3.0: 2.0}``; empty (or all
        ones) returns the rows unchanged.
    seed
        ``random_state`` of the sampler: the same seed selects the same rows.

    Returns
    -------
    Rebalanced
        The resampled frame and the class counts before and after.

    Raises
    ------
    RecsysError
        No ``rating`` column, or an unusable multiplier (see :func:`oversampling_strategy`).
    """
    if "rating" not in train_frame.columns:
        raise RecsysError(
            "Cannot rebalance: the training frame has no 'rating' column "
            f"(columns: {', '.join(map(str, train_frame.columns))})."
        )
    ratings = train_frame["rating"]
    before = class_counts(ratings)
    strategy = oversampling_strategy(before, multipliers)
    if not strategy:
        return Rebalanced(train_frame.reset_index(drop=True), before, dict(before))

    # Class codes instead of raw ratings: imbalanced-learn refuses non-integral labels (e.g.
    # half stars) as "continuous". np.unique sorts, so the codes keep the classes' order, and the
    # sampler, which walks its strategy in sorted class order, draws exactly what it would draw
    # for the raw ratings.
    classes, codes = np.unique(ratings.to_numpy(dtype=np.float64), return_inverse=True)
    code_of = {float(c): i for i, c in enumerate(classes)}
    # imbalanced-learn (and scikit-learn) load only when something is oversampled: the app's
    # Balance page needs the strategy arithmetic, not the sampler.
    from imblearn.over_sampling import RandomOverSampler

    sampler = RandomOverSampler(
        sampling_strategy={code_of[float(r)]: n for r, n in strategy.items()}, random_state=seed
    )
    rows = np.arange(len(train_frame), dtype=np.int64).reshape(-1, 1)
    resampled_rows, _ = sampler.fit_resample(rows, codes)
    frame = train_frame.iloc[resampled_rows[:, 0]].reset_index(drop=True)
    return Rebalanced(frame, before, class_counts(frame["rating"]))


@dataclass
class Reweighted:
    """Per-row class weights of the training split (the ``softmax`` objective's rebalancing).

    Attributes
    ----------
    weights
        float32, one per training row: its rating class's multiplier (1 without one).
    before, after
        ``{rating: count}`` before, and the weighted counts ``round(count * factor)`` after:
        how much each class counts in training, comparable to oversampling's class mix.
    """

    weights: np.ndarray
    before: dict[float, int]
    after: dict[float, int]


def weighted_counts(counts: Mapping[float, int], multipliers: Mapping[float, float]) -> dict[float, int]:
    """How much each class counts when weighed: ``round(count * factor)`` (what :func:`reweight`
    reports as ``after``), from the class counts alone (the app's Balance page has no rows).

    Raises
    ------
    RecsysError
        A factor below 0 or not a number, a factor other than 1 for a rating that does not occur,
        or weights that leave no rating in training.
    """
    after = {rating: int(n) for rating, n in counts.items()}
    rule = "a class weight must be 0 or more (1 leaves the class as it is, 0 leaves it out)."
    for key, factor in _present_classes(counts, multipliers, 0.0, ("weight", rule), "weigh"):
        after[key] = round(int(counts[key]) * factor)
    if any(int(n) for n in counts.values()) and not any(
        int(counts[r]) and float(multipliers.get(float(r), 1.0)) > 0 for r in counts
    ):
        raise RecsysError(
            "Every rating class has weight 0, so training would see nothing: give at least one "
            "class a weight above 0."
        )
    return after


def reweight(ratings: pd.Series, multipliers: Mapping[float, float]) -> Reweighted:
    """Weigh each training rating by its class's multiplier instead of copying rows.

    Oversampling a class ``m`` times is weighting its terms by ``m`` in expectation; a weight
    needs no copies, is exact rather than drawn, and may be below 1 (0 leaves the class out).

    Raises
    ------
    RecsysError
        An unusable weight (see :func:`weighted_counts`).
    """
    before = class_counts(ratings)
    after = weighted_counts(before, multipliers)
    values = ratings.to_numpy(np.float64)
    weights = np.ones(len(values), np.float32)
    for rating, factor in multipliers.items():
        weights[values == float(rating)] = float(factor)
    return Reweighted(weights, before, after)
