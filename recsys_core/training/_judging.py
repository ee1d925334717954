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
from dataclasses import dataclass
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


@dataclass(eq=False)
class _Judgement:
    """A trained epoch's judgement: its shadow, the job, the job's future on the second core, and
    whether the trainer took it over (``here``)."""

    trained: Trained
    shadow: NCF
    job: Callable[[], Measured]
    future: Future[Measured]
    here: bool = False


class EpochJudging:
    """Hands each trained epoch to the book and says whether training goes on.

    In the background two shadows take turns: the epoch just trained is copied into the one
    whose judgement is recorded, while the other may still be judged. Judgements run in order
    on that core, each warm-starting its rating head from the one before, and are recorded in
    order; once one ends training, the ones after it are dropped, as sequential training would
    never have trained those epochs. When the trainer needs a shadow whose judgement the second
    core has not started (it is still building the blend's similarity: 0.2-0.6 s on the demo
    data, 1.2 s on the dense Amazon sample), the trainer runs the waiting judgements itself
    instead of idling.

    Parameters
    ----------
    model
        The model being trained.
    book
        The run's book (``lazy=False``: it copies each best epoch out of the model it is given).
    verdict
        ``verdict(epoch, judged) -> go on?``, called right after the epoch judged on the model
        ``judged`` is recorded (patience, a clear drop); it may set ``book.message``.
    aim
        ``aim(shadow)`` points the book's judge at the shadow about to be judged; ``None``
        judges ``model`` itself at once (no background).
    """

    def __init__(
        self,
        model: NCF,
        book: EpochBook,
        verdict: Callable[[int, NCF], bool],
        aim: Callable[[NCF], None] | None = None,
    ):
        self.model, self.book, self.verdict, self.aim = model, book, verdict, aim
        self.background = aim is not None
        # The process's second core: after the blend's similarity, if it is still being built.
        self.lane = second_core() if self.background else None
        self.shadows = [shadow_of(model), shadow_of(model)] if self.background else []
        self.turn = 0
        self.last: NCF | None = None  # the shadow judged last: the next one's head starts there
        self.pending: list[_Judgement] = []
        self.over = False

    def hand_in(self, trained: Trained) -> bool:
        """Judge the epoch just trained: now, or (in the background) on a copy of its tables;
        ``False`` when training must stop now."""
        if self.lane is None:
            return self._record(trained, self.model, self.book.measure())
        shadow = self.shadows[self.turn]
        self.turn = 1 - self.turn
        # The shadow's last judgement is recorded (a best epoch copied out) before it changes,
        # and the judgements taken over run before a new one goes to the second core, which
        # would otherwise start it ahead of them.
        while any(j.shadow is shadow or j.here for j in self.pending):
            if not self._settle_first():
                return False
        if self.over:
            return False
        copy_tables(self.model, shadow)
        previous, self.last = self.last, shadow
        job = partial(self._measure, shadow, previous)
        self.pending.append(_Judgement(trained, shadow, job, self.lane.submit(job)))
        return True

    def _measure(self, shadow: NCF, previous: NCF | None) -> Measured:
        """The rating head warm-started from the last epoch's, then judged (on the second core,
        or on the trainer's when it took the judgement over)."""
        if previous is not None:
            copy_head(previous, shadow)
        if self.aim is not None:  # always, in the background
            self.aim(shadow)
        return self.book.measure(shadow)

    def settle(self, *, wait: bool) -> bool:
        """Record the judgements that are in, in order (``wait``: every one, once it is);
        ``False`` once a judgement has ended training."""
        while self.pending and not self.over and (wait or self.pending[0].future.done()):
            self._settle_first()
        return not self.over

    def _settle_first(self) -> bool:
        """Record the oldest judgement, waiting for it; one the second core has not started
        (still building the blend's similarity, say) is taken over rather than waited for."""
        first = self.pending[0]
        if not (first.future.running() or first.future.done()):
            self._take_over()
        self.pending.pop(0)
        measured = first.job() if first.here else first.future.result()
        return self._record(first.trained, first.shadow, measured)

    def _take_over(self) -> None:
        """Withdraw every judgement the second core has not started; the trainer runs them, in
        order, after any that has. Newest first: the core takes them oldest first, so it never
        starts one behind another that was withdrawn (they share the judge and the heads)."""
        for judgement in reversed(self.pending):
            if judgement.future.cancel():
                judgement.here = True

    def stop_requested(self, should_stop: Callable[[], bool] | None) -> Callable[[], bool]:
        """The trainer's between-steps check: the user's Stop, or a judgement that ended
        training (the epoch under way is then dropped)."""

        def check() -> bool:
            return not self.settle(wait=False) or (should_stop is not None and should_stop())

        return check

    def _record(self, trained: Trained, model: NCF, measured: Measured) -> bool:
        go_on = self.book.record(trained, measured, model) and self.verdict(trained.epoch, model)
        self.over = not go_on
        if self.over:
            self.close()  # the epochs after this one are dropped
        return go_on

    def close(self) -> None:
        """Drop the judgements not yet recorded (waiting for one that has started: it writes a
        shadow's rating head)."""
        pending, self.pending = self.pending, []
        wait_all([j.future for j in pending if not j.future.cancel()])

    def finish(self) -> TrainResult:
        """The last judgements recorded, the best epoch restored; the model holds it."""
        try:
            self.settle(wait=True)
        finally:
            self.close()
        return self.book.result(into=self.model if self.background else None)
