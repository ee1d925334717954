"""The ``softmax`` objective: the NCF trained with a softmax over the whole catalogue.

For a user ``u`` the model's scores ``<p_u, q_i> + b_i`` over all ``n_items`` products become a
probability of picking each one, and training maximises the log-probability of the products the
user rated in the training split (the multinomial likelihood of Mult-VAE, Liang et al. 2018,
with a free user embedding instead of an encoder). Every rated product is pushed up against
*every* unrated one at once, where the ``ranking`` objective sees a few sampled ones: that is
what closes the gap to EASE and iALS (docs/objectives.md, "Toward the classic baselines").

One step takes a batch of users, scores them against the catalogue (a ``batch x n_items``
matrix product) and applies the loss's gradients, written out (:func:`batch_gradients`); above
:data:`FULL_SOFTMAX_MAX_ITEMS` products each batch scores a shared uniform sample of
:data:`SAMPLED_ITEMS` products plus the batch's own positives instead (a sampled softmax:
uniform draws need no correction). Each rated product's term is weighted by its rating class's
multiplier (``TrainingData.weights``; 1 without one). Item parameters take dense Adam steps on
the whole catalogue, lazy ones on the drawn products of a sampled step; a user row is touched
only by its own batch, so user rows take lazy Adam steps (only the batch's rows move, as in
:mod:`recsys_core.training._optim`). An L2 penalty on the rows a step touches keeps rarely seen
users and products small.

After every epoch the epoch is judged as the test split will be: NDCG@10 of the validation
products among all products the user did not rate in training; the best epoch is kept
(:class:`~recsys_core.training.EpochBook` with that judge); training stops after
:data:`PATIENCE` epochs without a better one, or at the first clearly worse one. The rating head
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
from recsys_core.model import NCF, SOFTMAX_L2, one_torch_thread
from recsys_core.training._epochs import EpochBook, EpochReport, Trained, TrainResult, rating_quality
from recsys_core.training._judging import EpochJudging, judge_in_background
from recsys_core.training._setup import prepare_training_run, resolve_device
from recsys_core.training._softmax_sizes import FULL_SOFTMAX_MAX_ITEMS, SAMPLED_ITEMS, judged_users
from recsys_core.training._val_ndcg import ValidationRanker

#: Longest wait between two progress reports within an epoch (a bar that moves, at no cost).
PROGRESS_SECONDS = 0.25
#: Epochs without a better validation NDCG@10 before training stops. Validation NDCG@10 rises to
#: one peak and falls (the softmax overfits): on the dense Amazon sample and the demo data at 30k,
#: 100k and 300k ratings the best epoch (10, 7, 6, 6) was already the best 3 epochs later, so the
#: 8 epochs that used to follow it (more than half of every run) changed nothing.
PATIENCE = 3
#: Standard errors (of the paired per-customer difference) by which an epoch's validation NDCG@10
#: must fall below the best epoch's to stop before PATIENCE: past the peak the softmax overfits
#: steadily (demo data: 0.1154 at epoch 6, then 0.1137, 0.1086, 0.1028; the seed's shape: 0.0374
#: at epoch 2, then 0.0292), so a drop this clear is the peak passed, not noise. At 2.5 a
#: one-sided false alarm has a chance of under 1 % per epoch.
CLEAR_DROP = 2.5
BETAS = (0.9, 0.999)
EPS = 1e-8


class _LazyRows:
    """Adam on the rows of one table that a step touched (the others keep parameter and moments).

    :func:`recsys_core.training._optim.lazy_adam_update`'s formulas. ``fused``: one pass of the numba
    kernel :func:`~recsys_core.training._adam_kernel.adam_rows` (CPU tables), where the torch ops
    gather, update and scatter each of the three tables in turn; a sampled step moves thousands
    of product rows, which made the update a third of the step. Without it (small catalogues,
    GPUs) the torch ops, in the order this trainer was first tuned with: importing numba would
    cost a small run more than it saves.
    """

    def __init__(self, table: torch.Tensor, lr: float, fused: bool = False):
        self.table, self.lr, self.step = table, lr, 0
        self.m = torch.zeros_like(table)
        self.v = torch.zeros_like(table)
        self.kernel: Callable[..., None] | None = None
        if fused:
            from recsys_core.training._adam_kernel import adam_rows  # numba: import only when used

            self.kernel = adam_rows

    @torch.no_grad()
    def update(self, rows: torch.Tensor, grad: torch.Tensor) -> None:
        self.step += 1
        b1, b2 = BETAS
        if self.kernel is not None:
            self.kernel(
                self.table.numpy(),
                self.m.numpy(),
                self.v.numpy(),
                rows.numpy(),
                grad.contiguous().numpy(),
                np.float32(self.lr / (1.0 - b1**self.step)),
                np.float32(math.sqrt(1.0 - b2**self.step)),
            )
            return
        # index_select / index_copy_: the same numbers as indexing with ``rows``, several times
        # faster on CPU (the sampled softmax moves thousands of item rows per step).
        m = self.m.index_select(0, rows).lerp_(grad, 1.0 - b1)
        v = self.v.index_select(0, rows).mul_(b2).addcmul_(grad, grad, value=1.0 - b2)
        self.m.index_copy_(0, rows, m)
        self.v.index_copy_(0, rows, v)
        denom = (v.sqrt() / math.sqrt(1.0 - b2**self.step)).add_(EPS)
        step = self.lr / (1.0 - b1**self.step) * m / denom
        self.table.index_copy_(0, rows, self.table.index_select(0, rows) - step)


class _DenseAdam:
    """``torch.optim.Adam`` (its single-tensor update, the default on CPU) on whole tensors,
    step for step the same numbers, without ``torch.optim``'s machinery: building one imports
    ``torch._dynamo`` (about a second of every run's start) and each step pays its bookkeeping."""

    def __init__(self, params: list[torch.Tensor], lr: float):
        self.params, self.lr, self.step = params, lr, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def update(self, grads: list[torch.Tensor] | None = None) -> None:
        """One step from ``grads`` (default: the parameters' ``.grad``, which it then clears)."""
        self.step += 1
        b1, b2 = BETAS
        # torch keeps the step as a float32 tensor and reads it back as a Python float.
        step = float(self.step)
        step_size = self.lr / (1 - b1**step)
        bias_correction2_sqrt = (1 - b2**step) ** 0.5
        grads = [param.grad for param in self.params] if grads is None else grads
        for param, m, v, grad in zip(self.params, self.m, self.v, grads, strict=True):
            m.lerp_(grad, 1 - b1)
            v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(EPS)
            param.addcdiv_(m, denom, value=-step_size)
            param.grad = None


def batch_gradients(
    p: torch.Tensor,
    q: torch.Tensor,
    b: torch.Tensor,
    target: torch.Tensor,
    share: float,
    n: int | None = None,
) -> tuple[float, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The batch's loss and its gradients, written out (no autograd: at a few dozen customers per step
    autograd's bookkeeping cost more than the arithmetic).

    The loss is ``-sum(target * log_softmax(p q^T + b)) / B`` (``target`` holds each rated
    product's weight, its class multiplier) plus ``SOFTMAX_L2 * (|p|^2 + share * (|q|^2 +
    |b|^2)) / B``, ``B = n`` (default ``len(p)``); the items' share of the penalty is the batch's
    share of the customers, so that one epoch charges every product's penalty once. Given one
    slice of a batch of ``n`` customers and the slice's own ``share``, it returns the slice's
    part: the slices' losses and item gradients sum to the whole batch's (a distributed step).

    Returns
    -------
    loss, grad_p, grad_q, grad_b
    """
    n = len(p) if n is None else n
    logits = torch.addmm(b, p, q.T)
    log_probs = torch.log_softmax(logits, dim=1)
    # Dot products: one pass each, where ``(target * log_probs).sum()`` writes a batch-sized temporary.
    nll = -float(torch.dot(target.reshape(-1), log_probs.view(-1))) / n
    penalty = _squares(p) + share * (_squares(q) + _squares(b))
    # d nll / d logits = (softmax * sum(target) - target) / B, row by row.
    grad_logits = log_probs.exp_().mul_(target.sum(1, keepdim=True)).sub_(target).div_(n)
    decay = 2.0 * SOFTMAX_L2 / n
    grad_p = torch.addmm(p, grad_logits, q, beta=decay)
    grad_q = torch.addmm(q, grad_logits.T, p, beta=decay * share)
    grad_b = grad_logits.sum(0).add_(b, alpha=decay * share)
    return nll + SOFTMAX_L2 * penalty / n, grad_p, grad_q, grad_b


def _squares(x: torch.Tensor) -> float:
    """The sum of the squares of ``x``'s entries."""
    flat = x.reshape(-1)
    return float(torch.dot(flat, flat))


class SoftmaxSteps:
    """The optimisers and the rows of one run: one :meth:`epoch` is a pass over the users.

    :mod:`recsys_core.training._distributed` subclasses it to share every batch among the processes
    of a ``torchrun`` job (:meth:`shard`, :meth:`reduce`, :meth:`epoch`).
    """

    def __init__(self, model: NCF, data: TrainingData, config: TrainConfig, gen: torch.Generator):
        self.model, self.config, self.gen = model, config, gen
        self.rows = weighted_rows(data, model.n_users, model.n_items)
        device = model.device
        self.active = torch.as_tensor(np.flatnonzero(np.diff(self.rows.indptr)), device=device)
        self.sampled = model.n_items > FULL_SOFTMAX_MAX_ITEMS
        lr = config.learning_rate
        fused = self.sampled and device.type == "cpu"
        self.users_adam = _LazyRows(model.user_embedding.weight.data, lr, fused)
        if self.sampled:
            # A step sees a sample of the products: only those move (lazy Adam, as for users).
            self.q_adam = _LazyRows(model.item_embedding.weight.data, lr, fused)
            self.b_adam = _LazyRows(model.item_bias.weight.data, lr, fused)
        else:
            self.items_adam = _DenseAdam([model.item_embedding.weight, model.item_bias.weight], lr)

    def shard(self, n: int) -> tuple[int, int]:
        """The users ``[lo, hi)`` of a batch of ``n`` that this process scores: all of them."""
        return 0, n

    def reduce(self, lo: int, n: int, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """The whole batch's ``[grad_p, grad_q, grad_b]`` from this process's part (its users
        from ``lo`` on, of ``n``): in one process, the part is the whole."""
        return grads

    def order(self) -> torch.Tensor:
        """The next epoch's order of the users (one draw of the run's generator)."""
        return self.active[torch.randperm(len(self.active), generator=self.gen).to(self.model.device)]

    @torch.no_grad()
    def step(self, users: torch.Tensor) -> float:
        """One optimiser step on a batch of users; the batch's loss (this process's part of it)."""
        model = self.model
        device = model.device
        table, q, b = (t.weight.data for t in (model.user_embedding, model.item_embedding, model.item_bias))
        n = len(users)
        row, items, weights = self._block(users.cpu().numpy())
        lo, hi = self.shard(n)
        if hi - lo == n:
            mine_row, mine_items, mine_weights = row, items, weights
        else:
            keep = (row >= lo) & (row < hi)
            mine_row, mine_items = row[keep] - lo, items[keep]
            mine_weights = weights[torch.as_tensor(keep, device=device)]
        p = table.index_select(0, users[lo:hi])
        share = (hi - lo) / model.n_users
        mine_row = torch.as_tensor(mine_row, device=device)
        if not self.sampled:
            target = torch.zeros((hi - lo, model.n_items), device=device)
            target[mine_row, torch.as_tensor(mine_items, device=device)] = mine_weights
            loss, *grads = batch_gradients(p, q, b[:, 0], target, share, n)
            grad_p, grad_q, grad_b = self.reduce(lo, n, grads)
            self.items_adam.update([grad_q, grad_b[:, None]])
        else:
            drawn = torch.randint(0, model.n_items, (SAMPLED_ITEMS,), generator=self.gen).numpy()
            # The whole batch's positives: every process of a distributed run scores the same products.
            columns = np.union1d(drawn, items)
            position = torch.as_tensor(np.searchsorted(columns, mine_items), device=device)
            target = torch.zeros((hi - lo, len(columns)), device=device)
            target[mine_row, position] = mine_weights
            on_device = torch.as_tensor(columns, device=device)
            # index_select: the rows indexing would give, several times faster on CPU.
            q_drawn, b_drawn = q.index_select(0, on_device), b.index_select(0, on_device)[:, 0]
            loss, *grads = batch_gradients(p, q_drawn, b_drawn, target, share, n)
            grad_p, grad_q, grad_b = self.reduce(lo, n, grads)
            self.q_adam.update(on_device, grad_q)
            self.b_adam.update(on_device, grad_b[:, None])
        self.users_adam.update(users, grad_p)
        return loss

    def _block(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
        """The batch's rated products as ``(row in batch, product, weight)``: the CSR rows of
        ``users`` gathered directly (scipy's row indexing checks and copies more than a step's
        arithmetic costs for a small batch)."""
        indptr = self.rows.indptr
        starts, counts = indptr[users], indptr[users + 1] - indptr[users]
        # Position of each entry: its row's start plus its rank within the row.
        ends = np.cumsum(counts)
        where = np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - counts), counts)
        row = np.repeat(np.arange(len(users)), counts)
        weights = torch.as_tensor(self.rows.data[where], device=self.model.device)
        return row, self.rows.indices[where], weights

    def epoch(
        self,
        epoch: int,
        should_stop: Callable[[], bool] | None,
        on_progress: Callable[[int, int, int], None] | None = None,
    ) -> tuple[float, int, bool]:
        """One pass over the users in a fresh order: ``(sum of batch losses, batches, stopped)``.
        ``on_progress(epoch, batches_done, batches_total)`` is called at most every
        :data:`PROGRESS_SECONDS` and after the last batch, so a bar moves within an epoch."""
        batch_size = self.config.batch_size
        order = self.order()
        total, batches = 0.0, 0
        count = -(-len(order) // batch_size)
        reported = time.perf_counter()
        for lo in range(0, len(order), batch_size):
            if should_stop is not None and should_stop():
                return total, batches, True
            total += self.step(order[lo : lo + batch_size])
            batches += 1
            now = time.perf_counter()
            if on_progress is not None and (batches == count or now - reported >= PROGRESS_SECONDS):
                on_progress(epoch, batches, count)
                reported = now
        return total, batches, False


def weighted_rows(data: TrainingData, n_users: int, n_items: int) -> sp.csr_matrix:
    """The training pairs as a users x items float32 CSR holding each pair's weight
    (``data.weights``, else 1); a pair given more than once counts once, and zero weights are
    dropped (a user left with none is not trained on)."""
    users = np.asarray(data.users, dtype=np.int64)
    items = np.asarray(data.items, dtype=np.int64)
    weights = np.ones(len(users), np.float32)
    if data.weights is not None:
        weights = np.asarray(data.weights, np.float32)
    keys, first = np.unique(users * n_items + items, return_index=True)
    rows = sp.csr_matrix(
        (weights[first], (keys // n_items, keys % n_items)), shape=(n_users, n_items), dtype=np.float32
    )
    rows.eliminate_zeros()
    return rows


class NdcgJudge:
    """Judges an epoch: ``1 - validation NDCG@10`` (ranked among the products unrated in
    training, as test ranks among the unseen ones) and the rating head's precision, recall and
    ROC AUC; it keeps each judged customer's NDCG of the best epoch so far, to tell a clear drop
    from noise (:meth:`clearly_worse`)."""

    def __init__(self, model: NCF, data: TrainingData, config: TrainConfig):
        self.model, self.data, self.config = model, data, config
        # Users, held-out products and histories are prepared once for every epoch; as for the
        # test metrics, at most RANKING_MAX_USERS users are ranked, fewer on a large catalogue.
        self.ranker = ValidationRanker(
            (data.users, data.items),
            (data.val_users, data.val_items),
            model.n_users,
            model.n_items,
            max_users=judged_users(model.n_items, RANKING_MAX_USERS),
            seed=config.seed,
        )
        self.last: np.ndarray | None = None
        self.best: np.ndarray | None = None
        # Each judged model's per-customer NDCG until its epoch is recorded (:meth:`ended`): in
        # the background the next epoch may be judged before the last one is recorded.
        self.judged: dict[NCF, np.ndarray] = {}

    def aim(self, model: NCF) -> None:
        """Judge ``model`` from now on (a copy of the trained one's tables, same sizes)."""
        self.model = model

    @torch.no_grad()
    def __call__(self) -> tuple[float, float, float, float]:
        if not len(self.ranker.users):
            return math.nan, math.nan, math.nan, math.nan
        per_user = self.ranker.per_user(self.model)[0.0]
        self.judged[self.model] = per_user
        ndcg = float(per_user.sum()) / len(per_user)
        return (1.0 - ndcg, *rating_quality(self.model, self.data, self.config))

    def ended(self, is_best: bool, model: NCF) -> None:
        """The epoch judged on ``model`` was recorded, and is (or is not) the best so far."""
        self.last = self.judged.pop(model, None)
        if is_best:
            self.best = self.last

    def clearly_worse(self) -> bool:
        """Whether the last epoch's NDCG@10 is below the best's by more than
        :data:`CLEAR_DROP` standard errors of the paired per-customer difference: validation
        has passed its peak, and waiting :data:`PATIENCE` epochs would only confirm it."""
        if self.best is None or self.last is None or self.best is self.last or len(self.last) < 2:
            return False
        drop = self.best - self.last
        return bool(drop.mean() > CLEAR_DROP * drop.std(ddof=1) / math.sqrt(len(drop)))


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
    after :data:`PATIENCE` epochs without a better one, or at the first epoch clearly worse
    than the best (:meth:`NdcgJudge.clearly_worse`). The same seed gives the same model.
    On CPU it runs on one torch thread (:func:`~recsys_core.model.one_torch_thread`).
    """
    with one_torch_thread(resolve_device(config.device)):
        return run_softmax(model, data, config, on_epoch, on_progress, should_stop)


def run_softmax(
    model: NCF,
    data: TrainingData,
    config: TrainConfig,
    on_epoch: Callable[[EpochReport], None] | None,
    on_progress: Callable[[int, int, int], None] | None,
    should_stop: Callable[[], bool] | None,
    steps: type[SoftmaxSteps] = SoftmaxSteps,
) -> TrainResult:
    """:func:`train_softmax`'s epochs, its steps taken by ``steps`` (the distributed trainer's
    subclass under ``torchrun``)."""
    setup = prepare_training_run(model, data, config)
    data = setup.data
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    with torch.no_grad():
        model.user_bias.weight.zero_()  # a per-user constant cancels in the softmax
    stepper = steps(model, data, config, gen)
    judge = NdcgJudge(model, data, config)
    book = EpochBook(model, data, setup.val, config, on_epoch, judge=judge, criterion="NDCG@10")

    def verdict(epoch: int, judged: NCF) -> bool:
        judge.ended(book.best_epoch == epoch, judged)
        if epoch - book.best_epoch >= PATIENCE:
            book.message = f"No better validation NDCG@10 for {PATIENCE} epochs: stopped after epoch {epoch}."
            return False
        if judge.clearly_worse():
            book.message = (
                f"Validation NDCG@10 fell clearly below epoch {book.best_epoch}'s (by more than "
                f"{CLEAR_DROP:g} standard errors): stopped after epoch {epoch}."
            )
            return False
        return True

    # Each epoch is judged on copies of the tables on the other core while the next one trains
    # (recsys_core.training._judging); a distributed job's ranks judge in step, at once.
    background = steps is SoftmaxSteps and judge_in_background(model)
    judging = EpochJudging(model, book, verdict, judge.aim if background else None)
    stop_check = judging.stop_requested(should_stop)
    try:
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            loss_sum, batches, stopped = stepper.epoch(epoch, stop_check, on_progress)
            train_seconds = time.perf_counter() - started
            # The last epoch's judgement first: it may have ended training (this epoch is dropped).
            if (stopped or not math.isfinite(loss_sum)) and not judging.settle(wait=True):
                break
            if stopped:
                book.stop(f"Stopped during epoch {epoch}.")
                break
            if not math.isfinite(loss_sum):
                book.stop(f"Training diverged in epoch {epoch}: the loss is not finite.")
                break
            trained = Trained(epoch, loss_sum, max(batches, 1), len(data.users), started, train_seconds)
            if not judging.hand_in(trained):
                break
    except BaseException:
        judging.close()
        raise
    return judging.finish()
