"""One training run, end to end: ratings → split → balanced training set → model → history →
evaluation. The app and the CLI both call :func:`train_run`; saving is the caller's choice."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from recsys_core.config import TrainConfig
from recsys_core.encoding import IdMap
from recsys_core.evaluation import evaluate_run, item_popularity
from recsys_core.model import NCF
from recsys_core.ratings import Ratings
from recsys_core.rebalance import rebalance
from recsys_core.runs import Run
from recsys_core.split import split_ratings
from recsys_core.training import EpochReport, TrainingData, TrainResult, resolve_device, train_model

RANKING_K = 10


def train_run(
    ratings: Ratings,
    config: TrainConfig,
    *,
    products: pd.DataFrame | None = None,
    name: str | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    trainer: Callable[..., TrainResult] | None = None,
    evaluate: bool = True,
) -> Run:
    """Train one model on ``ratings`` with ``config`` and evaluate it on the held-out test split.

    Parameters
    ----------
    ratings
        A validated ratings table from :func:`recsys_core.ratings.load_ratings`.
    config
        The recipe; :meth:`TrainConfig.preset` gives the notebook's or the fast one.
    products
        Optional product table (item, name, category), kept with the run for readable output.
    on_epoch, on_progress, should_stop
        Passed to :func:`recsys_core.training.train_model` (live charts, progress bar, Stop).
    trainer
        Replaces :func:`~recsys_core.training.train_model` (same signature), e.g.
        :func:`recsys_core.distributed.train_model_ddp` for multi-process training.
    evaluate
        Compute the test metrics (ranks other than 0 of a distributed run skip it).

    Returns
    -------
    Run
        Everything needed to save, evaluate and recommend without retraining. Its
        ``split_summary["stage_seconds"]`` holds the wall time of each stage (``split``,
        ``rebalance`` (with encoding), ``train``, ``evaluate``).
    """
    config.validate()
    started = time.perf_counter()
    stages: dict[str, float] = {}
    clock = [started]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        stages[stage] = now - clock[0]
        clock[0] = now

    frame = ratings.frame
    rating_min, rating_max = float(frame["rating"].min()), float(frame["rating"].max())

    split = split_ratings(frame, method=config.split, seed=config.seed)
    lap("split")
    id_map = IdMap.fit(split.train)
    balanced = rebalance(split.train, config.multipliers, seed=config.seed)

    train_users, train_items = id_map.encode(balanced.frame)
    val_users, val_items = id_map.encode(split.validation)
    targets = (balanced.frame["rating"].to_numpy(np.float64) - rating_min) / (rating_max - rating_min)
    data = TrainingData(
        users=train_users,
        items=train_items,
        targets=targets.astype(np.float32),
        val_users=val_users,
        val_items=val_items,
        val_ratings=split.validation["rating"].to_numpy(np.float64),
        rating_min=rating_min,
        rating_max=rating_max,
    )
    lap("rebalance")
    model = NCF(id_map.n_users, id_map.n_items, config.embedding_dim, seed=config.seed)
    result = (trainer or train_model)(
        model, data, config, on_epoch=on_epoch, on_progress=on_progress, should_stop=should_stop
    )
    model = result.model.cpu()
    lap("train")

    # Seen = the user's train and validation ratings (before oversampling): never recommended,
    # never counted as hits.
    orig_users, orig_items = id_map.encode(split.train)
    seen_users = np.concatenate([orig_users, val_users])
    seen_items = np.concatenate([orig_items, val_items])
    test_users, test_items = id_map.encode(split.test)
    popularity = item_popularity(orig_items, id_map.n_items)

    run = Run(
        name=name or _default_name(config, ratings, result),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        config=config,
        id_map=id_map,
        model=model,
        history=list(result.history),
        class_counts_before=balanced.before,
        class_counts_after=balanced.after,
        metrics={},
        split_summary={
            "method": split.method,
            "train": len(split.train),
            "validation": len(split.validation),
            "test": len(split.test),
            "dropped_unknown": split.dropped_unknown,
            "train_after_rebalance": len(balanced.frame),
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "device": resolve_device(config.device),
            "stage_seconds": stages,
        },
        seen_users=seen_users,
        seen_items=seen_items,
        test_users=test_users,
        test_items=test_items,
        test_ratings=split.test["rating"].to_numpy(np.float64),
        popularity=popularity,
        rating_min=rating_min,
        rating_max=rating_max,
        products=products,
        duration_seconds=time.perf_counter() - started,
        message=result.message,
    )
    if evaluate and len(test_users):
        run.metrics = evaluate_run(run, k=RANKING_K)
    lap("evaluate")
    return run


def _default_name(config: TrainConfig, ratings: Ratings, result: TrainResult) -> str:
    # Plain words that tell runs apart: the data, the recipe and what differs, how it ended.
    from recsys_core.views import run_name

    report = getattr(ratings, "report", None)
    return run_name(
        config,
        getattr(report, "source", None),
        epochs_done=len(result.history),
        stopped=result.stopped_early,
    )
