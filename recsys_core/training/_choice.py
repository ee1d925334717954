"""Which trainer trains a recipe: the one place that maps an objective to its trainer."""

from __future__ import annotations

from collections.abc import Callable

from recsys_core.config import TrainConfig
from recsys_core.training._epochs import TrainResult
from recsys_core.training._softmax import train_softmax
from recsys_core.training._trainer import train_model

#: ``trainer(model, data, config, *, on_epoch, on_progress, should_stop) -> TrainResult``.
Trainer = Callable[..., TrainResult]


def trainer_for(config: TrainConfig) -> Trainer:
    """The single-process trainer of ``config.objective``: :func:`train_softmax` for
    ``softmax``, :func:`train_model` (sampled negatives, BCE) for the others. Both take the
    same arguments and return a :class:`TrainResult`."""
    return train_softmax if config.objective == "softmax" else train_model
