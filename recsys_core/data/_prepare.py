"""From a ratings frame and a recipe to the arrays training and evaluation need.

:func:`prepare_data` is the one place that splits the ratings, fits the id map, oversamples the
training split and encodes everything (:func:`recsys_core.pipeline.train` then builds and
trains the model); :func:`train_class_counts` answers the Balance page's question, "which
classes would training see?", with the same split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from recsys_core.config import TrainConfig
from recsys_core.data._encoding import IdMap
from recsys_core.data._rebalance import Rebalanced, class_counts, rebalance, reweight
from recsys_core.data._split import split_ratings
from recsys_core.data._training_set import TrainingData, item_popularity


@dataclass
class PreparedData:
    """Everything a training run derives from its ratings before the model exists.

    Only arrays are kept, not the split's frames: they would stay in memory all through
    training (about 0.4 GB of string ids at full Amazon size).

    Attributes
    ----------
    split_summary
        ``method``, the sizes of ``train``, ``validation`` and ``test``, ``dropped_unknown``
        and ``train_after_rebalance`` (the rows after oversampling), in that order.
    id_map
        Ids <-> codes, fitted on the training split.
    class_counts_before, class_counts_after
        ``{rating: count}`` of the training split before and after oversampling.
    data
        The encoded training (oversampled) and validation pairs with their targets.
    seen_users, seen_items
        Codes of the train (before oversampling) + validation pairs: never recommended, never
        counted as hits.
    test_users, test_items, test_ratings
        The held-out test pairs.
    popularity
        Training ratings per item (before oversampling): the most-popular baseline.
    rating_min, rating_max
        The rating scale of the whole ratings frame.
    stage_seconds
        Wall time of ``split`` and ``rebalance`` (oversampling with encoding).
    """

    split_summary: dict[str, str | int]
    id_map: IdMap
    class_counts_before: dict[float, int]
    class_counts_after: dict[float, int]
    data: TrainingData
    seen_users: np.ndarray
    seen_items: np.ndarray
    test_users: np.ndarray
    test_items: np.ndarray
    test_ratings: np.ndarray
    popularity: np.ndarray
    rating_min: float
    rating_max: float
    stage_seconds: dict[str, float] = field(default_factory=dict)


def prepare_data(frame: pd.DataFrame, config: TrainConfig) -> PreparedData:
    """Split ``frame`` as ``config`` says, fit the id map, oversample and encode.

    Parameters
    ----------
    frame
        A validated ratings frame (``Ratings.frame``: ``user, item, rating[, timestamp]``).
    config
        ``split``, ``seed`` and ``multipliers`` are used.
    """
    started = time.perf_counter()
    rating_min, rating_max = float(frame["rating"].min()), float(frame["rating"].max())
    split = split_ratings(frame, method=config.split, seed=config.seed)
    split_done = time.perf_counter()
    id_map = IdMap.fit(split.train)
    weights = None
    if config.objective == "softmax":
        # The softmax weighs each rated product by its class's multiplier: no copies.
        reweighted = reweight(split.train["rating"], config.multipliers)
        balanced = Rebalanced(split.train, reweighted.before, reweighted.after)
        weights = reweighted.weights if (reweighted.weights != 1).any() else None
    else:
        balanced = rebalance(split.train, config.multipliers, seed=config.seed)
    orig_users, orig_items = id_map.encode(split.train)
    if len(balanced.frame) == len(split.train):
        # Nothing oversampled: the same rows in the same order, so the same codes.
        train_users, train_items = orig_users, orig_items
    else:
        train_users, train_items = id_map.encode(balanced.frame)
    val_users, val_items = id_map.encode(split.validation)
    test_users, test_items = id_map.encode(split.test)
    data = TrainingData.from_ratings(
        train_users,
        train_items,
        balanced.frame["rating"].to_numpy(np.float64),
        val_users,
        val_items,
        split.validation["rating"].to_numpy(np.float64),
        rating_min=rating_min,
        rating_max=rating_max,
    )
    data.weights = weights
    return PreparedData(
        split_summary={
            "method": split.method,
            "train": len(split.train),
            "validation": len(split.validation),
            "test": len(split.test),
            "dropped_unknown": split.dropped_unknown,
            "train_after_rebalance": len(balanced.frame),
        },
        id_map=id_map,
        class_counts_before=balanced.before,
        class_counts_after=balanced.after,
        data=data,
        seen_users=np.concatenate([orig_users, val_users]),
        seen_items=np.concatenate([orig_items, val_items]),
        test_users=test_users,
        test_items=test_items,
        test_ratings=split.test["rating"].to_numpy(np.float64),
        popularity=item_popularity(orig_items, id_map.n_items),
        rating_min=rating_min,
        rating_max=rating_max,
        stage_seconds={"split": split_done - started, "rebalance": time.perf_counter() - split_done},
    )


def validation_start(n_seen: int, validation: int) -> int:
    """Where the validation pairs begin among ``n_seen`` seen pairs: :func:`prepare_data` keeps
    the training pairs first and the last ``validation`` ones (clipped to what exists) after them."""
    return n_seen - min(max(int(validation), 0), n_seen)


def train_class_counts(frame: pd.DataFrame, method: str, seed: int) -> dict[float, int]:
    """The rating counts of the training split :func:`prepare_data` would use (before
    oversampling), sorted by rating: ``{rating: count}``.

    Parameters
    ----------
    frame
        A validated ratings frame.
    method, seed
        The split method (``config.split``) and seed (``config.seed``) of the run.
    """
    return class_counts(split_ratings(frame, method=method, seed=seed).train["rating"])
