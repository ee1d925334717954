"""Multiplier sweeps: one training run per (setting, seed), all saved, one record per run.

Two kinds of sweep answer "what do these multipliers do?":

* :func:`sweep_class` varies the oversampling factor of one rating class (every other setting,
  including the other classes' factors, as in ``config``);
* :func:`sweep_recipe` scales a whole recipe: scale ``s`` turns each factor ``m`` into
  ``1 + s * (m - 1)`` (:func:`scale_multipliers`), so 0 is no oversampling, 1 the recipe itself
  and 2 twice its extra copies.

Both train through :func:`recsys_core.pipeline.train` (or a stand-in with its signature),
save every run to a :class:`~recsys_core.runs.RunRegistry` and stop between runs when
``should_stop()`` says so, keeping the runs already finished; a run that Stop cut short is not
saved (it would not be comparable with the others). The app runs a sweep as a
:class:`recsys_core.app.Job` whose hooks it passes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recsys_core.config import TrainConfig
from recsys_core.errors import RecsysError, check_count
from recsys_core.limits import MAX_SWEEP_RUNS, MAX_SWEEP_SEEDS, MAX_SWEEP_SETTINGS

if TYPE_CHECKING:
    import pandas as pd

    from recsys_core.data import Ratings
    from recsys_core.runs import Run, RunRegistry
    from recsys_core.training import EpochReport

#: One sweep record: ``run, seed, train_counts, metrics`` plus ``class, multiplier`` (class
#: sweep) or ``scale, multipliers`` (recipe sweep).
SweepRecord = dict[str, Any]


@dataclass(frozen=True)
class SweepPoint:
    """One planned run: its recipe and the fields its record carries besides the results."""

    config: TrainConfig
    label: dict[str, Any]
    name: str


@dataclass(frozen=True)
class TrainerHooks:
    """Per-epoch hooks passed on to every training of a sweep (live charts, progress bar)."""

    on_epoch: Callable[[EpochReport], None] | None = None
    on_progress: Callable[[int, int, int], None] | None = None


def _class_key(rating: float) -> str:
    return f"{float(rating):g}"


def check_sweep_size(settings: int, seeds: int) -> None:
    """Refuse a sweep of more than :data:`~recsys_core.limits.MAX_SWEEP_SETTINGS` settings,
    :data:`~recsys_core.limits.MAX_SWEEP_SEEDS` seeds or :data:`~recsys_core.limits.MAX_SWEEP_RUNS`
    runs in all, before any point is built or any data loaded (each point is a training run)."""
    if seeds < 1:
        raise RecsysError("A sweep needs at least one seed.")
    check_count(seeds, "The number of seeds of a sweep", most=MAX_SWEEP_SEEDS)
    check_count(settings, "The number of values swept (multipliers or scales)", most=MAX_SWEEP_SETTINGS)
    if settings * seeds > MAX_SWEEP_RUNS:
        raise RecsysError(
            f"This sweep would train {settings * seeds:,} runs ({settings:,} values x {seeds:,} seeds); "
            f"at most {MAX_SWEEP_RUNS:,} in one sweep. Sweep fewer values or seeds."
        )


def _check_seeds(seeds: Sequence[int], settings: Sequence[float]) -> list[int]:
    check_sweep_size(len(settings), len(seeds))
    return [int(s) for s in seeds]


def scale_multipliers(recipe: Mapping[float, float], scale: float) -> dict[float, float]:
    """The recipe with its extra copies scaled: factor ``m`` becomes ``1 + scale * (m - 1)``.

    Raises
    ------
    RecsysError
        A negative scale (it would remove rows, which oversampling cannot do).
    """
    scale = float(scale)
    if not scale >= 0:
        raise RecsysError(f"Invalid recipe scale {scale:g}: scales must be 0 or more (0 = no oversampling).")
    return {float(r): 1.0 + scale * (float(m) - 1.0) for r, m in recipe.items()}


def class_points(
    config: TrainConfig, rating_class: float, multipliers: Sequence[float], seeds: Sequence[int]
) -> list[SweepPoint]:
    """The runs of a one-class sweep, multiplier-major (all seeds of a multiplier together)."""
    rating_class = float(rating_class)
    seeds = _check_seeds(seeds, multipliers)
    points = []
    for factor in multipliers:
        for seed in seeds:
            recipe = {**config.multipliers, rating_class: float(factor)}
            run_config = dataclasses.replace(config, multipliers=recipe, seed=seed)
            points.append(
                SweepPoint(
                    run_config,
                    {"class": rating_class, "multiplier": float(factor), "seed": seed},
                    f"sweep {_class_key(rating_class)}★×{float(factor):g} · seed {seed}",
                )
            )
    return points


def recipe_points(
    config: TrainConfig, recipe: Mapping[float, float], scales: Sequence[float], seeds: Sequence[int]
) -> list[SweepPoint]:
    """The runs of a recipe sweep (the recipe replaces ``config.multipliers``), scale-major."""
    seeds = _check_seeds(seeds, scales)
    points = []
    for scale in scales:
        scaled = scale_multipliers(recipe, scale)
        for seed in seeds:
            run_config = dataclasses.replace(config, multipliers=scaled, seed=seed)
            points.append(
                SweepPoint(
                    run_config,
                    {
                        "scale": float(scale),
                        "multipliers": {_class_key(r): m for r, m in sorted(scaled.items())},
                        "seed": seed,
                    },
                    f"sweep recipe ×{float(scale):g} · seed {seed}",
                )
            )
    return points


def _check_classes(ratings: Ratings, points: Sequence[SweepPoint]) -> None:
    # Fail before the first training, not after a few: every oversampled class must occur.
    present = {float(r) for r in ratings.frame["rating"].unique()}
    for point in points:
        for rating, factor in point.config.multipliers.items():
            if factor != 1.0 and rating not in present:
                shown = ", ".join(f"{r:g}★" for r in sorted(present))
                raise RecsysError(
                    f"Cannot sweep {rating:g}★: no rating has that value (ratings present: {shown})."
                )


def run_sweep(
    ratings: Ratings,
    points: Sequence[SweepPoint],
    registry: RunRegistry,
    *,
    products: pd.DataFrame | None = None,
    on_run: Callable[[SweepRecord], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    hooks: TrainerHooks | None = None,
    train: Callable[..., Run] | None = None,
) -> list[SweepRecord]:
    """Train and save one run per point, in order; returns the records of the finished runs.

    Parameters
    ----------
    on_run
        Called with each record as soon as its run is saved.
    should_stop
        Checked before each run and passed to the trainer; once it returns ``True`` the sweep
        ends and the run in progress (cut short) is not saved.
    hooks
        ``on_epoch`` / ``on_progress`` for every training.
    train
        :func:`recsys_core.pipeline.train` or a stand-in with its signature.
    """
    if train is None:
        from recsys_core.pipeline import train
    _check_classes(ratings, points)
    hooks = hooks or TrainerHooks()
    stop = should_stop or (lambda: False)
    records: list[SweepRecord] = []
    for point in points:
        if stop():
            break
        run = train(
            ratings,
            point.config,
            products=products,
            name=point.name,
            on_epoch=hooks.on_epoch,
            on_progress=hooks.on_progress,
            should_stop=stop,
        )
        if stop():
            break
        record_id = registry.save(run).run_id
        record: SweepRecord = {
            "run": record_id,
            **point.label,
            "train_counts": {_class_key(r): int(n) for r, n in sorted(run.class_counts_after.items())},
            "metrics": run.metrics,
        }
        records.append(record)
        if on_run is not None:
            on_run(record)
    return records


def sweep_class(
    ratings: Ratings,
    config: TrainConfig,
    rating_class: float,
    multipliers: Sequence[float],
    seeds: Sequence[int],
    registry: RunRegistry,
    *,
    products: pd.DataFrame | None = None,
    on_run: Callable[[SweepRecord], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    hooks: TrainerHooks | None = None,
) -> list[SweepRecord]:
    """Train one run per (multiplier of ``rating_class``, seed); see :func:`run_sweep`.

    Records carry ``class`` and ``multiplier``; the class's training count in each is
    ``round(n * multiplier)``. The other classes keep ``config.multipliers``.
    """
    points = class_points(config, rating_class, multipliers, seeds)
    return run_sweep(
        ratings, points, registry, products=products, on_run=on_run, should_stop=should_stop, hooks=hooks
    )


def sweep_recipe(
    ratings: Ratings,
    config: TrainConfig,
    recipe_multipliers: Mapping[float, float],
    scales: Sequence[float],
    seeds: Sequence[int],
    registry: RunRegistry,
    *,
    products: pd.DataFrame | None = None,
    on_run: Callable[[SweepRecord], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    hooks: TrainerHooks | None = None,
) -> list[SweepRecord]:
    """Train one run per (scale of the recipe, seed); see :func:`run_sweep`.

    Records carry ``scale`` and the scaled ``multipliers`` (:func:`scale_multipliers`); the
    recipe replaces ``config.multipliers``.
    """
    points = recipe_points(config, recipe_multipliers, scales, seeds)
    return run_sweep(
        ratings, points, registry, products=products, on_run=on_run, should_stop=should_stop, hooks=hooks
    )
