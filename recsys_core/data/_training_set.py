"""The training set a trainer consumes: integer-coded pairs, targets on the model's scale, the
validation pairs, and how often each product was rated in training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from recsys_core.data._encoding import as_codes
from recsys_core.errors import RecsysError


def scale_ratings(ratings: np.ndarray, rating_min: float, rating_max: float) -> np.ndarray:
    """``(r - rating_min) / (rating_max - rating_min)`` clipped to [0, 1], as float32 (a one-value
    scale maps everything to 1)."""
    ratings = np.asarray(ratings, dtype=np.float64)
    if rating_max > rating_min:
        scaled = (ratings - rating_min) / (rating_max - rating_min)
    else:
        scaled = np.ones_like(ratings)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)


def item_popularity(train_items: ArrayLike, n_items: int) -> np.ndarray:
    """Number of training ratings of each item: an ``int64`` array of length ``n_items``."""
    items = np.asarray(train_items, dtype=np.int64).reshape(-1)
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise RecsysError(f"An item code lies outside 0..{n_items - 1}; drop unknown ids (-1) first.")
    return np.bincount(items, minlength=int(n_items)).astype(np.int64)


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
    weights
        float32 weight of each training pair, or ``None`` (all 1). The ``softmax`` objective
        weights each rated product's term by its rating class's multiplier instead of copying
        rows (:func:`recsys_core.data.prepare_data`); the other objectives ignore it.
    """

    users: np.ndarray
    items: np.ndarray
    targets: np.ndarray
    val_users: np.ndarray
    val_items: np.ndarray
    val_ratings: np.ndarray
    rating_min: float
    rating_max: float
    weights: np.ndarray | None = None

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
