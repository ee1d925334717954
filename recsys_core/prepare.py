"""Figures of the data as training will prepare it, without training."""

from __future__ import annotations

import pandas as pd

from recsys_core.split import split_ratings


def train_class_counts(frame: pd.DataFrame, method: str, seed: int) -> dict[float, int]:
    """Rating counts of the training split that ``pipeline.train_run`` would use.

    Parameters
    ----------
    frame
        A ratings frame (``Ratings.frame`` layout).
    method
        The hold-out split method (``TrainConfig.split``).
    seed
        The split's seed (``TrainConfig.seed``).

    Returns
    -------
    dict[float, int]
        ``{rating: count}`` of the training split before oversampling, lowest rating first.

    Raises
    ------
    RecsysError
        When the split cannot be made (see :func:`recsys_core.split.split_ratings`).
    """
    train = split_ratings(frame, method=method, seed=seed).train
    counts = train["rating"].value_counts()
    return {float(r): int(c) for r, c in sorted(counts.items())}
