"""What a training run will take on this computer, said before it starts, and the recipe that
fits when the chosen one does not (:func:`recsys_core.training.estimate_training`, in plain words)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from recsys_core.app.views._dataset import Overview
from recsys_core.config import TrainConfig
from recsys_core.training import (
    DOES_NOT_FIT,
    SLOW,
    DataShape,
    Machine,
    Suggestion,
    TrainingEstimate,
    duration_text,
    estimate_training,
    gigabytes,
)


@dataclass(frozen=True)
class BudgetNote:
    """The sentence the Train page shows next to Start.

    ``level`` is ``"info"`` (it fits), ``"warning"`` (slow) or ``"error"`` (does not fit in
    memory); ``offer`` is the recipe to switch to, when there is one.
    """

    level: str
    text: str
    offer: Suggestion | None
    estimate: TrainingEstimate


def training_shape(overview: Overview, class_counts: Mapping[float, int]) -> DataShape:
    """The size of what trains: the customers and products of the data (its
    :func:`~recsys_core.app.views.dataset_overview`, which the page keeps cached) and the
    training split's ``class_counts`` (``recsys_core.data.train_class_counts``)."""
    return DataShape(
        customers=int(overview["users"]),
        products=int(overview["items"]),
        ratings=int(sum(class_counts.values())),
        class_counts=dict(class_counts),
    )


def _passes(estimate: TrainingEstimate, config: TrainConfig) -> str:
    passes = f"up to {estimate.max_epochs} pass{'es' if estimate.max_epochs != 1 else ''} over the data"
    if config.objective == "softmax":
        passes += " (it stops early once it no longer improves)"
    return passes


def budget_note(shape: DataShape, config: TrainConfig, machine: Machine | None = None) -> BudgetNote:
    """How long and how much memory ``config`` will take on ``shape`` here, in plain words, and
    what to switch to when it would not fit in memory or would take hours."""
    estimate = estimate_training(shape, config, machine)
    memory = (
        f"about {gigabytes(estimate.peak_bytes)} of memory (this computer has "
        f"{gigabytes(estimate.usable_bytes)} to spare)"
    )
    per_pass = f"about {duration_text(estimate.seconds_per_epoch)} per pass"
    offer = estimate.suggestions[0] if estimate.suggestions else None
    other = ""
    if offer is not None:
        other = f" Switch to {offer.label}: {_what_it_takes(offer.estimate)}."
    if estimate.verdict == DOES_NOT_FIT:
        text = f"This recipe needs {memory}, so training would most likely fail on this computer." + (
            other or " No smaller recipe fits either: try a smaller file."
        )
        return BudgetNote("error", text, offer, estimate)
    if estimate.verdict == SLOW:
        text = (
            f"This recipe would take about {duration_text(estimate.total_seconds)} if it ran every pass "
            f"({per_pass}, {_passes(estimate, config)}) and use {memory}." + other
        )
        return BudgetNote("warning", text, offer, estimate)
    passes = _passes(estimate, config)
    text = f"Expect {per_pass} on a computer not busy with other work, {passes}, and {memory}."
    return BudgetNote("info", text, None, estimate)


def _what_it_takes(estimate: TrainingEstimate) -> str:
    return (
        f"about {duration_text(estimate.seconds_per_epoch)} per pass, up to {estimate.max_epochs}, "
        f"and about {gigabytes(estimate.peak_bytes)} of memory"
    )
