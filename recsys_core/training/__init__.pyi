# The package's public face, read by lazy_loader at import time (and by type checkers).
from ._blend_fit import BlendChoice, choose_weight, fit_blend
from ._budget import (
    DOES_NOT_FIT,
    FITS,
    SLOW,
    SLOW_SECONDS,
    CostModel,
    DataShape,
    Suggestion,
    TrainingEstimate,
    duration_text,
    estimate_training,
    gigabytes,
    measure_cost_model,
)
from ._choice import Trainer, trainer_for
from ._distributed import (
    DistributedContext,
    init_from_env,
    shard_bounds,
    shutdown,
    train_model_ddp,
)
from ._epochs import EpochReport, TrainResult
from ._head import fit_rating_head
from ._machine import Machine, address_space_limit, cgroup_memory_limit, memory_budget, this_machine
from ._optim import NumbaStepper, TorchStepper
from ._sampling import NegativeSampler, epoch_samples, validation_samples
from ._setup import resolve_device
from ._softmax import train_softmax
from ._softmax_sizes import FULL_SOFTMAX_MAX_ITEMS, SAMPLED_ITEMS
from ._trainer import train_model
from ._val_ndcg import ValidationRanker
