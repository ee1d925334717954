"""One training run, end to end: ratings → prepared data (:func:`recsys_core.data.prepare_data`)
→ model → history → blend → evaluation. The library's front door (``recsys_core.train``), the app
and the CLI all call :func:`train`; saving is the caller's choice."""

from __future__ import annotations

import ctypes
import functools
import gc
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from recsys_core.baselines import item_similarity
from recsys_core.config import TrainConfig
from recsys_core.data import PreparedData, Ratings, prepare_data
from recsys_core.metrics import evaluate_run
from recsys_core.model import NCF, second_core
from recsys_core.runs import BlendRecord, DatasetRecord, Run, RunSummary, run_name
from recsys_core.topn import build_seen_matrix
from recsys_core.training import (
    FULL_SOFTMAX_MAX_ITEMS,
    BlendChoice,
    EpochReport,
    TrainResult,
    fit_blend,
    resolve_device,
    trainer_for,
)

RANKING_K = 10
#: From this size of one copy of the model's tables on, the blend's similarity is built before
#: training (its temporaries would add to training's peak); below, beside it on the other core.
SIMILARITY_FIRST_BYTES = 256 * 1024 * 1024


@dataclass
class PreparedRun:
    """A run's split and recipe, ready to train (:func:`prepare_run`), without its ratings frame.

    Attributes
    ----------
    config
        The recipe fitted to the ratings' scale (:meth:`TrainConfig.for_scale`) and catalogue
        (:meth:`TrainConfig.for_catalogue`).
    prepared
        The split, encoded (:func:`recsys_core.data.prepare_data`).
    source
        Where the ratings came from (``LoadReport.source``; ``None`` without a report): the
        run's default name and its data set's name.
    started
        ``time.perf_counter()`` when preparing began: the run's stage times count from it.
    """

    config: TrainConfig
    prepared: PreparedData
    source: str | None
    started: float


def train(
    ratings: Ratings,
    config: TrainConfig | None = None,
    *,
    products: pd.DataFrame | None = None,
    name: str | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    trainer: Callable[..., TrainResult] | None = None,
    evaluate: bool = True,
    on_prepared: Callable[[PreparedData], None] | None = None,
) -> Run:
    """Train one model on ``ratings`` with ``config`` and evaluate it on the held-out test split:
    :func:`prepare_run`, then :func:`train_prepared`.

    Parameters
    ----------
    ratings
        A validated ratings table from :func:`recsys_core.data.ratings.load_ratings`.
    config
        The recipe; ``None`` is :class:`TrainConfig` ``()``, the recommended one
        (:meth:`TrainConfig.preset`: ``recommended``, ``fast`` or ``notebook``).
    products
        Optional product table (item, name, category), kept with the run.
    on_epoch, on_progress, should_stop
        Passed to the trainer (live charts, progress bar, Stop).
    trainer
        Replaces the objective's trainer (same signature): :func:`~recsys_core.training.train_model_ddp`.
    evaluate
        Compute the test metrics (ranks other than 0 of a distributed run skip it).
    on_prepared
        Called with the split before the model trains (the app fits its baseline ladder meanwhile).

    Returns
    -------
    Run
        Everything to save, evaluate and recommend without retraining (with the item-kNN blend
        when ``config.neighbours`` > 0); ``summary.stage_seconds``: each stage's time.
    """
    return train_prepared(
        prepare_run(ratings, config, on_prepared=on_prepared),
        products=products, name=name, on_epoch=on_epoch, on_progress=on_progress,
        should_stop=should_stop, trainer=trainer, evaluate=evaluate,
    )  # fmt: skip


def prepare_run(
    ratings: Ratings,
    config: TrainConfig | None = None,
    *,
    on_prepared: Callable[[PreparedData], None] | None = None,
) -> PreparedRun:
    """The first half of :func:`train`: the recipe fitted to the ratings' scale and the split it
    trains on, handed to ``on_prepared`` (which must not modify it).

    The result holds nothing of ``ratings.frame``: a caller that lets go of ``ratings`` before
    :func:`train_prepared` frees its ids and strings while the model trains (the command line
    does: about 0.45 GB at full Amazon size).
    """
    config = TrainConfig() if config is None else config
    config.validate()
    started = time.perf_counter()
    # "Likes it" follows the file's scale (≥ 4 on 1–5 stars, 1 on 0/1 likes).
    config = config.for_scale(np.unique(ratings.frame["rating"].to_numpy(np.float64)))
    prepared = prepare_data(ratings.frame, config)
    # The softmax's step follows the catalogue: a sampled one keeps the smaller default.
    config = config.for_catalogue(sampled=prepared.id_map.n_items > FULL_SOFTMAX_MAX_ITEMS)
    if on_prepared is not None:
        on_prepared(prepared)
    return PreparedRun(config, prepared, getattr(getattr(ratings, "report", None), "source", None), started)


def train_prepared(
    job: PreparedRun,
    *,
    products: pd.DataFrame | None = None,
    name: str | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    trainer: Callable[..., TrainResult] | None = None,
    evaluate: bool = True,
) -> Run:
    """The second half of :func:`train` (same options): train, blend, evaluate."""
    config, prepared, started = job.config, job.prepared, job.started
    stages = dict(prepared.stage_seconds)
    # What preparing freed (the split's frames, the ratings frame if the caller let it go) goes
    # back to the system before the tables are allocated: where it is worth the collector's
    # full pass over every object (0.1 s once torch is imported; a demo run frees a few MB).
    if len(prepared.data.users) >= RELEASE_MIN_RATINGS:
        release_free_memory()
    result, choice = _train_and_blend(
        prepared, config, stages, started, trainer or trainer_for(config), on_epoch, on_progress, should_stop
    )
    trained = time.perf_counter()
    run = Run(
        name=name or _default_name(config, job.source, result),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        config=config,
        id_map=prepared.id_map,
        model=result.model.cpu(),
        history=list(result.history),
        class_counts_before=prepared.class_counts_before,
        class_counts_after=prepared.class_counts_after,
        metrics={},
        summary=_summary(prepared, result, config, stages, choice, job.source),
        seen_users=prepared.seen_users,
        seen_items=prepared.seen_items,
        test_users=prepared.test_users,
        test_items=prepared.test_items,
        test_ratings=prepared.test_ratings,
        popularity=prepared.popularity,
        rating_min=prepared.rating_min,
        rating_max=prepared.rating_max,
        products=products,
        duration_seconds=time.perf_counter() - started,
        message=result.message,
        blend=None if choice is None else choice.blend,
    )
    if evaluate and len(prepared.test_users):
        run.metrics = evaluate_run(run, k=RANKING_K)
    stages["evaluate"] = time.perf_counter() - trained
    return run


#: Training pairs from which :func:`train_prepared` hands freed memory back before training.
RELEASE_MIN_RATINGS = 1_000_000


def release_free_memory() -> None:
    """Hand memory that was freed but kept for reuse back to the system: pyarrow's pool (the
    ratings' strings) and glibc's heap (pandas' and numpy's temporaries). Without it a process
    keeps the peak of preparing the data resident while it trains (about 0.9 GB at full
    Amazon size). Elsewhere than glibc the second part does nothing."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (looked up once, in the symbols the process has loaded), or
    ``None`` without it (macOS, musl)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def _train_and_blend(
    prepared: PreparedData,
    config: TrainConfig,
    stages: dict[str, float],
    started: float,
    trainer: Callable[..., TrainResult],
    on_epoch: Callable[[EpochReport], None] | None,
    on_progress: Callable[[int, int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[TrainResult, BlendChoice | None]:
    """Build the blend's similarity, train the model, then choose the blend's weight; the time
    goes to ``stages["train"]`` and ``stages["blend"]`` (and ``stages["similarity"]`` when the
    similarity is built before training)."""
    n_users, n_items = prepared.id_map.n_users, prepared.id_map.n_items
    similarity: Future[tuple[sp.csr_matrix, float]] | tuple[sp.csr_matrix, float] | None = None
    if config.neighbours > 0 and _table_bytes(n_users, n_items, config) >= SIMILARITY_FIRST_BYTES:
        # Large tables: built before they exist, not beside the trainer, as its temporaries
        # (0.75 GB at full Amazon size, for 3-5 s) would add to training's peak.
        similarity = _similarity(prepared, config)
        stages["similarity"] = similarity[1]
        release_free_memory()
    elif config.neighbours > 0:
        # Small ones: built on the other core while the model trains (scipy's sparse products
        # and numpy's partition release the GIL): there time counts, not memory. The epochs'
        # judgements queue behind it on that core.
        similarity = second_core().submit(functools.partial(_similarity, prepared, config))
    before = time.perf_counter()
    model = NCF(n_users, n_items, config.embedding_dim, seed=config.seed)
    result = trainer(
        model, prepared.data, config, on_epoch=on_epoch, on_progress=on_progress, should_stop=should_stop
    )
    stages["train"] = time.perf_counter() - before
    return result, _fit_blend(result.model, prepared, config, stages, similarity)


def _table_bytes(n_users: int, n_items: int, config: TrainConfig) -> int:
    """One copy of the model's tables (embeddings and biases, float32)."""
    return (n_users + n_items) * (config.embedding_dim + 1) * 4


def _similarity(prepared: PreparedData, config: TrainConfig) -> tuple[sp.csr_matrix, float]:
    """The blend's item similarity of the training pairs and the seconds it took."""
    started = time.perf_counter()
    data, n_users, n_items = prepared.data, prepared.id_map.n_users, prepared.id_map.n_items
    seen = build_seen_matrix(data.users, data.items, n_users, n_items)
    return item_similarity(seen, config.neighbours, config.neighbour_shrink), time.perf_counter() - started


def _fit_blend(
    model: NCF,
    prepared: PreparedData,
    config: TrainConfig,
    stages: dict[str, float],
    similarity: Future[tuple[sp.csr_matrix, float]] | tuple[sp.csr_matrix, float] | None,
) -> BlendChoice | None:
    """The item-kNN blend of a run whose recipe asks for one (``neighbours`` > 0): the similarity
    of the training pairs (``similarity`` and the seconds it took, built or being built), its
    weight chosen on the validation pairs (the trainer's own); the time spent after training
    goes to ``stages["blend"]``, the similarity's own to the blend's ``similarity_seconds``."""
    if similarity is None:
        return None
    started = time.perf_counter()
    matrix, seconds = similarity.result() if isinstance(similarity, Future) else similarity
    data = prepared.data
    choice = fit_blend(
        model,
        (data.users, data.items),
        (data.val_users, data.val_items),
        neighbours=config.neighbours,
        shrink=config.neighbour_shrink,
        seed=config.seed,
        similarity=matrix,
    )
    stages["blend"] = time.perf_counter() - started
    choice.summary["similarity_seconds"] = seconds
    return choice


def _summary(
    prepared: PreparedData,
    result: TrainResult,
    config: TrainConfig,
    stages: dict[str, float],
    blend: BlendChoice | None,
    source: str | None,
) -> RunSummary:
    """Sizes, method, how training ended, device, stage times (``stages`` is the live dict:
    ``evaluate`` is added after the run is built), the blend and the ratings file's name (no
    folder: nothing private leaves the machine)."""
    return RunSummary(
        **prepared.split_summary,
        best_epoch=result.best_epoch,
        stopped_early=result.stopped_early,
        device=resolve_device(config.device),
        stage_seconds=stages,
        blend=None if blend is None else BlendRecord.from_json(blend.summary),
        dataset=DatasetRecord(name=Path(str(source)).name),
    )


def _default_name(config: TrainConfig, source: str | None, result: TrainResult) -> str:
    # Plain words that tell runs apart: the data, the recipe and what differs, how it ended.
    return run_name(
        config,
        source,
        epochs_done=len(result.history),
        stopped=result.stopped_early,
    )
