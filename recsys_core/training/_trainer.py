"""The single-process trainer: the epoch loop around a :class:`~recsys_core.training._optim.Stepper`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData
from recsys_core.model import NCF
from recsys_core.training._epochs import EpochBook, EpochReport, TrainResult
from recsys_core.training._optim import Stepper, make_stepper
from recsys_core.training._sampling import EpochSamples
from recsys_core.training._setup import prepare_training_run

#: Target wall time of one kernel call: progress reports and the Stop check happen between calls.
CHUNK_SECONDS = 0.1


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
    setup = prepare_training_run(model, data, config)
    stepper = make_stepper(model, config.batch_size, config.learning_rate)
    # The best epoch's copy is taken only before the model's parameters next change: never
    # while an epoch's samples (gigabytes at full size) are being built.
    book = setup.new_book(on_epoch, lazy=True)
    pace = _Pace()
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        samples = setup.next_epoch()
        if stepper.trains_model_in_place:
            book.keep_best()
        loss_sum, total, train_seconds = _train_epoch(
            stepper, samples, config.batch_size, epoch, book, pace, on_progress, should_stop
        )
        n = len(samples.users)
        # Gigabytes at full size: not needed to judge the epoch, nor while the next one is drawn.
        del samples
        if book.stopped:
            break
        book.keep_best()
        stepper.sync_to_model()
        if not book.end_epoch(
            epoch, loss_sum=loss_sum, total=total, n=n, started=started, train_seconds=train_seconds
        ):
            break
    return book.result()


class _Pace:
    """Batches per kernel call, resized to about :data:`CHUNK_SECONDS` as speed is measured
    (kept across epochs)."""

    def __init__(self) -> None:
        self.chunk = 1

    def update(self, batches: int, elapsed: float, total: int) -> None:
        # The first call includes compiling: it only makes the next one short.
        self.chunk = max(1, min(total, int(batches * CHUNK_SECONDS / max(elapsed, 1e-6))))


def _train_epoch(
    stepper: Stepper,
    samples: EpochSamples,
    batch_size: int,
    epoch: int,
    book: EpochBook,
    pace: _Pace,
    on_progress: Callable[[int, int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[float, int, float]:
    """Train one epoch's batches in runs of ``pace.chunk``; returns ``(sum of the batches' mean
    losses, batches in the epoch, seconds spent training)``. A Stop or a diverged loss is
    recorded in ``book`` and ends the epoch early."""
    total = -(-len(samples.users) // batch_size)
    done, loss_sum, train_seconds = 0, 0.0, 0.0
    while done < total:
        if should_stop is not None and should_stop():
            book.stop(f"Stopped during epoch {epoch} ({done:,} of {total:,} batches).")
            break
        last = min(total, done + pace.chunk)
        t0 = time.perf_counter()
        chunk_loss = stepper.run(samples.users, samples.items, samples.targets, samples.weights, done, last)
        elapsed = time.perf_counter() - t0
        train_seconds += elapsed
        if not math.isfinite(chunk_loss):
            book.diverged(epoch, chunk_loss, last, total)
            break
        loss_sum += chunk_loss
        pace.update(last - done, elapsed, total)
        done = last
        if on_progress is not None:
            on_progress(epoch, done, total)
    return loss_sum, total, train_seconds
