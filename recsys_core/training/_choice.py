"""Which trainer trains a recipe: the one place that maps an objective to its trainer."""

from __future__ import annotations

from collections.abc import Callable

from recsys_core.config import TrainConfig
from recsys_core.training._epochs import TrainResult
from recsys_core.training._softmax import train_softmax

#: ``trainer(model, data, config, *, on_epoch, on_progress, should_stop) -> TrainResult``.
Trainer = Callable[..., TrainResult]


def trainer_for(config: TrainConfig) -> Trainer:
    """The single-process trainer of ``config.objective``: :func:`train_softmax` for
    ``softmax``, :func:`train_model` (sampled negatives, BCE) for the others. Both take the
    same arguments and return a :class:`TrainResult`."""
    if config.objective == "softmax":
        return train_softmax
    # Imported here: its numba kernels cost a run of the default recipe 0.2 s to import.
    from recsys_core.training._trainer import train_model

    return train_model
