"""One epoch's report, the training result, validation, and the bookkeeping both trainers share."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData
from recsys_core.metrics import precision_recall, roc_auc
from recsys_core.model import NCF
from recsys_core.training._head import HEAD_ROUNDS_PER_EPOCH, fit_rating_head
from recsys_core.training._sampling import EpochSamples
from recsys_core.training._snapshot import Snapshot


@dataclass
class EpochReport:
    """What one epoch did, reported through ``on_epoch`` and kept in the history.

    ``seconds`` is the whole epoch including validation; ``samples_per_second`` counts training
    samples over the training part only. ``train_seconds``, ``head_seconds``,
    ``validate_seconds`` and ``snapshot_seconds`` split the epoch's time: the optimiser's pass,
    the rating head's refit, the judge, and copying a new best epoch's parameters (0 when a part
    did not run), so a profile of a run can be read from its history. Validation metrics are
    NaN when there is no validation data, ``val_auc`` also when it holds a single class;
    precision and recall are 0 where their denominator is
    (:func:`recsys_core.metrics.precision_recall`, as the test metrics).
    """

    epoch: int
    train_loss: float
    val_loss: float
    val_precision: float
    val_recall: float
    val_auc: float
    seconds: float
    samples_per_second: float
    train_seconds: float = 0.0
    head_seconds: float = 0.0
    validate_seconds: float = 0.0
    snapshot_seconds: float = 0.0


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


def _bce(logits: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> float:
    x = logits.astype(np.float64)
    losses = np.maximum(x, 0) - x * targets + np.log1p(np.exp(-np.abs(x)))
    if len(weights):
        losses *= weights
    return float(losses.mean()) if len(losses) else math.nan


def validate(
    model: NCF, data: TrainingData, val: EpochSamples, config: TrainConfig
) -> tuple[float, float, float, float]:
    """Validation loss (of the trained score), precision, recall and ROC AUC (of the predicted
    rating: the rating head's where the model has one). All NaN without validation data; the AUC
    NaN with a single class; precision and recall 0 where undefined, as the test metrics."""
    if not len(data.val_users):
        return math.nan, math.nan, math.nan, math.nan
    head = model.has_rating_head
    logits = model.score_pairs_chunked(data.val_users, data.val_items, "rating_logits" if head else "logits")
    same_pairs = val.users is data.val_users and val.items is data.val_items and not head
    loss = _bce(
        logits if same_pairs else model.score_pairs_chunked(val.users, val.items), val.targets, val.weights
    )
    return (loss, *rating_quality(model, data, config, logits))


def rating_quality(
    model: NCF, data: TrainingData, config: TrainConfig, logits: np.ndarray | None = None
) -> tuple[float, float, float]:
    """Precision, recall and ROC AUC of the predicted rating (the rating head's where the model
    has one) on the validation pairs, as :func:`validate` reports them.

    ``logits`` are the predicted rating's logits of the validation pairs when already computed.
    All NaN without validation data.
    """
    if not len(data.val_users):
        return math.nan, math.nan, math.nan
    if logits is None:
        kind = "rating_logits" if model.has_rating_head else "logits"
        logits = model.score_pairs_chunked(data.val_users, data.val_items, kind)
    scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    actual = data.val_ratings >= config.positive_rating
    predicted = scores >= config.threshold
    precision, recall = precision_recall(actual, predicted)
    auc = roc_auc(actual, scores) if 0 < actual.sum() < len(actual) else math.nan
    return precision, recall, auc


@dataclass(frozen=True)
class Trained:
    """An epoch trained and waiting for its judgement: the sum of its batch losses over
    ``total`` batches, its ``n`` samples, when it started and the seconds the optimiser took."""

    epoch: int
    loss_sum: float
    total: int
    n: int
    started: float
    train_seconds: float


@dataclass(frozen=True)
class Measured:
    """An epoch's judgement (:meth:`EpochBook.measure`): the judge's ``(val_loss, precision,
    recall, auc)`` and the seconds the rating head and the judge took."""

    figures: tuple[float, float, float, float]
    head_seconds: float
    validate_seconds: float


#: ``judge() -> (val_loss, precision, recall, auc)``: an epoch's validation figures, lower
#: ``val_loss`` better (:func:`validate` by default).
Judge = Callable[[], tuple[float, float, float, float]]


class EpochBook:
    """The bookkeeping the trainers share (this package's, the softmax one's and
    :mod:`recsys_core.training._distributed`'s): the history, the best epoch by validation loss (training
    loss without a validation split), why training stopped, and restoring the best epoch at the end.

    ``judge`` replaces :func:`validate` (the softmax trainer judges epochs by ``1 - validation
    NDCG@10``); ``criterion`` names what it measures in the messages.

    ``lazy=True`` copies the best parameters out of the model only when :meth:`keep_best` is
    called, which the trainer does right before the model's parameters next change: until then
    the model itself holds them. So no snapshot (a copy of every table) is alive while the next
    epoch's samples are built, and for one epoch none is taken at all. The trainer must call
    :meth:`keep_best` before anything changes the model.
    """

    def __init__(
        self,
        model: NCF,
        data: TrainingData,
        val: EpochSamples,
        config: TrainConfig,
        on_epoch: Callable[[EpochReport], None] | None,
        *,
        judge: Judge | None = None,
        criterion: str = "loss",
        lazy: bool = False,
    ):
        self.model, self.data, self.val, self.config, self.on_epoch = model, data, val, config, on_epoch
        self.judge = judge or (lambda: validate(model, data, val, config))
        self.criterion = criterion
        self.history: list[EpochReport] = []
        self.lazy = lazy
        # With ``lazy``, ``pending`` says the model itself holds the best parameters (at first
        # its initial ones) and ``best`` is not yet (or no longer) their copy.
        self.pending = lazy
        # Large tables' copy lies on disk (Snapshot): it is read back only if a later epoch is worse.
        self.best = Snapshot()
        if not lazy:
            self.best.take(model)
        self.best_epoch, self.best_loss = 0, math.inf
        self.message = ""
        self.stopped = False

    def keep_best(self) -> None:
        """Copy the best parameters out of the model, if only the model holds them (``lazy``):
        call before the model's parameters change."""
        if self.pending:
            self.best.take(self.model)
            self.pending = False

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
        return self.record(Trained(epoch, loss_sum, total, n, started, train_seconds), self.measure())

    def measure(self, model: NCF | None = None) -> Measured:
        """Fit the rating head of ``model`` (default: the book's) and judge it: the first half
        of :meth:`end_epoch`, which touches nothing but that head and the judge, so it may run on
        another thread on a copy of the tables while the trainer goes on (the judge must then
        read that copy too, :mod:`recsys_core.training._judging`)."""
        model, data = model or self.model, self.data
        t0 = time.perf_counter()
        if model.has_rating_head:
            # Warm-started from the last epoch's head, a few rounds track the slowly moving
            # embeddings; the validation metrics below then judge the head that would be kept.
            fit_rating_head(model, data.users, data.items, data.targets, max_rounds=HEAD_ROUNDS_PER_EPOCH)
        t1 = time.perf_counter()
        figures = self.judge()
        return Measured(figures, head_seconds=t1 - t0, validate_seconds=time.perf_counter() - t1)

    def record(self, trained: Trained, measured: Measured, model: NCF | None = None) -> bool:
        """Record an epoch :meth:`measure` judged, keep it if best (copied from ``model``, by
        default the book's), report it; ``False`` when training must stop (the judge's figure
        is not finite)."""
        model, data, config = model or self.model, self.data, self.config
        epoch, train_seconds = trained.epoch, trained.train_seconds
        val_loss, precision, recall, auc = measured.figures
        t2 = time.perf_counter()
        report = EpochReport(
            epoch=epoch,
            train_loss=trained.loss_sum / trained.total,
            val_loss=val_loss,
            val_precision=precision,
            val_recall=recall,
            val_auc=auc,
            seconds=0.0,
            samples_per_second=trained.n / train_seconds if train_seconds > 0 else math.nan,
            train_seconds=train_seconds,
            head_seconds=measured.head_seconds,
            validate_seconds=measured.validate_seconds,
        )
        self.history.append(report)
        key = val_loss if len(data.val_users) else report.train_loss
        if key < self.best_loss:
            self.best_loss, self.best_epoch = key, epoch
            if self.lazy:
                self.pending = True
            else:
                self.best.take(model)
        report.snapshot_seconds = time.perf_counter() - t2
        report.seconds = time.perf_counter() - trained.started
        if self.on_epoch is not None:
            self.on_epoch(report)
        if not math.isfinite(key):
            which = f"validation {self.criterion}" if len(data.val_users) else "training loss"
            self.stop(
                f"Training diverged in epoch {epoch}: the {which} is not finite. "
                f"Try a smaller learning rate (now {config.learning_rate:g})."
            )
            return False
        return True

    def result(self, into: NCF | None = None) -> TrainResult:
        """The best epoch restored into the model, with the history and the stop message.

        ``into``: restore it into this model instead (one that was trained on while copies of it
        were judged: it holds none of the recorded epochs), whatever the last epoch was.
        """
        message = self.message
        if self.stopped:
            by = f"validation {self.criterion}" if len(self.data.val_users) else "training loss"
            kept = (
                f"Kept epoch {self.best_epoch} (the best {by} so far)."
                if self.best_epoch
                else "No epoch finished, so the model keeps its initial parameters."
            )
            message = f"{message} {kept}"
        target = self.model if into is None else into
        last = self.history[-1].epoch if self.history else 0
        restore = into is not None or self.best_epoch != last or self.stopped
        if restore and not self.pending and self.best.taken:
            self.best.restore(target)
        self.best.close()
        return TrainResult(
            model=target,
            history=self.history,
            best_epoch=self.best_epoch,
            stopped_early=self.stopped,
            message=message,
        )
