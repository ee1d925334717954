"""Training data: integer-coded pairs, the rating scale, and the checks before training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsys_core.encoding import as_codes
from recsys_core.errors import RecsysError
from recsys_core.model import NCF


@dataclass
class TrainingData:
    """Integer-coded training and validation pairs.

    Attributes
    ----------
    users, items
        Codes of the (rebalanced) training pairs, ``0 <= code < n``: int32 (half the memory of
        int64 at tens of millions of samples per epoch) unless a code needs 64 bits
        (:func:`as_codes`).
    targets
        float32 training targets in [0, 1]: ``(r - rating_min) / (rating_max - rating_min)``.
    val_users, val_items, val_ratings
        The validation pairs and their raw ratings (the classification metrics need stars).
    rating_min, rating_max
        The rating scale that maps ratings to targets.
    """

    users: np.ndarray
    items: np.ndarray
    targets: np.ndarray
    val_users: np.ndarray
    val_items: np.ndarray
    val_ratings: np.ndarray
    rating_min: float
    rating_max: float

    @classmethod
    def from_ratings(
        cls,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray,
        val_users: np.ndarray,
        val_items: np.ndarray,
        val_ratings: np.ndarray,
        rating_min: float | None = None,
        rating_max: float | None = None,
    ) -> TrainingData:
        """Build from raw ratings; the scale defaults to the training ratings' min and max."""
        ratings = np.asarray(ratings, dtype=np.float64)
        lo = float(ratings.min()) if rating_min is None else float(rating_min)
        hi = float(ratings.max()) if rating_max is None else float(rating_max)
        return cls(
            as_codes(users),
            as_codes(items),
            scale_ratings(ratings, lo, hi),
            as_codes(val_users),
            as_codes(val_items),
            np.asarray(val_ratings, dtype=np.float64),
            lo,
            hi,
        )

    def val_targets(self) -> np.ndarray:
        """Validation ratings on the training targets' scale."""
        return scale_ratings(self.val_ratings, self.rating_min, self.rating_max)


def scale_ratings(ratings: np.ndarray, rating_min: float, rating_max: float) -> np.ndarray:
    """``(r - rating_min) / (rating_max - rating_min)`` clipped to [0, 1], as float32 (a one-value
    scale maps everything to 1)."""
    ratings = np.asarray(ratings, dtype=np.float64)
    if rating_max > rating_min:
        scaled = (ratings - rating_min) / (rating_max - rating_min)
    else:
        scaled = np.ones_like(ratings)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)


def check_training_data(data: TrainingData, model: NCF) -> None:
    """Raise :class:`~recsys_core.errors.RecsysError` when ``data`` cannot train ``model``: empty,
    arrays of different lengths, codes outside the model's tables, targets outside [0, 1]."""
    n = len(data.users)
    if n == 0:
        raise RecsysError(
            "Cannot train: the training split is empty. Load more ratings or lower the k-core filter."
        )
    if not (len(data.items) == len(data.targets) == n):
        raise RecsysError(
            f"Training arrays differ in length: {n} users, {len(data.items)} items, "
            f"{len(data.targets)} targets."
        )
    if not (len(data.val_items) == len(data.val_ratings) == len(data.val_users)):
        raise RecsysError(
            f"Validation arrays differ in length: {len(data.val_users)} users, {len(data.val_items)} items, "
            f"{len(data.val_ratings)} ratings."
        )
    for name, codes, limit in (
        ("training user", data.users, model.n_users),
        ("training item", data.items, model.n_items),
        ("validation user", data.val_users, model.n_users),
        ("validation item", data.val_items, model.n_items),
    ):
        if len(codes) == 0:
            continue
        bad = np.flatnonzero((codes < 0) | (codes >= limit))
        if len(bad):
            raise RecsysError(
                f"{len(bad):,} {name} codes are outside 0..{limit - 1} (first at row {int(bad[0])}: "
                f"{int(codes[bad[0]])}). Encode with the IdMap fitted on the training split and drop "
                "validation rows whose user or item is unknown (-1)."
            )
    targets = np.asarray(data.targets)
    if not np.all(np.isfinite(targets)) or targets.min() < 0 or targets.max() > 1:
        bad = np.flatnonzero(~(np.isfinite(targets) & (targets >= 0) & (targets <= 1)))
        raise RecsysError(
            f"{len(bad):,} training targets are not in [0, 1] (first at row {int(bad[0])}: "
            f"{targets[bad[0]]!r}). Targets are (rating - min) / (max - min)."
        )


def normalised_data(data: TrainingData) -> TrainingData:
    """The same data with the dtypes the kernel is compiled for: :func:`as_codes` codes, float32
    targets (no copy when they already are)."""

    return TrainingData(
        as_codes(data.users), as_codes(data.items), np.ascontiguousarray(data.targets, dtype=np.float32),
        as_codes(data.val_users), as_codes(data.val_items), np.asarray(data.val_ratings, dtype=np.float64),
        float(data.rating_min), float(data.rating_max),
    )  # fmt: skip
