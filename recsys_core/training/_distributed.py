"""Multi-process training with PyTorch DistributedDataParallel, for ``torchrun``.

::

    torchrun --nproc_per_node=4 -m recsys_core.cli train ratings.csv --out run --distributed

Every process loads the ratings and computes the same split, id map and rebalanced training
set (they are seeded). :func:`train_model_ddp` then trains the model wrapped in
:class:`torch.nn.parallel.DistributedDataParallel`:

* every epoch's samples are built and shuffled exactly as the single-process trainer does
  (:func:`recsys_core.training.epoch_samples` with the same seed, so every process holds the
  same order), and each global mini-batch of ``config.batch_size`` samples is cut into one
  slice per process: a process trains on ``1 / world_size`` of every epoch, and the processes
  together take the same optimisation steps, on the same batches, as one process would;
* each process's loss is its slice's share of the batch's mean loss, so DDP's gradient
  average is exactly the gradient of the whole batch's mean loss;
* gradients are *sparse* by default on CPU (gloo): only the embedding rows a batch touches
  travel between processes and :class:`LazyAdam` updates only them, with the single-process
  trainer's formulas (:mod:`recsys_core.training._optim`). (``torch.optim.SparseAdam`` is the same idea
  but adds ``eps`` before the bias correction, which moves elements with tiny gradients by
  visibly different amounts.) NCCL (GPUs) has no sparse all-reduce, so there gradients are
  *dense*: whole tables are all-reduced every step and ``torch.optim.Adam`` updates every row
  (the reference notebook's dense Adam). Dense works on gloo as well (``gradients="dense"``),
  but its traffic grows with the tables, not the batch;
* validation, the ``hybrid`` rating head and the best-epoch restore are the single-process
  trainer's: every process holds identical parameters after each step, so each fits the same
  head, validates and takes the same decisions without talking to the others; losses, Stop
  and divergence are agreed through all-reduces.

The ``softmax`` objective (the recommended recipe) is shared the same way by
:class:`ShardedSoftmaxSteps`: every process draws the same order of users (and, for a sampled
catalogue, the same products), scores its slice of every global batch of ``config.batch_size``
users, and one all-reduce per step sums the slices' gradients, normalised by the whole batch:
the item tables' (dense, or the sampled products') and the batch's user rows' (each slice's
rows, zeros elsewhere). Every process then takes the single-process trainer's Adam step on the
same summed gradients, so all hold the same parameters and take the same decisions (validation
NDCG@10, rating head, best epoch, early stopping).

Rank 0 then evaluates and saves the run; the other ranks exit without writing.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData
from recsys_core.errors import RecsysError
from recsys_core.model import NCF, one_torch_thread
from recsys_core.training._epochs import EpochBook, EpochReport, TrainResult
from recsys_core.training._optim import lazy_adam_update
from recsys_core.training._sampling import EpochSamples
from recsys_core.training._setup import TrainingSetup, prepare_training_run, resolve_device
from recsys_core.training._softmax import SoftmaxSteps, run_softmax

GRADIENTS = ("auto", "sparse", "dense")
#: Batches between the all-reduces that agree on Stop, divergence and progress. A fixed count
#: (not a time) so that every process reaches each all-reduce at the same batch.
SYNC_EVERY = 64
_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in a ``torchrun`` job.

    Attributes
    ----------
    rank, world_size, local_rank
        As set by ``torchrun``: this process's number, the number of processes, and its number
        on this machine (which GPU it drives).
    backend
        ``"gloo"`` (CPU) or ``"nccl"`` (CUDA).
    device
        ``"cpu"`` or ``"cuda:<local_rank>"``.
    """

    rank: int
    world_size: int
    local_rank: int
    backend: str
    device: str

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that evaluates, prints and saves."""
        return self.rank == 0


def init_from_env(device: str = "auto", *, timeout_minutes: float = 30.0) -> DistributedContext:
    """Join the process group that ``torchrun`` set up (``env://``), once per process.

    Parameters
    ----------
    device
        ``auto``, ``cpu`` or ``cuda`` (as :class:`~recsys_core.config.TrainConfig`): CUDA
        uses NCCL and GPU ``LOCAL_RANK``; CPU uses gloo.
    timeout_minutes
        How long a collective waits for a silent process before failing.

    Raises
    ------
    RecsysError
        The process was not started by ``torchrun`` (its environment variables are missing),
        CUDA was asked for without a GPU, or this machine has fewer GPUs than processes.
    """
    missing = [name for name in _ENV if name not in os.environ]
    if missing:
        raise RecsysError(
            f"--distributed needs the environment that torchrun sets ({', '.join(missing)} missing). "
            "Start it as: torchrun --nproc_per_node=N -m recsys_core.cli train FILE --out RUN --distributed"
        )
    rank, world, local = (int(os.environ[name]) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    resolved = resolve_device(device)
    if resolved == "cuda":
        gpus = torch.cuda.device_count()
        if local >= gpus:
            raise RecsysError(
                f"Process {rank} has LOCAL_RANK {local} but this machine has {gpus} GPU(s): start at most "
                f"{gpus} processes per machine (--nproc_per_node), or use --device cpu."
            )
        torch.cuda.set_device(local)
        backend, where = "nccl", f"cuda:{local}"
    else:
        backend, where = "gloo", "cpu"
        # torchrun sets OMP_NUM_THREADS=1 when it starts several processes per machine; without
        # it, every process would use every core and they would fight over them.
        if "OMP_NUM_THREADS" not in os.environ:
            per_machine = int(os.environ.get("LOCAL_WORLD_SIZE", world))
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(per_machine, 1)))
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=timedelta(minutes=timeout_minutes))
    return DistributedContext(rank, world, local, backend, where)


def shutdown() -> None:
    """Leave the process group (a no-op outside one)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard_bounds(lo: int, nb: int, rank: int, world: int) -> tuple[int, int, bool]:
    """This rank's slice ``[start, stop)`` of the global batch ``[lo, lo + nb)``.

    Slices are contiguous, disjoint, cover the batch and differ in size by at most one. A batch
    with fewer samples than ranks (only ever the epoch's last) is given whole to every rank
    instead, since a rank without samples would send an empty sparse gradient, which gloo
    rejects; the third value says so (``True``: every rank has the whole batch).
    """
    if nb < world:
        return lo, lo + nb, True
    return lo + nb * rank // world, lo + nb * (rank + 1) // world, False


class LazyAdam(torch.optim.Optimizer):
    """Adam on the rows present in a sparse gradient, with ``torch.optim.Adam``'s formulas.

    The single-process trainer's optimiser (:func:`recsys_core.training._optim.lazy_adam_update`) as a
    ``torch.optim.Optimizer``: ``lerp`` for the first moment, bias corrections from the global
    step count, ``eps`` added after dividing ``sqrt(v)`` by ``sqrt(1 - beta2**t)``. Rows absent
    from the gradient keep their parameters and moments. Every parameter must get a sparse
    (COO, row-sparse) gradient; repeated rows are summed (coalesced) first.
    """

    def __init__(self, params, lr: float = 1e-3):
        super().__init__(params, {"lr": float(lr)})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if not param.grad.is_sparse:
                    raise RecsysError("LazyAdam needs sparse gradients (nn.Embedding(..., sparse=True)).")
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(param)
                    state["v"] = torch.zeros_like(param)
                state["step"] += 1
                grad = param.grad.coalesce()
                lazy_adam_update(
                    param,
                    state["m"],
                    state["v"],
                    grad.indices()[0],
                    grad.values(),
                    state["step"],
                    group["lr"],
                )


def sparse_allreduce_hook(world_size, bucket):
    """DDP communication hook for sparse gradients: their average over processes, made safely.

    ``world_size`` is the hook's state (an int), ``bucket`` a ``dist.GradBucket``; returns an
    already completed ``torch.futures.Future`` with the averaged gradient. (No annotations:
    DDP checks them and, under ``from __future__ import annotations``, would see strings.)

    Why not DDP's own reduction (torch 2.13, gloo, CPU), as measured by this module's tests:

    * It divides each sparse gradient by the number of processes *in place*. Autograd's sparse
      embedding gradients can share their values with the gradient flowing into another
      embedding: in :class:`~recsys_core.model.NCF` both biases receive the very same
      ``dL/dlogit`` tensor, so the division hits it twice (and the embedding gradients still to
      be computed from it): with two processes the bias gradients came out at a quarter of the
      sum instead of a half.
    * Reducing asynchronously (the default, or a hook returning ``all_reduce(...).get_future()``)
      crashed with heap corruption ("malloc(): unaligned tcache chunk detected") within a few
      thousand steps once an optimiser read the gradients; the blocking all-reduce below ran
      over 15,000 steps cleanly.

    So the hook all-reduces a coalesced *copy* (duplicate rows summed before sending),
    blocking, and divides out of place. Blocking costs the overlap of communication with the
    rest of the backward pass, which for this model is a handful of small kernels.
    """
    grad = bucket.buffer()
    grad = grad.coalesce() if not grad.is_coalesced() else grad.clone()
    dist.all_reduce(grad)
    future: torch.futures.Future = torch.futures.Future()
    future.set_result(grad / world_size)
    return future


def _resolve_gradients(gradients: str, backend: str) -> bool:
    """``True`` for sparse gradients."""
    if gradients not in GRADIENTS:
        raise RecsysError(f"Unknown gradient mode {gradients!r}: use {', '.join(GRADIENTS)}.")
    if gradients == "auto":
        return backend == "gloo"
    if gradients == "sparse" and backend == "nccl":
        raise RecsysError(
            "NCCL (GPU training) has no sparse all-reduce: use dense gradients (the default on GPUs)."
        )
    return gradients == "sparse"


def _set_sparse(model: NCF, sparse: bool) -> None:
    for embedding in (model.user_embedding, model.item_embedding, model.user_bias, model.item_bias):
        embedding.sparse = sparse


def _all_reduce(values: list[float], device: torch.device, op=dist.ReduceOp.SUM) -> list[float]:
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=op)
    return tensor.tolist()


class ShardedSoftmaxSteps(SoftmaxSteps):
    """The ``softmax`` trainer's steps in one process of a ``torchrun`` job.

    Every process holds the whole training matrix and draws the same epochs (the same seeded
    generator), so each knows every global batch; it scores its slice of the batch's users
    (:meth:`shard`), with the loss normalised by the whole batch, and :meth:`reduce` sums the
    slices' gradients. The user rows' gradients travel as a batch-sized block (each slice's rows,
    zeros elsewhere: adding zeros is exact), so every process updates every batch user, and
    the user table stays identical everywhere with batch-sized traffic.
    """

    def __init__(self, model: NCF, data: TrainingData, config: TrainConfig, gen: torch.Generator):
        super().__init__(model, data, config, gen)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()

    def shard(self, n: int) -> tuple[int, int]:
        # Contiguous, disjoint slices; a batch smaller than the job leaves some empty (a dense
        # all-reduce, unlike a sparse one, takes their zeros).
        return n * self.rank // self.world, n * (self.rank + 1) // self.world

    def reduce(self, lo: int, n: int, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        grad_p, grad_q, grad_b = grads
        batch_p = grad_p.new_zeros((n, grad_p.shape[1]))
        batch_p[lo : lo + len(grad_p)] = grad_p
        # One all-reduce per step: a collective's fixed cost outweighs these sizes' transfer.
        flat = torch.cat([batch_p.reshape(-1), grad_q.reshape(-1), grad_b])
        dist.all_reduce(flat)
        a, c = batch_p.numel(), batch_p.numel() + grad_q.numel()
        return [flat[:a].view_as(batch_p), flat[a:c].view_as(grad_q), flat[c:]]

    def epoch(
        self,
        epoch: int,
        should_stop: Callable[[], bool] | None,
        on_progress: Callable[[int, int, int], None] | None = None,
    ) -> tuple[float, int, bool]:
        """As :meth:`SoftmaxSteps.epoch`, with the job's loss; Stop is polled and agreed, and
        progress reported, every :data:`SYNC_EVERY` batches and after the last."""
        batch_size, device = self.config.batch_size, self.model.device
        order = self.order()
        count = -(-len(order) // batch_size)
        total, pending = 0.0, 0.0
        for batch in range(count):
            pending += self.step(order[batch * batch_size : (batch + 1) * batch_size])
            done = batch + 1
            if done % SYNC_EVERY and done != count:
                continue
            stop_here = bool(should_stop()) if should_stop is not None else False
            reported, stop_votes = _all_reduce([pending, float(stop_here)], device)
            total, pending = total + reported, 0.0
            if stop_votes > 0:
                return total, done, True
            if on_progress is not None:
                on_progress(epoch, done, count)
        return total, count, False


def train_model_ddp(
    model: NCF,
    data: TrainingData,
    config: TrainConfig,
    *,
    gradients: str = "auto",
    on_epoch: Callable[[EpochReport], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """:func:`recsys_core.training.train_model` across the processes of a ``torchrun`` job.

    Call it in every process, with the same ``model`` initialisation, ``data`` and ``config``,
    after :func:`init_from_env`. Each process trains on its slice of every global mini-batch of
    ``config.batch_size`` samples (see :func:`shard_bounds`); DDP averages the gradients.

    Parameters
    ----------
    model, data, config
        As for :func:`~recsys_core.training.train_model`; the model moves to this process's
        device (``config.device``; CUDA: GPU ``LOCAL_RANK``).
    gradients
        ``auto`` (sparse on gloo, dense on NCCL), ``sparse`` (:class:`LazyAdam` on the
        touched rows, as the single-process trainer) or ``dense`` (``torch.optim.Adam`` on
        every row each step). The ``softmax`` objective has one way
        (:class:`ShardedSoftmaxSteps`) and ignores it.
    on_epoch, on_progress, should_stop
        As for ``train_model``; reports carry the whole job's figures (the loss over all
        processes, samples per second of all of them). ``should_stop`` is polled every
        :data:`SYNC_EVERY` batches, and one process saying stop stops them all.

    Returns
    -------
    TrainResult
        Identical in every process: the best epoch (by validation loss; ``softmax``: by
        validation NDCG@10) restored, the history, and why training ended.

    Raises
    ------
    RecsysError
        No process group (call :func:`init_from_env` first), or as ``train_model``.
    """
    if not (dist.is_available() and dist.is_initialized()):
        raise RecsysError(
            "Distributed training needs a process group: start with torchrun and call init_from_env() first."
        )
    if config.objective == "softmax":
        with one_torch_thread(resolve_device(config.device)):
            return run_softmax(
                model, data, config, on_epoch, on_progress, should_stop, steps=ShardedSoftmaxSteps
            )
    sparse = _resolve_gradients(gradients, dist.get_backend())
    on_gpu = resolve_device(config.device) == "cuda"
    device = torch.device(f"cuda:{torch.cuda.current_device()}" if on_gpu else "cpu")
    setup = prepare_training_run(model, data, config, device=device)
    _set_sparse(model, sparse)
    try:
        return _train_ddp_epochs(setup, device, sparse, on_epoch, on_progress, should_stop)
    finally:
        _set_sparse(model, False)


def _train_ddp_epochs(
    setup: TrainingSetup,
    device: torch.device,
    sparse: bool,
    on_epoch: Callable[[EpochReport], None] | None,
    on_progress: Callable[[int, int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> TrainResult:
    """The epoch loop of :func:`train_model_ddp`, in this process, over the prepared run."""
    model, config = setup.model, setup.config
    # The hybrid rating head is buffers fitted identically by every process after each epoch:
    # nothing to broadcast (DDP would otherwise send them from rank 0 before every step).
    ddp = DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None, broadcast_buffers=False
    )
    world = dist.get_world_size()
    if sparse:
        ddp.register_comm_hook(world, sparse_allreduce_hook)
    optimiser_class = LazyAdam if sparse else torch.optim.Adam
    optimiser = optimiser_class(model.parameters(), lr=config.learning_rate)
    book = setup.new_book(on_epoch)
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        samples = setup.next_epoch()  # the same draws in every process
        t0 = time.perf_counter()
        loss_sum, total = _ddp_epoch(
            ddp, optimiser, samples, config.batch_size, device, epoch, book, on_progress, should_stop
        )
        train_seconds = time.perf_counter() - t0
        if book.stopped:
            break
        # As train_model: every process fits the same head to the same data and parameters.
        if not book.end_epoch(
            epoch,
            loss_sum=loss_sum,
            total=total,
            n=len(samples.users),
            started=started,
            train_seconds=train_seconds,
        ):
            break
    return book.result()


def _ddp_epoch(
    ddp: DistributedDataParallel,
    optimiser: torch.optim.Optimizer,
    samples: EpochSamples,
    batch_size: int,
    device: torch.device,
    epoch: int,
    book: EpochBook,
    on_progress: Callable[[int, int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> tuple[float, int]:
    """This process's share of one epoch; returns the job's ``(sum of the batches' mean losses,
    batches)``. Stop and divergence are agreed every :data:`SYNC_EVERY` batches and recorded in
    ``book``."""
    rank, world = dist.get_rank(), dist.get_world_size()
    n = len(samples.users)
    total = -(-n // batch_size)
    users = torch.as_tensor(samples.users, device=device)
    items = torch.as_tensor(samples.items, device=device)
    targets = torch.as_tensor(samples.targets, device=device)
    weights = torch.as_tensor(samples.weights, device=device) if len(samples.weights) else None
    # Sum of this process's shares of the batches' mean losses since the last all-reduce.
    pending = torch.zeros((), dtype=torch.float64, device=device)
    loss_sum = 0.0
    for batch in range(total):
        lo = batch * batch_size
        nb = min(batch_size, n - lo)
        start, stop, whole = shard_bounds(lo, nb, rank, world)
        losses = torch.nn.functional.binary_cross_entropy_with_logits(
            ddp(users[start:stop], items[start:stop]), targets[start:stop], reduction="none"
        )
        if weights is not None:
            losses = losses * weights[start:stop]
        local = losses.sum()
        # DDP averages over processes: scale so that the average is the batch's mean loss.
        share = local / nb if whole else local * (world / nb)
        optimiser.zero_grad(set_to_none=True)
        share.backward()
        optimiser.step()
        pending += local.detach() / (nb * world if whole else nb)
        done = batch + 1
        if done % SYNC_EVERY and done != total:
            continue
        # Every process arrives here at the same batch: agree on loss, Stop and progress.
        stop_here = bool(should_stop()) if should_stop is not None else False
        reported, stop_votes = _all_reduce([float(pending), float(stop_here)], device)
        pending.zero_()
        loss_sum += reported
        if stop_votes > 0:
            book.stop(f"Stopped during epoch {epoch} ({done:,} of {total:,} batches).")
            break
        if not math.isfinite(loss_sum):
            book.diverged(epoch, loss_sum, done, total)
            break
        if on_progress is not None:
            on_progress(epoch, done, total)
    return loss_sum, total
