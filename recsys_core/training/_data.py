"""Training data: integer-coded pairs, the rating scale, and the checks before training."""

from __future__ import annotations

import numpy as np

from recsys_core.data import TrainingData, as_codes
from recsys_core.errors import RecsysError, plain
from recsys_core.model import NCF


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
    if data.weights is not None:
        weights = np.asarray(data.weights, dtype=np.float64)
        if len(weights) != n or not np.all(np.isfinite(weights) & (weights >= 0)):
            raise RecsysError(
                f"Training weights must be {n:,} finite numbers of 0 or more, one per training pair "
                f"(got {len(weights):,})."
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
            f"{plain(targets[bad[0]])}). Targets are (rating - min) / (max - min)."
        )


def normalised_data(data: TrainingData) -> TrainingData:
    """The same data with the dtypes the kernel is compiled for: :func:`as_codes` codes, float32
    targets (no copy when they already are)."""

    return TrainingData(
        as_codes(data.users), as_codes(data.items), np.ascontiguousarray(data.targets, dtype=np.float32),
        as_codes(data.val_users), as_codes(data.val_items), np.asarray(data.val_ratings, dtype=np.float64),
        float(data.rating_min), float(data.rating_max),
        None if data.weights is None else np.ascontiguousarray(data.weights, dtype=np.float32),
    )  # fmt: skip
