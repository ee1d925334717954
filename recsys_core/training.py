"""The trainer: mini-batch Adam on binary cross-entropy, with live reports, Stop and best-epoch restore.

:func:`train_model` reproduces the reference notebook's training (BCE between
``sigmoid(<p_u, q_i> + b_u + b_i)`` and the scaled rating ``(r - r_min) / (r_max - r_min)``,
Adam, shuffled mini-batches) without autograd over the embedding tables: the gradients are
written by hand and only the rows a batch touches are updated ("lazy" Adam, see
:mod:`recsys_core.optim`). On CPU a numba kernel runs whole runs of batches per call; on CUDA
the same maths runs as torch ops.

What one epoch trains on is built by :func:`epoch_samples` from the objective:

``rating``
    the observed ratings with their scaled targets (the reference);
``ranking``
    every observed rating as a positive (target 1) plus ``negatives`` products the user never
    rated (target 0), drawn afresh every epoch;
``hybrid``
    the observed ratings with their scaled targets plus sampled unrated products at target 0
    with weight :data:`HYBRID_NEGATIVE_WEIGHT`, so the embeddings learn which products a user
    picks (rated above unrated) while low ratings still pull a product down. After every epoch
    :func:`fit_rating_head` fits the model's separate rating head
    (:meth:`~recsys_core.model.NCF.add_rating_head`) to the observed ratings: recommendations
    rank by the trained score, the rating metrics use the head. One score cannot serve both:
    the chance that a user picks a product grows with its popularity, the rating they give it
    does not, so a score trained to rank mixes popularity into every predicted rating.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from recsys_core.config import TrainConfig
from recsys_core.errors import RecsysError
from recsys_core.model import NCF
from recsys_core.optim import Stepper, make_stepper

#: Loss weight of a sampled unrated product in the ``hybrid`` objective (observed ratings weigh 1).
#: Chosen on amazon_electronics_dense.csv (``benchmarks/objectives.py --sweep``, 8 negatives,
#: 3 seeds): weight 0.5 found the held-out product 1.67x as often as the most-popular list
#: (ROC AUC 0.716), 2 1.87x (0.751), 4 1.85x (0.753) with half the catalogue coverage.
HYBRID_NEGATIVE_WEIGHT = 2.0
#: L2 penalty on the rating head's biases. A rating adds at most 0.25 to its bias's curvature,
#: so 0.3 weighs about as much as one rating: a user or product with few ratings stays near the
#: average. Chosen from 0.1, 0.3 and 1 (docs/objectives.md).
RATING_HEAD_L2 = 0.3
#: Newton rounds of :func:`fit_rating_head` after each epoch. On the dense Amazon sample the test
#: AUC settles within 0.001 after 3 rounds from scratch; converging fully would cost as much as
#: the epoch itself in late epochs, for no measurable gain.
HEAD_ROUNDS_PER_EPOCH = 5
#: Target wall time of one kernel call: progress reports and the Stop check happen between calls.
CHUNK_SECONDS = 0.1
_SCORE_CHUNK = 65_536


@dataclass
class TrainingData:
    """Integer-coded training and validation pairs.

    Attributes
    ----------
    users, items
        int64 codes of the (rebalanced) training pairs, ``0 <= code < n``.
    targets
        float32 training targets in [0, 1]: ``(r - rating_min) / (rating_max - rating_min)``.
    val_users, val_items, val_ratings
        The validation pairs and their raw ratings (the classification metrics need stars).
    rating_min, rating_max
        The rating scale that maps ratings to targets.
    """

    users: np.ndarray
    items: np.ndarray
    targets: np.ndarray
    val_users: np.ndarray
    val_items: np.ndarray
    val_ratings: np.ndarray
    rating_min: float
    rating_max: float

    @classmethod
    def from_ratings(
        cls,
        users: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray,
        val_users: np.ndarray,
        val_items: np.ndarray,
        val_ratings: np.ndarray,
        rating_min: float | None = None,
        rating_max: float | None = None,
    ) -> TrainingData:
        """Build from raw ratings; the scale defaults to the training ratings' min and max."""
        ratings = np.asarray(ratings, dtype=np.float64)
        lo = float(ratings.min()) if rating_min is None else float(rating_min)
        hi = float(ratings.max()) if rating_max is None else float(rating_max)
        return cls(
            np.asarray(users, dtype=np.int64),
            np.asarray(items, dtype=np.int64),
            scale_ratings(ratings, lo, hi),
            np.asarray(val_users, dtype=np.int64),
            np.asarray(val_items, dtype=np.int64),
            np.asarray(val_ratings, dtype=np.float64),
            lo,
            hi,
        )

    def val_targets(self) -> np.ndarray:
        """Validation ratings on the training targets' scale."""
        return scale_ratings(self.val_ratings, self.rating_min, self.rating_max)


def scale_ratings(ratings: np.ndarray, rating_min: float, rating_max: float) -> np.ndarray:
    """``(r - rating_min) / (rating_max - rating_min)`` clipped to [0, 1], as float32 (a one-value
    scale maps everything to 1)."""
    ratings = np.asarray(ratings, dtype=np.float64)
    if rating_max > rating_min:
        scaled = (ratings - rating_min) / (rating_max - rating_min)
    else:
        scaled = np.ones_like(ratings)
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)


@dataclass
class EpochReport:
    """What one epoch did, reported through ``on_epoch`` and kept in the history.

    ``seconds`` is the whole epoch including validation; ``samples_per_second`` counts training
    samples over the training part only. Validation metrics are NaN when there is no validation
    data (and ``val_auc`` when it holds a single class).
    """

    epoch: int
    train_loss: float
    val_loss: float
    val_precision: float
    val_recall: float
    val_auc: float
    seconds: float
    samples_per_second: float


@dataclass
class TrainResult:
    """The trained model (best epoch restored), the history and how training ended.

    ``best_epoch`` is 1-based; 0 means no epoch finished and ``model`` holds its initial
    parameters. ``message`` explains an early stop (Stop pressed, or the loss diverged).
    """

    model: NCF
    history: list[EpochReport] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    message: str = ""


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


# --------------------------------------------------------------------------------------------
# What an epoch trains on
# --------------------------------------------------------------------------------------------


@dataclass
class EpochSamples:
    """One epoch's training samples, already in the order they are visited.

    ``weights`` is empty when every sample weighs 1 (the kernel then skips the multiply).
    """

    users: np.ndarray
    items: np.ndarray
    targets: np.ndarray
    weights: np.ndarray


#: Up to this many (user, product) cells, rated pairs are looked up in a one-byte-per-cell table
#: (a gather) rather than by binary search in the sorted pairs (several times slower per draw).
_TABLE_LOOKUP_CELLS = 1 << 25
#: Uniform redraws of still-rated negatives before the rest are drawn exactly (see
#: :class:`_NegativeSampler`).
_REDRAWS = 3


class _NegativeSampler:
    """Uniformly drawn products a user never rated (in training or validation).

    Draws are uniform over the catalogue and redrawn while rated (cheap: most users rated a
    sliver of it); the few still rated after :data:`_REDRAWS` redraws (users who rated most
    products) are drawn exactly, uniformly among that user's unrated products. So every user
    gets all their negatives, none of them rated, unless they rated every product (then none).
    """

    def __init__(self, data: TrainingData, n_items: int):
        self.n_items = int(n_items)
        pairs = np.concatenate(
            [data.users * self.n_items + data.items, data.val_users * self.n_items + data.val_items]
        )
        self.rated = np.unique(pairs)
        cells = int(self.rated[-1]) + 1 if len(self.rated) else 1
        self._table: np.ndarray | None = None
        if cells <= _TABLE_LOOKUP_CELLS:
            self._table = np.zeros(cells, dtype=bool)
            self._table[self.rated] = True
        # For exact draws: the rated pairs are sorted by user, then product. Within a user's run,
        # ``product - position in the run`` counts the unrated products before that one; keyed
        # by user it is sorted overall, so one binary search finds the k-th unrated product.
        rated_users, rated_items = np.divmod(self.rated, self.n_items)
        run_start = np.searchsorted(rated_users, rated_users, side="left")
        unrated_before = rated_items - (np.arange(len(self.rated)) - run_start)
        self._gap_keys = rated_users * (self.n_items + 1) + unrated_before
        self._rated_count = np.bincount(rated_users) if len(self.rated) else np.zeros(0, np.int64)

    def _is_rated(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        keys = users * self.n_items + items
        if self._table is not None:
            # Beyond the table's last cell nothing is rated.
            inside = keys < len(self._table)
            return self._table[np.where(inside, keys, 0)] & inside
        pos = np.searchsorted(self.rated, keys)
        pos[pos == len(self.rated)] = 0
        return self.rated[pos] == keys

    def _exact(self, users: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A uniformly drawn unrated product for each entry of ``users`` that has one.

        Returns ``(has_one, items)``: a mask over ``users`` (False where the user rated every
        product) and the products drawn for the entries where it is True.
        """
        counts = np.zeros(len(users), dtype=np.int64)
        known = users < len(self._rated_count)
        counts[known] = self._rated_count[users[known]]
        free = self.n_items - counts
        has_one = free > 0
        users, free = users[has_one], free[has_one]
        k = np.minimum((rng.random(len(users)) * free).astype(np.int64), free - 1)  # k-th unrated
        base = users * (self.n_items + 1)
        # The user's rated products with at most k unrated ones before them all precede the k-th
        # unrated product, which is therefore k + (their number).
        below = np.searchsorted(self._gap_keys, base + k, side="right")
        below -= np.searchsorted(self._gap_keys, base, side="left")
        return has_one, k + below

    def sample(
        self, users: np.ndarray, per_user: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``per_user`` unrated products for each entry of ``users`` (none for a user who rated
        every product). Returned negatives are grouped by their user's entry."""
        neg_users = np.repeat(users, per_user)
        neg_items = rng.integers(0, self.n_items, size=len(neg_users))
        bad = np.flatnonzero(self._is_rated(neg_users, neg_items))
        for _ in range(_REDRAWS):
            if not len(bad):
                break
            neg_items[bad] = rng.integers(0, self.n_items, size=len(bad))
            bad = bad[self._is_rated(neg_users[bad], neg_items[bad])]
        if not len(bad):
            return neg_users, neg_items
        has_one, exact_items = self._exact(neg_users[bad], rng)
        neg_items[bad[has_one]] = exact_items
        keep = np.ones(len(neg_users), dtype=bool)
        keep[bad[~has_one]] = False
        return neg_users[keep], neg_items[keep]


def epoch_samples(
    data: TrainingData,
    config: TrainConfig,
    rng: np.random.Generator,
    sampler: _NegativeSampler | None = None,
) -> EpochSamples:
    """Build and shuffle one epoch's samples for ``config.objective``.

    The single place that knows the objectives: ``rating`` shuffles the observed ratings;
    ``ranking`` and ``hybrid`` add ``config.negatives`` sampled unrated products per rating,
    drawn afresh each call (see the module docstring for targets and weights).
    """
    if config.objective == "rating" or config.negatives == 0 or sampler is None:
        users, items, targets = data.users, data.items, data.targets
        if config.objective == "ranking":
            targets = np.ones_like(data.targets)
        weights = np.zeros(0, dtype=np.float32)
    else:
        neg_users, neg_items = sampler.sample(data.users, config.negatives, rng)
        users = np.concatenate([data.users, neg_users])
        items = np.concatenate([data.items, neg_items])
        positive = np.ones_like(data.targets) if config.objective == "ranking" else data.targets
        targets = np.concatenate([positive, np.zeros(len(neg_users), dtype=np.float32)])
        if config.objective == "hybrid":
            weights = np.concatenate(
                [
                    np.ones(len(data.users), np.float32),
                    np.full(len(neg_users), HYBRID_NEGATIVE_WEIGHT, np.float32),
                ]
            )
        else:
            weights = np.zeros(0, dtype=np.float32)
    order = rng.permutation(len(users))
    return EpochSamples(
        users[order], items[order], targets[order], weights[order] if len(weights) else weights
    )


def _validation_samples(
    data: TrainingData, config: TrainConfig, rng: np.random.Generator, sampler: _NegativeSampler | None
) -> EpochSamples:
    """The pairs the validation loss is measured on, drawn once so epochs are comparable.

    The same objective as training: the validation ratings (scaled, or 1 for ``ranking``) plus,
    for ``ranking``/``hybrid``, sampled unrated products at target 0.
    """
    scaled = data.val_targets()
    if config.objective == "rating" or sampler is None:
        targets = np.ones_like(scaled) if config.objective == "ranking" else scaled
        # The validation pairs themselves, in their order: one scoring pass serves the loss too.
        return EpochSamples(data.val_users, data.val_items, targets, np.zeros(0, dtype=np.float32))
    proxy = TrainingData(
        data.val_users, data.val_items, scaled, data.val_users, data.val_items, data.val_ratings,
        data.rating_min, data.rating_max,
    )  # fmt: skip
    return epoch_samples(proxy, config, rng, sampler)


# --------------------------------------------------------------------------------------------
# The rating head (hybrid)
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def _pair_dots(model: NCF, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """``<p_u, q_i>`` of each pair as float64, a chunk at a time (gathering every pair's
    embeddings at once would cost n x dim floats); numpy on CPU, where it is several times
    faster than torch at gathering rows."""
    P, Q = model.user_embedding.weight, model.item_embedding.weight
    on_cpu = P.device.type == "cpu"
    if on_cpu:
        P, Q = P.detach().numpy(), Q.detach().numpy()
    dot = np.empty(len(users), dtype=np.float64)
    for lo in range(0, len(users), _SCORE_CHUNK):
        u, i = users[lo : lo + _SCORE_CHUNK], items[lo : lo + _SCORE_CHUNK]
        if on_cpu:
            dot[lo : lo + _SCORE_CHUNK] = np.einsum("ij,ij->i", P[u], Q[i])
        else:
            u, i = torch.as_tensor(u, device=P.device), torch.as_tensor(i, device=P.device)
            dot[lo : lo + _SCORE_CHUNK] = (P[u] * Q[i]).sum(-1).double().cpu().numpy()
    return dot


@torch.no_grad()
def fit_rating_head(
    model: NCF,
    users: np.ndarray,
    items: np.ndarray,
    targets: np.ndarray,
    *,
    l2: float = RATING_HEAD_L2,
    max_rounds: int = 50,
    tol: float = 1e-2,
) -> int:
    """Fit the model's rating head to observed ratings, leaving the trained parameters alone.

    The head predicts ``sigmoid(a * <p_u, q_i> + c_u + c_i)`` (see
    :meth:`~recsys_core.model.NCF.add_rating_head`, added here if missing): the shared
    embeddings' agreement, scaled by one number ``a``, plus a rating bias per user and per
    product. It minimises the BCE to the scaled ratings plus ``l2 / 2 * (|c_u|^2 + |c_i|^2)``
    by alternating Newton steps (all users at once, all products at once, then ``a``), each a
    couple of vectorised passes over the ratings. The problem is convex; starting from the
    current head (the previous epoch's) a few rounds suffice.

    Parameters
    ----------
    model
        The model (any device); its head is overwritten.
    users, items, targets
        Observed training pairs and their targets in [0, 1].
    l2
        Penalty on the biases, > 0: users and products with few ratings stay near the average.
    max_rounds, tol
        Stop after ``max_rounds`` rounds or once a round moves no predicted logit by ``tol``
        (1e-2 in logits is under 0.0025 in score).

    Returns
    -------
    int
        The rounds run.
    """
    if not l2 > 0:
        raise RecsysError(f"The rating head's l2 penalty must be positive, not {l2!r}.")
    model.add_rating_head()
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    t = np.asarray(targets, dtype=np.float64)
    # The Newton passes run in numpy, in float64 as their sums run over all ratings.
    dot = _pair_dots(model, users, items)
    cu = model.rating_user_bias.double().cpu().numpy()
    ci = model.rating_item_bias.double().cpu().numpy()
    a = float(model.rating_scale[0])
    logits = a * dot + cu[users] + ci[items]

    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        before = logits.copy()
        for bias, codes in ((cu, users), (ci, items)):
            s = 1.0 / (1.0 + np.exp(-logits))
            n = len(bias)
            step = np.bincount(codes, s - t, minlength=n) + l2 * bias
            step /= np.bincount(codes, s * (1.0 - s), minlength=n) + l2
            # Damped: a bias far from its optimum sits where the sigmoid is flat.
            np.clip(step, -4.0, 4.0, out=step)
            bias -= step
            logits -= step[codes]
        s = 1.0 / (1.0 + np.exp(-logits))
        step_a = float(np.clip((s - t) @ dot / ((s * (1.0 - s)) @ (dot * dot) + 1e-12), -1.0, 1.0))
        a -= step_a
        logits -= step_a * dot
        # Converged when the predictions stop moving. (The biases alone may keep drifting along
        # "all users +d, all products -d", which changes no prediction and barely the penalty.)
        if np.abs(logits - before).max(initial=0.0) < tol:
            break
    model.rating_user_bias.copy_(torch.from_numpy(cu))
    model.rating_item_bias.copy_(torch.from_numpy(ci))
    model.rating_scale.fill_(a)
    return rounds


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def _logits(model: NCF, users: np.ndarray, items: np.ndarray, rating: bool = False) -> np.ndarray:
    """Trained logits of the pairs, or (``rating``) the rating head's where the model has one."""
    device = model.user_embedding.weight.device
    score = model.rating_logits if rating else model
    out = np.empty(len(users), dtype=np.float32)
    for lo in range(0, len(users), _SCORE_CHUNK):
        u = torch.as_tensor(users[lo : lo + _SCORE_CHUNK], device=device)
        i = torch.as_tensor(items[lo : lo + _SCORE_CHUNK], device=device)
        out[lo : lo + _SCORE_CHUNK] = score(u, i).float().cpu().numpy()
    return out


def _bce(logits: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> float:
    x = logits.astype(np.float64)
    losses = np.maximum(x, 0) - x * targets + np.log1p(np.exp(-np.abs(x)))
    if len(weights):
        losses *= weights
    return float(losses.mean()) if len(losses) else math.nan


def _validate(
    model: NCF, data: TrainingData, val: EpochSamples, config: TrainConfig
) -> tuple[float, float, float, float]:
    """Validation loss (of the trained score), precision, recall and ROC AUC (of the predicted
    rating: the rating head's where the model has one); NaN where undefined."""
    if not len(data.val_users):
        return math.nan, math.nan, math.nan, math.nan
    head = model.has_rating_head
    logits = _logits(model, data.val_users, data.val_items, rating=head)
    same_pairs = val.users is data.val_users and val.items is data.val_items and not head
    loss = _bce(logits if same_pairs else _logits(model, val.users, val.items), val.targets, val.weights)
    scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    actual = data.val_ratings >= config.positive_rating
    predicted = scores >= config.threshold
    tp = int(np.count_nonzero(actual & predicted))
    precision = tp / int(np.count_nonzero(predicted)) if predicted.any() else 0.0
    recall = tp / int(np.count_nonzero(actual)) if actual.any() else math.nan
    auc = float(roc_auc_score(actual, scores)) if 0 < actual.sum() < len(actual) else math.nan
    return loss, precision, recall, auc


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


def _check(data: TrainingData, model: NCF) -> None:
    n = len(data.users)
    if n == 0:
        raise RecsysError(
            "Cannot train: the training split is empty. Load more ratings or lower the k-core filter."
        )
    if not (len(data.items) == len(data.targets) == n):
        raise RecsysError(
            f"Training arrays differ in length: {n} users, {len(data.items)} items, "
            f"{len(data.targets)} targets."
        )
    if not (len(data.val_items) == len(data.val_ratings) == len(data.val_users)):
        raise RecsysError(
            f"Validation arrays differ in length: {len(data.val_users)} users, {len(data.val_items)} items, "
            f"{len(data.val_ratings)} ratings."
        )
    for name, codes, limit in (
        ("training user", data.users, model.n_users),
        ("training item", data.items, model.n_items),
        ("validation user", data.val_users, model.n_users),
        ("validation item", data.val_items, model.n_items),
    ):
        if len(codes) == 0:
            continue
        bad = np.flatnonzero((codes < 0) | (codes >= limit))
        if len(bad):
            raise RecsysError(
                f"{len(bad):,} {name} codes are outside 0..{limit - 1} (first at row {int(bad[0])}: "
                f"{int(codes[bad[0]])}). Encode with the IdMap fitted on the training split and drop "
                "validation rows whose user or item is unknown (-1)."
            )
    targets = np.asarray(data.targets)
    if not np.all(np.isfinite(targets)) or targets.min() < 0 or targets.max() > 1:
        bad = np.flatnonzero(~(np.isfinite(targets) & (targets >= 0) & (targets <= 1)))
        raise RecsysError(
            f"{len(bad):,} training targets are not in [0, 1] (first at row {int(bad[0])}: "
            f"{targets[bad[0]]!r}). Targets are (rating - min) / (max - min)."
        )


def _normalised(data: TrainingData) -> TrainingData:
    """The same data with the dtypes the kernel is compiled for (no copy when they already are)."""

    def codes(a):
        return np.ascontiguousarray(a, dtype=np.int64)

    return TrainingData(
        codes(data.users), codes(data.items), np.ascontiguousarray(data.targets, dtype=np.float32),
        codes(data.val_users), codes(data.val_items), np.asarray(data.val_ratings, dtype=np.float64),
        float(data.rating_min), float(data.rating_max),
    )  # fmt: skip


def _snapshot(model: NCF) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


class EpochBook:
    """The bookkeeping both trainers share (this module's and :mod:`recsys_core.distributed`'s):
    the history, the best epoch by validation loss (training loss without a validation split),
    why training stopped, and restoring the best epoch at the end."""

    def __init__(
        self,
        model: NCF,
        data: TrainingData,
        val: EpochSamples,
        config: TrainConfig,
        on_epoch: Callable[[EpochReport], None] | None,
    ):
        self.model, self.data, self.val, self.config, self.on_epoch = model, data, val, config, on_epoch
        self.history: list[EpochReport] = []
        self.best = _snapshot(model)
        self.best_epoch, self.best_loss = 0, math.inf
        self.message = ""
        self.stopped = False

    def stop(self, message: str) -> None:
        self.stopped, self.message = True, message

    def diverged(self, epoch: int, loss: float, batch: int, total: int) -> None:
        self.stop(
            f"Training diverged in epoch {epoch}: the loss became "
            f"{'NaN' if math.isnan(loss) else 'infinite'} around batch {batch:,} of {total:,}. "
            f"Try a smaller learning rate (now {self.config.learning_rate:g})."
        )

    def end_epoch(
        self, epoch: int, *, loss_sum: float, total: int, n: int, started: float, train_seconds: float
    ) -> bool:
        """Fit the rating head, validate, record the epoch; ``False`` when training must stop."""
        model, data, config = self.model, self.data, self.config
        if model.has_rating_head:
            # Warm-started from the last epoch's head, a few rounds track the slowly moving
            # embeddings; the validation metrics below then judge the head that would be kept.
            fit_rating_head(model, data.users, data.items, data.targets, max_rounds=HEAD_ROUNDS_PER_EPOCH)
        val_loss, precision, recall, auc = _validate(model, data, self.val, config)
        report = EpochReport(
            epoch=epoch,
            train_loss=loss_sum / total,
            val_loss=val_loss,
            val_precision=precision,
            val_recall=recall,
            val_auc=auc,
            seconds=time.perf_counter() - started,
            samples_per_second=n / train_seconds if train_seconds > 0 else math.nan,
        )
        self.history.append(report)
        key = val_loss if len(data.val_users) else report.train_loss
        if key < self.best_loss:
            self.best_loss, self.best_epoch = key, epoch
            self.best = _snapshot(model)
        if self.on_epoch is not None:
            self.on_epoch(report)
        if not math.isfinite(key):
            which = "validation" if len(data.val_users) else "training"
            self.stop(
                f"Training diverged in epoch {epoch}: the {which} loss is not finite. "
                f"Try a smaller learning rate (now {config.learning_rate:g})."
            )
            return False
        return True

    def result(self) -> TrainResult:
        """The best epoch restored into the model, with the history and the stop message."""
        message = self.message
        if self.stopped:
            by = "validation" if len(self.data.val_users) else "training"
            kept = (
                f"Kept epoch {self.best_epoch} (the best {by} loss so far)."
                if self.best_epoch
                else "No epoch finished, so the model keeps its initial parameters."
            )
            message = f"{message} {kept}"
        if self.best_epoch != (self.history[-1].epoch if self.history else 0) or self.stopped:
            self.model.load_state_dict(self.best)
        return TrainResult(
            model=self.model,
            history=self.history,
            best_epoch=self.best_epoch,
            stopped_early=self.stopped,
            message=message,
        )


def train_model(
    model: NCF,
    data: TrainingData,
    config: TrainConfig,
    *,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train ``model`` on ``data`` with ``config``; restore the epoch with the best validation loss.

    Parameters
    ----------
    model
        The model to train, in place. It is moved to ``config.device`` (``auto``: CUDA when
        available) and stays there.
    data
        Integer-coded training and validation pairs.
    config
        ``batch_size``, ``epochs``, ``learning_rate``, ``seed`` (batch order and negative
        sampling), ``objective``/``negatives``, ``threshold``/``positive_rating`` (validation
        precision and recall) and ``device`` are used.
    on_epoch
        Called after every epoch with its :class:`EpochReport`.
    on_progress
        Called as ``on_progress(epoch, batches_done, batches_total)`` about every
        :data:`CHUNK_SECONDS` within an epoch (1-based epoch).
    should_stop
        Polled between runs of batches (at least every ~0.2 s); returning True stops training.

    Returns
    -------
    TrainResult
        The model with the best epoch's parameters (by validation loss, or training loss when
        there is no validation data), the history, and why training ended. Stopping, or a loss
        that stops being finite, ends training early with the best epoch so far restored (the
        initial parameters if no epoch finished), ``stopped_early=True`` and a ``message``.

    Raises
    ------
    RecsysError
        Empty or inconsistent data, codes outside the model's tables, targets outside [0, 1],
        or an unavailable device.
    """
    config.validate()
    data = _normalised(data)
    _check(data, model)
    device = resolve_device(config.device)
    model.to(device)
    if config.objective == "hybrid":
        model.add_rating_head()
    rng = np.random.default_rng(config.seed)
    sampler = None
    if config.objective != "rating" and config.negatives > 0:
        sampler = _NegativeSampler(data, model.n_items)
    val = _validation_samples(data, config, np.random.default_rng([config.seed, 1]), sampler)
    stepper: Stepper = make_stepper(model, config.batch_size, config.learning_rate)

    book = EpochBook(model, data, val, config, on_epoch)
    chunk = 1  # batches per kernel call, resized to about CHUNK_SECONDS as speed is measured
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        samples = epoch_samples(data, config, rng, sampler)
        n = len(samples.users)
        total = -(-n // config.batch_size)
        done, loss_sum = 0, 0.0
        train_seconds = 0.0
        while done < total:
            if should_stop is not None and should_stop():
                book.stop(f"Stopped during epoch {epoch} ({done:,} of {total:,} batches).")
                break
            last = min(total, done + chunk)
            t0 = time.perf_counter()
            chunk_loss = stepper.run(
                samples.users, samples.items, samples.targets, samples.weights, done, last
            )
            elapsed = time.perf_counter() - t0
            train_seconds += elapsed
            if not math.isfinite(chunk_loss):
                book.diverged(epoch, chunk_loss, last, total)
                break
            loss_sum += chunk_loss
            # Size the next run of batches to about CHUNK_SECONDS (the first includes compiling).
            chunk = max(1, min(total, int((last - done) * CHUNK_SECONDS / max(elapsed, 1e-6))))
            done = last
            if on_progress is not None:
                on_progress(epoch, done, total)
        if book.stopped:
            break
        stepper.sync_to_model()
        if not book.end_epoch(
            epoch, loss_sum=loss_sum, total=total, n=n, started=started, train_seconds=train_seconds
        ):
            break
    return book.result()
