"""The preparation both trainers share: checked, normalised data, the negative sampler, the
validation samples and the random generators, on the chosen device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData
from recsys_core.errors import RecsysError
from recsys_core.model import NCF
from recsys_core.training._data import check_training_data, normalised_data
from recsys_core.training._epochs import EpochBook, EpochReport
from recsys_core.training._sampling import EpochSamples, NegativeSampler, epoch_samples, validation_samples

#: Objectives whose score ranks and whose separate rating head predicts ratings.
RATING_HEAD_OBJECTIVES = ("hybrid", "softmax")


def resolve_device(device: str) -> str:
    """``"auto"`` becomes ``"cuda"`` when torch sees a GPU, else ``"cpu"``.

    Raises
    ------
    RecsysError
        ``"cuda"`` was asked for but torch sees no GPU, or the name is unknown.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RecsysError(
            "Training on the GPU was requested (device=cuda) but PyTorch sees no CUDA device "
            f"(torch {torch.__version__}). Use device=auto or device=cpu."
        )
    if device not in ("cpu", "cuda"):
        raise RecsysError(f"Unknown device {device!r}: use auto, cpu or cuda.")
    return device


@dataclass
class TrainingSetup:
    """A model and its data, ready to train (see :func:`prepare_training_run`).

    Attributes
    ----------
    model
        The model, on its device, with a rating head for ``hybrid`` and ``softmax``.
    data
        The checked training data in the dtypes the kernels are compiled for.
    config
        The (validated) recipe.
    rng
        Draws every epoch's order and negatives, seeded by ``config.seed``: every process of a
        distributed job draws the same epochs.
    sampler
        Unrated products for ``ranking``/``hybrid`` with negatives, else ``None``.
    val
        The validation samples, drawn once so epochs are comparable.
    """

    model: NCF
    data: TrainingData
    config: TrainConfig
    rng: np.random.Generator
    sampler: NegativeSampler | None
    val: EpochSamples

    def next_epoch(self) -> EpochSamples:
        """The next epoch's shuffled samples (:func:`epoch_samples`)."""
        return epoch_samples(self.data, self.config, self.rng, self.sampler)

    def new_book(self, on_epoch: Callable[[EpochReport], None] | None, *, lazy: bool = False) -> EpochBook:
        """The end-of-epoch bookkeeping (head fit, validation, best epoch) for this run
        (``lazy``: see :class:`EpochBook`)."""
        return EpochBook(self.model, self.data, self.val, self.config, on_epoch, lazy=lazy)


def prepare_training_run(
    model: NCF, data: TrainingData, config: TrainConfig, *, device: str | torch.device | None = None
) -> TrainingSetup:
    """Check and prepare everything a trainer needs before its first epoch.

    Validates ``config`` and ``data`` (against the model's tables), moves ``model`` to
    ``device`` (default: :func:`resolve_device` of ``config.device``), adds the rating head for
    ``hybrid`` and ``softmax``, builds the negative sampler (``ranking``/``hybrid``) and draws
    the validation samples.

    Raises
    ------
    RecsysError
        Empty or inconsistent data, codes outside the model's tables, targets outside [0, 1],
        an invalid config or an unavailable device.
    """
    config.validate()
    data = normalised_data(data)
    check_training_data(data, model)
    model.to(resolve_device(config.device) if device is None else device)
    if config.objective in RATING_HEAD_OBJECTIVES:
        model.add_rating_head()
    sampler = None
    if config.objective in ("ranking", "hybrid") and config.negatives > 0:
        sampler = NegativeSampler(data, model.n_items)
    val = validation_samples(data, config, np.random.default_rng([config.seed, 1]), sampler)
    return TrainingSetup(model, data, config, np.random.default_rng(config.seed), sampler, val)
