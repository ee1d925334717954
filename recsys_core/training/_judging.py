"""Judging a trained epoch: at once, or on the other core while the next epoch trains.

After each epoch of the softmax recipe the rating head is refitted and the epoch is judged on
validation (:meth:`~recsys_core.training.EpochBook.measure`): on the demo data 0.07 s after 0.09 s
of training, at the seed's shape 0.55 s after 5 s. That judgement reads the tables and writes
only the rating head, so it can run on a copy of them (the *shadow*) while the trainer goes on
with the next epoch on the other core: the judge's matrix products, top-k selections and numpy
passes release the GIL.

Two shadows take turns (:class:`EpochJudging`); each keeps its tables until its judgement is
recorded, and the rating head is warm-started from the previous judgement's, as when judging in
place. The book copies each best epoch out of the shadow it was judged on, and at the end the
best epoch is restored into the trained model. A judgement that ends training (no better epoch
for a while, a clear drop, a non-finite figure) stops the epoch being trained at its next step,
and the epochs after it are dropped. So the model, the history's figures and the messages are
those of judging each epoch before training the next, to the bit (tests); only the history's
seconds differ.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_all
from functools import partial

import torch

from recsys_core.data.ratings import cpu_count
from recsys_core.model import NCF, second_core
from recsys_core.training._epochs import EpochBook, Measured, Trained, TrainResult

#: Largest model (every parameter, bytes) judged in the background, which holds two more copies
#: of it (and the best epoch's, as judging in place does): 36 MB at the seed's shape; above it
#: (the full Amazon size: 1.2 GB) memory counts for more than the judgement's share of an epoch.
BACKGROUND_MAX_BYTES = 128 << 20


def model_bytes(model: NCF) -> int:
    """Bytes of every parameter of ``model`` (one copy of it)."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


def judge_in_background(model: NCF) -> bool:
    """Whether epochs of ``model`` are judged on another core: a CPU model of at most
    :data:`BACKGROUND_MAX_BYTES`, on a machine with a second core."""
    return model.device.type == "cpu" and model_bytes(model) <= BACKGROUND_MAX_BYTES and cpu_count() >= 2


def shadow_of(model: NCF) -> NCF:
    """A copy of ``model`` for the judge to read while ``model`` trains on."""
    return copy.deepcopy(model)


#: The tables the trainer changes; the shadows' rating head is the judge's own (its warm start).
TABLES = ("user_embedding", "item_embedding", "user_bias", "item_bias")
#: The rating head's parameters (:meth:`~recsys_core.model.NCF.add_rating_head`).
HEAD = ("rating_user_bias", "rating_item_bias", "rating_scale")


@torch.no_grad()
def copy_tables(source: NCF, target: NCF) -> None:
    """Copy ``source``'s embeddings and biases into ``target`` (the rating head stays)."""
    for name in TABLES:
        getattr(target, name).weight.copy_(getattr(source, name).weight)


@torch.no_grad()
def copy_head(source: NCF, target: NCF) -> None:
    """Copy ``source``'s rating head into ``target`` (its warm start)."""
    for name in HEAD:
        getattr(target, name).copy_(getattr(source, name))


class EpochJudging:
    """Hands each trained epoch to the book and says whether training goes on.

    In the background two shadows take turns: the epoch just trained is copied into the one
    whose judgement is recorded, while the other may still be judged (the first judgement
    waits on the second core behind the blend's similarity, 0.2 s on the demo data, and the
    trainer goes on meanwhile). Judgements run in order on that core, each warm-starting its
    rating head from the one before, and are recorded in order; once one ends training, the
    ones after it are dropped, as sequential training would never have trained those epochs.

    Parameters
    ----------
    model
        The model being trained.
    book
        The run's book (``lazy=False``: it copies each best epoch out of the model it is given).
    verdict
        ``verdict(epoch) -> go on?``, called right after the epoch is recorded (patience, a
        clear drop); it may set ``book.message``.
    aim
        ``aim(shadow)`` points the book's judge at the shadow about to be judged; ``None``
        judges ``model`` itself at once (no background).
    """

    def __init__(
        self,
        model: NCF,
        book: EpochBook,
        verdict: Callable[[int], bool],
        aim: Callable[[NCF], None] | None = None,
    ):
        self.model, self.book, self.verdict, self.aim = model, book, verdict, aim
        self.background = aim is not None
        # The process's second core: after the blend's similarity, if it is still being built.
        self.lane = second_core() if self.background else None
        self.shadows = [shadow_of(model), shadow_of(model)] if self.background else []
        self.turn = 0
        self.last: NCF | None = None  # the shadow judged last: the next one's head starts there
        self.pending: list[tuple[Trained, NCF, Future[Measured]]] = []
        self.over = False

    def hand_in(self, trained: Trained) -> bool:
        """Judge the epoch just trained: now, or (in the background) on a copy of its tables;
        ``False`` when training must stop now."""
        if self.lane is None:
            return self._record(trained, self.model, self.book.measure())
        shadow = self.shadows[self.turn]
        self.turn = 1 - self.turn
        # The shadow's last judgement is recorded (a best epoch copied out) before it changes.
        while any(s is shadow for _, s, _ in self.pending):
            if not self._settle_first():
                return False
        if self.over:
            return False
        copy_tables(self.model, shadow)
        previous, self.last = self.last, shadow
        self.pending.append((trained, shadow, self.lane.submit(partial(self._measure, shadow, previous))))
        return True

    def _measure(self, shadow: NCF, previous: NCF | None) -> Measured:
        """On the second core: the rating head warm-started from the last epoch's, then judged."""
        if previous is not None:
            copy_head(previous, shadow)
        if self.aim is not None:  # always, in the background
            self.aim(shadow)
        return self.book.measure(shadow)

    def settle(self, *, wait: bool) -> bool:
        """Record the judgements that are in, in order (``wait``: every one, once it is);
        ``False`` once a judgement has ended training."""
        while self.pending and not self.over and (wait or self.pending[0][2].done()):
            self._settle_first()
        return not self.over

    def _settle_first(self) -> bool:
        trained, shadow, future = self.pending.pop(0)
        return self._record(trained, shadow, future.result())

    def stop_requested(self, should_stop: Callable[[], bool] | None) -> Callable[[], bool]:
        """The trainer's between-steps check: the user's Stop, or a judgement that ended
        training (the epoch under way is then dropped)."""

        def check() -> bool:
            return not self.settle(wait=False) or (should_stop is not None and should_stop())

        return check

    def _record(self, trained: Trained, model: NCF, measured: Measured) -> bool:
        go_on = self.book.record(trained, measured, model) and self.verdict(trained.epoch)
        self.over = not go_on
        if self.over:
            self.close()  # the epochs after this one are dropped
        return go_on

    def close(self) -> None:
        """Drop the judgements not yet recorded (waiting for one that has started: it writes a
        shadow's rating head)."""
        pending, self.pending = self.pending, []
        futures = [future for _, _, future in pending if not future.cancel()]
        wait_all(futures)

    def finish(self) -> TrainResult:
        """The last judgements recorded, the best epoch restored; the model holds it."""
        try:
            self.settle(wait=True)
        finally:
            self.close()
        return self.book.result(into=self.model if self.background else None)
