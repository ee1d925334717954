"""The ``softmax`` objective: the NCF trained with a softmax over the whole catalogue.

For a user ``u`` the model's scores ``<p_u, q_i> + b_i`` over all ``n_items`` products become a
probability of picking each one, and training maximises the log-probability of the products the
user rated in the training split (the multinomial likelihood of Mult-VAE, Liang et al. 2018,
with a free user embedding instead of an encoder). Every rated product is pushed up against
*every* unrated one at once, where the ``ranking`` objective sees a few sampled ones: that is
what closes the gap to EASE and iALS (docs/objectives.md, "Toward the classic baselines").

One step takes a batch of users, scores them against the catalogue (a ``batch x n_items``
matrix product) and lets autograd do the rest; above :data:`FULL_SOFTMAX_MAX_ITEMS` products
each batch scores a shared uniform sample of :data:`SAMPLED_ITEMS` products plus the batch's
own positives instead (a sampled softmax: uniform draws need no correction). Item parameters
take dense Adam steps; a user row is touched only by its own batch, so user rows take lazy Adam
steps (only the batch's rows move, as in :mod:`recsys_core.training._optim`). An L2 penalty on the rows
a step touches keeps rarely seen users and products small.

After every epoch the epoch is judged as the test split will be: NDCG@10 of the validation
products among all products the user did not rate in training; the best epoch is kept
(:class:`~recsys_core.training.EpochBook` with that judge). The rating head
(:func:`~recsys_core.training.fit_rating_head`) is fitted to the observed ratings, so the run
still predicts ratings, exactly as with ``hybrid``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData
from recsys_core.metrics import RANKING_MAX_USERS
from recsys_core.model import NCF, SOFTMAX_L2
from recsys_core.topn import build_seen_matrix
from recsys_core.training._epochs import EpochBook, EpochReport, TrainResult, rating_quality
from recsys_core.training._setup import prepare_training_run, resolve_device
from recsys_core.training._threads import one_torch_thread
from recsys_core.training._val_ndcg import ValidationRanker

#: Above this many products a step scores a sample of the catalogue, not all of it.
FULL_SOFTMAX_MAX_ITEMS = 50_000
#: Products scored per step of the sampled softmax (shared by the batch's users).
SAMPLED_ITEMS = 8_192
#: Longest wait between two progress reports within an epoch (a bar that moves, at no cost).
PROGRESS_SECONDS = 0.25
#: Epochs without a better validation NDCG@10 before training stops. Validation NDCG@10 rises to
#: one peak and falls (the softmax overfits): on the dense Amazon sample and the demo data at 30k,
#: 100k and 300k ratings the best epoch (10, 7, 6, 6) was already the best 3 epochs later, so the
#: 8 epochs that used to follow it (more than half of every run) changed nothing.
PATIENCE = 3
BETAS = (0.9, 0.999)
EPS = 1e-8


class _LazyRows:
    """Adam on the rows of one table that a step touched (the others keep parameter and moments).

    :func:`recsys_core.training._optim.lazy_adam_update`'s formulas, in the order this trainer was tuned
    with (a different rounding order would change the trained numbers in the last bits).
    """

    def __init__(self, table: torch.Tensor, lr: float):
        self.table, self.lr, self.step = table, lr, 0
        self.m = torch.zeros_like(table)
        self.v = torch.zeros_like(table)

    @torch.no_grad()
    def update(self, rows: torch.Tensor, grad: torch.Tensor) -> None:
        self.step += 1
        b1, b2 = BETAS
        m = self.m[rows].lerp_(grad, 1.0 - b1)
        v = self.v[rows].mul_(b2).addcmul_(grad, grad, value=1.0 - b2)
        self.m[rows], self.v[rows] = m, v
        denom = (v.sqrt() / math.sqrt(1.0 - b2**self.step)).add_(EPS)
        self.table[rows] -= self.lr / (1.0 - b1**self.step) * m / denom


class _DenseAdam:
    """``torch.optim.Adam`` (its single-tensor update, the default on CPU) on whole tensors,
    step for step the same numbers, without ``torch.optim``'s machinery: building one imports
    ``torch._dynamo`` (about a second of every run's start) and each step pays its bookkeeping."""

    def __init__(self, params: list[torch.Tensor], lr: float):
        self.params, self.lr, self.step = params, lr, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def update(self) -> None:
        """One step from the parameters' ``.grad``, which it then clears."""
        self.step += 1
        b1, b2 = BETAS
        # torch keeps the step as a float32 tensor and reads it back as a Python float.
        step = float(self.step)
        step_size = self.lr / (1 - b1**step)
        bias_correction2_sqrt = (1 - b2**step) ** 0.5
        for param, m, v in zip(self.params, self.m, self.v, strict=True):
            grad = param.grad
            m.lerp_(grad, 1 - b1)
            v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(EPS)
            param.addcdiv_(m, denom, value=-step_size)
            param.grad = None


def _batch_loss(
    model: NCF, rows: sp.csr_matrix, users: torch.Tensor, p: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    """Mean negative log-likelihood of the batch's training products, plus the L2 penalty."""
    device = p.device
    q, b = model.item_embedding.weight, model.item_bias.weight[:, 0]
    block = rows[users.cpu().numpy()]
    if model.n_items <= FULL_SOFTMAX_MAX_ITEMS:
        target = torch.as_tensor(block.toarray(), device=device)
    else:
        sampled = torch.randint(0, model.n_items, (SAMPLED_ITEMS,), generator=gen).numpy()
        columns = np.union1d(sampled, block.indices)
        position = np.searchsorted(columns, block.indices)
        target = torch.zeros((len(users), len(columns)), device=device)
        r = np.repeat(np.arange(len(users)), np.diff(block.indptr))
        target[torch.as_tensor(r, device=device), torch.as_tensor(position, device=device)] = 1.0
        on_device = torch.as_tensor(columns, device=device)
        q, b = q[on_device], b[on_device]
    logits = p @ q.T + b
    nll = -(target * torch.log_softmax(logits, dim=1)).sum() / len(users)
    share = len(users) / model.n_users
    penalty = (p * p).sum() + share * ((q * q).sum() + (b * b).sum())
    return nll + SOFTMAX_L2 * penalty / len(users)


class _Steps:
    """The optimisers and the rows of one run: one :meth:`epoch` is a pass over the users."""

    def __init__(self, model: NCF, data: TrainingData, config: TrainConfig, gen: torch.Generator):
        self.model, self.config, self.gen = model, config, gen
        # Training pairs as a users x items CSR of ones (duplicates from oversampling count once).
        self.rows = build_seen_matrix(data.users, data.items, model.n_users, model.n_items).astype(np.float32)
        device = model.device
        self.active = torch.as_tensor(np.flatnonzero(np.diff(self.rows.indptr)), device=device)
        self.users_adam = _LazyRows(model.user_embedding.weight.data, config.learning_rate)
        self.items_adam = _DenseAdam(
            [model.item_embedding.weight, model.item_bias.weight], config.learning_rate
        )

    def epoch(
        self,
        epoch: int,
        should_stop: Callable[[], bool] | None,
        on_progress: Callable[[int, int, int], None] | None = None,
    ) -> tuple[float, int, bool]:
        """One pass over the users in a fresh order: ``(sum of batch losses, batches, stopped)``.
        ``on_progress(epoch, batches_done, batches_total)`` is called at most every
        :data:`PROGRESS_SECONDS` and after the last batch, so a bar moves within an epoch."""
        model, batch_size = self.model, self.config.batch_size
        order = self.active[torch.randperm(len(self.active), generator=self.gen).to(model.device)]
        total, batches = 0.0, 0
        count = -(-len(order) // batch_size)
        reported = time.perf_counter()
        table = model.user_embedding.weight
        for lo in range(0, len(order), batch_size):
            if should_stop is not None and should_stop():
                return total, batches, True
            users = order[lo : lo + batch_size]
            p = table.detach()[users].clone().requires_grad_(True)
            loss = _batch_loss(model, self.rows, users, p, self.gen)
            loss.backward()
            self.items_adam.update()
            self.users_adam.update(users, p.grad)
            total += float(loss.detach())
            batches += 1
            now = time.perf_counter()
            if on_progress is not None and (batches == count or now - reported >= PROGRESS_SECONDS):
                on_progress(epoch, batches, count)
                reported = now
        return total, batches, False


def _ndcg_judge(
    model: NCF, data: TrainingData, config: TrainConfig
) -> Callable[[], tuple[float, float, float, float]]:
    """``1 - validation NDCG@10`` (ranked among the products unrated in training, as test ranks
    among the unseen ones) and the rating head's precision, recall and ROC AUC."""
    # Users, held-out products and histories are prepared once for every epoch; as for the test
    # metrics, at most RANKING_MAX_USERS users are ranked.
    ranker = ValidationRanker(
        (data.users, data.items),
        (data.val_users, data.val_items),
        model.n_users,
        model.n_items,
        max_users=RANKING_MAX_USERS,
        seed=config.seed,
    )

    @torch.no_grad()
    def judge() -> tuple[float, float, float, float]:
        if not len(data.val_users):
            return math.nan, math.nan, math.nan, math.nan
        ndcg = ranker.ndcg(model)[0.0]
        return (1.0 - ndcg, *rating_quality(model, data, config))

    return judge


def train_softmax(
    model: NCF,
    data: TrainingData,
    config: TrainConfig,
    *,
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train ``model`` with the full-catalogue softmax; keep the epoch with the best validation
    NDCG@10. The signature, checks and result are :func:`~recsys_core.training.train_model`'s.

    ``EpochReport.val_loss`` holds ``1 - validation NDCG@10`` (lower is better, as for a loss),
    so the history's chart and best epoch read as with the other objectives. Training stops
    after :data:`PATIENCE` epochs without a better one. The same seed gives the same model.
    On CPU it runs on one torch thread (:func:`~recsys_core.training._threads.one_torch_thread`).
    """
    with one_torch_thread(resolve_device(config.device)):
        return _train(model, data, config, on_epoch, on_progress, should_stop)


def _train(
    model: NCF,
    data: TrainingData,
    config: TrainConfig,
    on_epoch: Callable[[EpochReport], None] | None,
    on_progress: Callable[[int, int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> TrainResult:
    setup = prepare_training_run(model, data, config)
    data = setup.data
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    with torch.no_grad():
        model.user_bias.weight.zero_()  # a per-user constant cancels in the softmax
    steps = _Steps(model, data, config, gen)
    book = EpochBook(
        model, data, setup.val, config, on_epoch, judge=_ndcg_judge(model, data, config), criterion="NDCG@10"
    )
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        loss_sum, batches, stopped = steps.epoch(epoch, should_stop, on_progress)
        if stopped:
            book.stop(f"Stopped during epoch {epoch}.")
            break
        train_seconds = time.perf_counter() - started
        if not math.isfinite(loss_sum):
            book.stop(f"Training diverged in epoch {epoch}: the loss is not finite.")
            break
        total = max(batches, 1)
        n = len(data.users)
        if not book.end_epoch(
            epoch, loss_sum=loss_sum, total=total, n=n, started=started, train_seconds=train_seconds
        ):
            break
        if epoch - book.best_epoch >= PATIENCE:
            book.message = f"No better validation NDCG@10 for {PATIENCE} epochs: stopped after epoch {epoch}."
            break
    return book.result()
