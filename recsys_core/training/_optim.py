"""Fused NCF training steps: hand-written gradients and a lazy Adam update of the touched rows.

The model is ``logit = <p_u, q_i> + b_u + b_i`` trained with binary cross-entropy on
``sigmoid(logit)``. Its gradients are simple enough to write by hand, which lets one pass per
mini-batch do what autograd plus an optimiser do in a dozen:

* ``dL/dlogit = w * (sigmoid(logit) - target) / batch_size`` (the mean loss over the batch);
* ``dL/dp_u`` is the sum of ``dL/dlogit * q_i`` over the batch's rows of user ``u`` (repeated
  users and items accumulate), symmetrically for ``q_i``; bias gradients are the plain sums;
* Adam with ``torch.optim.Adam``'s formulas (``lerp`` for the first moment, bias correction from
  a global step count, ``eps`` added after dividing ``sqrt(v)`` by ``sqrt(1 - beta2**t)``),
  applied only to the rows that appear in the batch, as ``torch.optim.SparseAdam`` does ("lazy"
  Adam): other rows keep their parameters *and* their moments. When every row appears in every
  batch this is exactly dense ``torch.optim.Adam``.

  The reference notebook's Keras Adam is dense: every step decays the moments of *all* rows and
  moves every row that still has momentum. Lazy Adam (also TensorFlow Addons' ``LazyAdam``) is
  the usual choice for large embedding tables: a step costs work in proportion to the batch,
  not to the tables (1,024 rows instead of 139,000 at the reference's scale).

Two implementations share these maths behind one small interface (:class:`Stepper`):

* :class:`NumbaStepper` (CPU): a numba kernel (:mod:`recsys_core.training._adam_kernel`) that runs many
  mini-batches per call, so there is no Python per batch. A sample whose user and item occur
  nowhere else in its batch is finished in one pass (forward, gradients, both Adam updates)
  while its rows are in cache; the other rows' gradients are summed per distinct row, in
  sample order. Threads split the samples of the first pass (which writes only rows no other
  sample touches) and the distinct rows of the rest, so no two threads add into the same row
  and results do not depend on the number of threads or their timing.
* :class:`TorchStepper` (CUDA, or CPU as a reference): the same step as torch tensor ops on the
  model's own parameters.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import numba
import numpy as np
import torch

from recsys_core.model import NCF
from recsys_core.training._adam_kernel import BETA1, BETA2, EPS, run_batches

__all__ = [
    "BETA1",
    "BETA2",
    "EPS",
    "NumbaStepper",
    "Stepper",
    "TorchStepper",
    "lazy_adam_update",
    "make_stepper",
]

# numba's threading layers are not all safe to enter from two Python threads at once (the app
# runs each session in its own thread). Kernels run in short chunks, so serialising them costs
# two concurrent trainings nothing but interleaving.
_KERNEL_LOCK = threading.Lock()


class Stepper(Protocol):
    """What the trainer needs from an implementation of the fused step."""

    step: int
    #: Whether :meth:`run` changes the model's own parameters (else only :meth:`sync_to_model`
    #: does): a trainer must copy out parameters it wants to keep before then.
    trains_model_in_place: bool

    def run(
        self,
        users: np.ndarray,
        items: np.ndarray,
        targets: np.ndarray,
        weights: np.ndarray,
        first_batch: int,
        last_batch: int,
    ) -> float:
        """Train on batches ``first_batch .. last_batch - 1`` of the epoch arrays (already in
        epoch order; ``weights`` empty for weight 1). Returns the sum of the batches' mean losses."""
        ...

    def sync_to_model(self) -> None:
        """Make the model's parameters the trained ones (a no-op where they are shared)."""
        ...


#: Samples in a trial of the other thread count (see :meth:`NumbaStepper.run`).
_TRIAL_SAMPLES = 16_384


class NumbaStepper:
    """CPU implementation: packed ``(parameter, m, v)`` tables and a numba kernel.

    Keeping a row's parameters and both moments side by side (2,400 contiguous bytes at
    embedding 200) lets the Adam update fetch one block of memory instead of three. The packed
    tables are numpy arrays, which numpy backs with huge pages where the OS allows, sparing TLB
    misses on random rows. The model's parameters are copied in at the start and back by
    :meth:`sync_to_model`.

    Parameters
    ----------
    model
        A CPU :class:`~recsys_core.model.NCF`; its parameters seed the tables.
    batch_size, learning_rate
        Mini-batch size and Adam step size.
    threads
        Threads for the kernel; by default one, or several (all cores, at most one per 128 rows
        of a batch), whichever measures faster (see :class:`_ThreadChooser`). Results are
        identical for any number.
    """

    def __init__(self, model: NCF, batch_size: int, learning_rate: float, threads: int | None = None):
        self.model = model
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.step = 0
        self.user_table = _pack(model.user_embedding.weight)
        self.item_table = _pack(model.item_embedding.weight)
        self.user_bias = _pack(model.user_bias.weight)[:, :, 0].copy()
        self.item_bias = _pack(model.item_bias.weight)[:, :, 0].copy()
        dim = model.embedding_dim
        self._user_slot = np.full(model.n_users, -1, dtype=np.int32)
        self._item_slot = np.full(model.n_items, -1, dtype=np.int32)
        self._work_i = np.zeros((8, self.batch_size + 1), dtype=np.int64)
        self._deferred = np.zeros(2 * self.batch_size, dtype=np.int64)
        self._grad = np.zeros((2 * self.batch_size, dim), dtype=np.float32)
        self._work_g = np.zeros((2, self.batch_size), dtype=np.float32)
        # A thread needs a few hundred rows per batch to outweigh the cost of its barriers.
        most = min(numba.config.NUMBA_NUM_THREADS, max(2, self.batch_size // 128))
        self._threads = _ThreadChooser(most, fixed=threads)

    trains_model_in_place = False

    def run(self, users, items, targets, weights, first_batch, last_batch) -> float:
        # The kernel is compiled (and cached) for these dtypes: int32 codes (the trainer's), or
        # int64 where some code needs it; other ones would trigger a slow recompile.
        codes = np.int32 if np.result_type(users, items) == np.int32 else np.int64
        arrays = (
            np.ascontiguousarray(users, dtype=codes),
            np.ascontiguousarray(items, dtype=codes),
            np.ascontiguousarray(targets, dtype=np.float32),
            np.ascontiguousarray(weights, dtype=np.float32),
        )
        total = 0.0
        start = first_batch
        best = self._threads.best()
        other = self._threads.due()
        if other is not None and last_batch - start >= 2:
            # Try the other thread count on part of the call only: it may be far slower. About
            # _TRIAL_SAMPLES samples (some milliseconds): a trial of a few batches would mostly
            # time waking the threads up, and favour one thread even where two are faster.
            k = min(max(4, _TRIAL_SAMPLES // self.batch_size), max(1, (last_batch - start) // 2))
            total += self._kernel(other, arrays, start, start + k, trial=True)
            start += k
        total += self._kernel(best, arrays, start, last_batch, trial=False)
        return total

    def _kernel(self, threads: int, arrays, first_batch: int, last_batch: int, trial: bool) -> float:
        previous = numba.get_num_threads()
        with _KERNEL_LOCK:
            numba.set_num_threads(threads)
            started = time.perf_counter()
            try:
                total = run_batches(
                    *arrays, first_batch, last_batch, self.batch_size,
                    self.user_table, self.item_table, self.user_bias, self.item_bias,
                    self.step, self.learning_rate,
                    self._user_slot, self._item_slot, self._work_i, self._deferred, self._grad,
                    self._work_g,
                )  # fmt: skip
            finally:
                numba.set_num_threads(previous)
            elapsed = time.perf_counter() - started
        self._threads.record(threads, (last_batch - first_batch) / max(elapsed, 1e-9), trial)
        self.step += last_batch - first_batch
        return float(total)

    def sync_to_model(self) -> None:
        with torch.no_grad():
            self.model.user_embedding.weight.copy_(torch.from_numpy(self.user_table[:, 0]))
            self.model.item_embedding.weight.copy_(torch.from_numpy(self.item_table[:, 0]))
            self.model.user_bias.weight.copy_(torch.from_numpy(self.user_bias[:, :1]))
            self.model.item_bias.weight.copy_(torch.from_numpy(self.item_bias[:, :1]))


class _ThreadChooser:
    """Picks the kernel's thread count (one, or several) from measured speed.

    More threads only pay when each gets a core: on a machine whose cores are busy with other
    work, a parallel kernel waits at every barrier for a descheduled thread and can run tens of
    times slower than one thread. Results are identical for any thread count, so the stepper
    runs mostly with the faster option and now and then tries the other on a few batches; each
    trial that loses doubles the wait before the next one.
    """

    def __init__(self, most: int, fixed: int | None = None):
        cores = numba.config.NUMBA_NUM_THREADS
        if fixed is not None:
            self.options = [max(1, min(int(fixed), cores))]
        else:
            self.options = sorted({1, max(1, min(int(most), cores))})
        self.rates: dict[int, float] = {}
        self.calls = 0
        self.interval = 8
        self.next_trial = 2

    def best(self) -> int:
        """The faster option measured so far; one thread until it has been measured."""
        if self.options[0] not in self.rates:
            return self.options[0]
        return max(self.rates, key=self.rates.__getitem__)

    def due(self) -> int | None:
        """The thread count to try on a few batches in this call, if a trial is due."""
        self.calls += 1
        if len(self.options) == 1 or self.calls < self.next_trial:
            return None
        best = self.best()
        return next(n for n in self.options if n != best)

    def record(self, threads: int, batches_per_second: float, trial: bool) -> None:
        if self.calls <= 1:
            return  # the first call compiles or loads the kernel: not a speed
        old = self.rates.get(threads)
        self.rates[threads] = batches_per_second if old is None else 0.5 * (old + batches_per_second)
        if trial:
            lost = self.best() != threads
            self.interval = min(self.interval * 2, 1024) if lost else 8
            self.next_trial = self.calls + self.interval


def _pack(weight: torch.Tensor) -> np.ndarray:
    table = np.zeros((weight.shape[0], 3, weight.shape[1]), dtype=np.float32)
    table[:, 0] = weight.detach().cpu().numpy()
    return table


# --------------------------------------------------------------------------------------------
# torch (CUDA, or CPU as a reference)
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def lazy_adam_update(
    param: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    rows: torch.Tensor,
    grad: torch.Tensor,
    step: int,
    lr: float,
) -> None:
    """Adam on ``param[rows]`` with gradient ``grad`` (one row per entry of ``rows``, distinct).

    ``torch.optim.Adam``'s formulas: ``lerp`` for the first moment ``m``, bias corrections from
    the global ``step`` count (1-based), ``eps`` added after dividing ``sqrt(v)`` by
    ``sqrt(1 - beta2**step)``. Other rows keep their parameters and moments ("lazy" Adam). The
    torch implementation for :class:`TorchStepper` and the distributed trainer's ``LazyAdam``;
    the numba kernel does the same arithmetic per element.
    """
    bias_correction1 = 1.0 - BETA1**step
    bias_correction2_sqrt = (1.0 - BETA2**step) ** 0.5
    m_rows = m[rows].lerp_(grad, 1.0 - BETA1)
    v_rows = v[rows].mul_(BETA2).addcmul_(grad, grad, value=1.0 - BETA2)
    m[rows] = m_rows
    v[rows] = v_rows
    denom = (v_rows.sqrt() / bias_correction2_sqrt).add_(EPS)
    param[rows] = param[rows].addcdiv_(m_rows, denom, value=-lr / bias_correction1)


class TorchStepper:
    """The same fused step with torch tensor ops, on the model's own parameters and device.

    Per batch: gather, dot, hand-written gradient, ``torch.unique`` + ``index_add_`` to sum the
    gradients of repeated rows, and Adam on the distinct rows only. On CUDA, ``index_add_`` adds
    with atomics, so the last bits of the sums may vary between runs unless
    ``torch.use_deterministic_algorithms(True)`` is set; on CPU it is deterministic.
    """

    def __init__(self, model: NCF, batch_size: int, learning_rate: float):
        self.model = model
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.step = 0
        self.trains_model_in_place = True
        self.device = model.user_embedding.weight.device
        self._tables = [
            (model.user_embedding.weight, model.user_bias.weight[:, 0]),
            (model.item_embedding.weight, model.item_bias.weight[:, 0]),
        ]
        self._moments = [
            tuple(torch.zeros_like(t) for t in (table, table, bias, bias)) for table, bias in self._tables
        ]

    @torch.no_grad()
    def run(self, users, items, targets, weights, first_batch, last_batch) -> float:
        dev = self.device
        n = len(users)
        lo_all = first_batch * self.batch_size
        hi_all = min(last_batch * self.batch_size, n)
        # One host-to-device copy per call, not per batch.
        u_all = torch.as_tensor(users[lo_all:hi_all], device=dev)
        i_all = torch.as_tensor(items[lo_all:hi_all], device=dev)
        t_all = torch.as_tensor(targets[lo_all:hi_all], device=dev)
        w_all = torch.as_tensor(weights[lo_all:hi_all], device=dev) if len(weights) else None
        P, bu = self._tables[0]
        Q, bi = self._tables[1]
        losses = []
        for batch in range(first_batch, last_batch):
            lo = batch * self.batch_size - lo_all
            hi = min(lo + self.batch_size, hi_all - lo_all)
            u, i, t = u_all[lo:hi], i_all[lo:hi], t_all[lo:hi]
            p, q = P[u], Q[i]
            x = (p * q).sum(1) + bu[u] + bi[i]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none")
            g = (torch.sigmoid(x) - t) / (hi - lo)
            if w_all is not None:
                w = w_all[lo:hi]
                loss = loss * w
                g = g * w
            losses.append(loss.mean())
            self.step += 1
            for (table, bias), moments, ids, other in (
                (self._tables[0], self._moments[0], u, q),
                (self._tables[1], self._moments[1], i, p),
            ):
                rows, inverse = torch.unique(ids, return_inverse=True)
                row_grad = torch.zeros((len(rows), table.shape[1]), dtype=table.dtype, device=dev)
                row_grad.index_add_(0, inverse, g[:, None] * other)
                bias_grad = torch.zeros(len(rows), dtype=table.dtype, device=dev).index_add_(0, inverse, g)
                lazy_adam_update(table, moments[0], moments[1], rows, row_grad, self.step, self.learning_rate)
                lazy_adam_update(bias, moments[2], moments[3], rows, bias_grad, self.step, self.learning_rate)
        return float(torch.stack(losses).sum()) if losses else 0.0

    def sync_to_model(self) -> None:
        pass


def make_stepper(model: NCF, batch_size: int, learning_rate: float) -> Stepper:
    """The fastest implementation for the model's device: numba on CPU, torch elsewhere."""
    if model.user_embedding.weight.device.type == "cpu":
        return NumbaStepper(model, batch_size, learning_rate)
    return TorchStepper(model, batch_size, learning_rate)
