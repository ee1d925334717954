# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._blend_fit import BlendChoice, choose_weight, fit_blend
from ._choice import Trainer, trainer_for
from ._data import check_training_data, normalised_data
from ._distributed import (
    DistributedContext,
    check_objective,
    init_from_env,
    shard_bounds,
    shutdown,
    train_model_ddp,
)
from ._epochs import EpochBook, EpochReport, Judge, TrainResult, rating_quality, validate
from ._head import HEAD_ROUNDS_PER_EPOCH, RATING_HEAD_L2, fit_rating_head
from ._optim import NumbaStepper, TorchStepper
from ._sampling import EpochSamples, NegativeSampler, epoch_samples, validation_samples
from ._setup import RATING_HEAD_OBJECTIVES, TrainingSetup, prepare_training_run, resolve_device
from ._softmax import PATIENCE, train_softmax
from ._trainer import CHUNK_SECONDS, train_model
