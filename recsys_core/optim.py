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

* :class:`NumbaStepper` (CPU): a numba kernel that runs many mini-batches per call, so there is
  no Python per batch. A sample whose user and item occur nowhere else in its batch is
  finished in one pass (forward, gradients, both Adam updates) while its rows are in cache;
  the other rows' gradients are summed per distinct row, in sample order. Threads split the
  samples of the first pass (which writes only rows no other sample touches) and the distinct
  rows of the rest, so no two threads add into the same row and results do not depend on the
  number of threads or their timing.
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
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from recsys_core.model import NCF

BETA1 = 0.9
BETA2 = 0.999
#: torch.optim.Adam's default. (Keras, which the reference notebook used, defaults to 1e-7 and
#: adds it before the bias correction of sqrt(v); the difference only shows while sqrt(v) is of
#: the order of eps, i.e. for rows that have barely been touched.)
EPS = 1e-8

# numba's threading layers are not all safe to enter from two Python threads at once (the app
# runs each session in its own thread). Kernels run in short chunks, so serialising them costs
# two concurrent trainings nothing but interleaving.
_KERNEL_LOCK = threading.Lock()


class Stepper(Protocol):
    """What the trainer needs from an implementation of the fused step."""

    step: int

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


# --------------------------------------------------------------------------------------------
# numba kernel (CPU)
# --------------------------------------------------------------------------------------------

# error_model="numpy": IEEE division (inf/nan) instead of Python's ZeroDivisionError check, whose
# branch stops LLVM from vectorising the Adam loop. Rows are addressed as ``T[r, 0, k]`` rather
# than through row views, which would cost a reference-count update (an atomic shared by all
# threads) per view. No fastmath: it would let the compiler drop NaN checks and reorder sums.
_JIT = {"cache": True, "error_model": "numpy", "nogil": True}

#: Samples in a trial of the other thread count (see :meth:`NumbaStepper.run`).
_TRIAL_SAMPLES = 16_384

#: How many samples (forward pass) or rows (Adam) ahead the kernel asks for memory. The tables
#: are far larger than the caches and rows are visited in random order, so the kernel is bound
#: by memory latency; asking one step ahead overlaps it with the arithmetic.
_PREFETCH_AHEAD = 2


@intrinsic
def _prefetch(typingctx, arr, row, nbytes):
    """Hint the CPU to fetch ``nbytes`` from the start of ``arr[row]`` (C-contiguous array)."""
    sig = types.void(arr, row, nbytes)

    def codegen(context, builder, signature, args):
        arr_type = signature.args[0]
        array = context.make_array(arr_type)(context, builder, args[0])
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        i8_ptr = ir.IntType(8).as_pointer()
        stride = cgutils.unpack_tuple(builder, array.strides, arr_type.ndim)[0]
        index = context.cast(builder, args[1], signature.args[1], types.int64)
        size = context.cast(builder, args[2], signature.args[2], types.int64)
        start = builder.add(builder.ptrtoint(array.data, i64), builder.mul(index, stride))
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8_ptr, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        lines = builder.udiv(builder.add(size, i64(63)), i64(64))
        with cgutils.for_range(builder, lines) as loop:
            address = builder.add(start, builder.mul(loop.index, i64(64)))
            # (address, write=1, locality=3: keep in all cache levels, data cache)
            builder.call(fn, [builder.inttoptr(address, i8_ptr), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always", **_JIT)
def _dot(TU, u, TI, i):
    # Eight running sums in a fixed order: several short dependency chains instead of one long
    # one, and the same order on every run and every CPU, so results are reproducible.
    n = TU.shape[2]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = np.float32(0.0)
    n8 = n - n % 8
    for k in range(0, n8, 8):
        s0 += TU[u, 0, k] * TI[i, 0, k]
        s1 += TU[u, 0, k + 1] * TI[i, 0, k + 1]
        s2 += TU[u, 0, k + 2] * TI[i, 0, k + 2]
        s3 += TU[u, 0, k + 3] * TI[i, 0, k + 3]
        s4 += TU[u, 0, k + 4] * TI[i, 0, k + 4]
        s5 += TU[u, 0, k + 5] * TI[i, 0, k + 5]
        s6 += TU[u, 0, k + 6] * TI[i, 0, k + 6]
        s7 += TU[u, 0, k + 7] * TI[i, 0, k + 7]
    for k in range(n8, n):
        s0 += TU[u, 0, k] * TI[i, 0, k]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


@njit(inline="always", **_JIT)
def _adam_elem(T, r, k, g, step_size, bc2_sqrt):
    """Adam on element ``k`` of packed row ``T[r] = (param, m, v)`` with gradient ``g``."""
    m_old = T[r, 1, k]
    m = m_old + np.float32(1.0 - BETA1) * (g - m_old)  # torch's lerp for a weight below 0.5
    v = T[r, 2, k] * np.float32(BETA2) + np.float32(1.0 - BETA2) * g * g
    T[r, 1, k] = m
    T[r, 2, k] = v
    T[r, 0, k] -= step_size * (m / (np.sqrt(v) / bc2_sqrt + np.float32(EPS)))


@njit(inline="always", **_JIT)
def _adam_row(T, r, G, s, step_size, bc2_sqrt):
    """Adam on packed row ``T[r] = (param, m, v)`` with gradient ``G[s]``."""
    for k in range(T.shape[2]):
        _adam_elem(T, r, k, G[s, k], step_size, bc2_sqrt)


@njit(inline="always", **_JIT)
def _adam_pair(TU, u, TI, i, gb, step_size, bc2_sqrt):
    """Adam on user row ``u`` and item row ``i`` of a sample whose rows occur nowhere else in the
    batch: their gradients are ``gb * q_i`` and ``gb * p_u``, both read before either row moves."""
    for k in range(TU.shape[2]):
        p = TU[u, 0, k]
        q = TI[i, 0, k]
        _adam_elem(TU, u, k, gb * q, step_size, bc2_sqrt)
        _adam_elem(TI, i, k, gb * p, step_size, bc2_sqrt)


@njit(inline="always", **_JIT)
def _adam_bias(B, r, g, step_size, bc2_sqrt):
    """Adam on packed bias ``B[r] = (param, m, v)`` with gradient ``g``."""
    m_old = B[r, 1]
    m = m_old + np.float32(1.0 - BETA1) * (g - m_old)
    v = B[r, 2] * np.float32(BETA2) + np.float32(1.0 - BETA2) * g * g
    B[r, 1] = m
    B[r, 2] = v
    B[r, 0] -= step_size * (m / (np.sqrt(v) / bc2_sqrt + np.float32(EPS)))


@njit(inline="always", **_JIT)
def _group(ids, lo, nb, slot, uniq, start, members, which):
    """Distinct values of ``ids[lo:lo + nb]`` in first-seen order, with CSR member lists.

    ``slot`` (one entry per possible id, all -1) is left as it was found. Returns the number of
    distinct ids ``n``; ``members[start[s]:start[s + 1]]`` are the positions (within the batch)
    of ``uniq[s]``, in increasing order, so sums over them always add in the same order, and
    ``which[b]`` is the group of position ``b``.
    """
    n = 0
    for b in range(nb):
        r = ids[lo + b]
        if slot[r] < 0:
            slot[r] = n
            uniq[n] = r
            start[n + 1] = 0
            n += 1
        which[b] = slot[r]
        start[slot[r] + 1] += 1
    start[0] = 0
    for s in range(n):
        start[s + 1] += start[s]
    # `slot` becomes a write cursor into `members`, then is cleared.
    for s in range(n):
        slot[uniq[s]] = start[s]
    for b in range(nb):
        r = ids[lo + b]
        members[slot[r]] = b
        slot[r] += 1
    for s in range(n):
        slot[uniq[s]] = -1
    return n


@njit(parallel=True, **_JIT)
def _run_batches(
    users, items, targets, weights, first_batch, last_batch, batch_size, TU, TI, BU, BI, step0, lr,
    user_slot, item_slot, work_i, deferred, grad, work_g,
):  # fmt: skip
    """Run mini-batches ``first_batch .. last_batch - 1``; return the sum of their mean losses.

    ``users``, ``items``, ``targets`` (and ``weights``, or an empty array for weight 1) are in
    this epoch's order; batch ``k`` is rows ``k * batch_size`` onwards. ``TU``/``TI`` are the
    packed tables ``(rows, 3, dim)`` of (parameter, first moment, second moment), ``BU``/``BI``
    the packed biases ``(rows, 3)``. ``step0`` is Adam's step count before the first batch.
    Scratch: ``user_slot``/``item_slot`` int64 arrays of -1 (left as found), ``work_i`` int64
    ``(8, batch_size + 1)``, ``deferred`` int64 ``(2 * batch_size,)``, ``grad`` float32
    ``(2 * batch_size, dim)``, ``work_g`` float32 ``(2, batch_size)``.

    Each batch is one pass over its samples plus a short pass over the rows that need it. A
    sample whose user and item both occur only once in the batch (most samples: the tables are
    large and a batch small) is finished in the first pass: forward, gradient and both Adam
    updates while its two rows are in the L1 cache, each row read and written once. Rows that
    occur several times, and the once-only rows paired with them, are *deferred*: their
    gradients are summed over the batch from the old parameters (nothing they read has moved
    yet), then they are updated. The arithmetic per row is the same either way, so the result
    equals computing every gradient first and updating after, bit for bit.
    """
    n = users.shape[0]
    row_bytes = 3 * TU.shape[2] * 4
    dim = TU.shape[2]
    weighted = weights.shape[0] > 0
    uniq_u, uniq_i = work_i[0], work_i[1]
    start_u, start_i = work_i[2], work_i[3]
    mem_u, mem_i = work_i[4], work_i[5]
    which_u, which_i = work_i[6], work_i[7]
    g = work_g[0]
    losses = work_g[1]
    one = np.float32(1.0)
    zero = np.float32(0.0)
    total = 0.0
    for batch in range(first_batch, last_batch):
        lo = batch * batch_size
        nb = min(batch_size, n - lo)
        inv_nb = one / np.float32(nb)
        nu = _group(users, lo, nb, user_slot, uniq_u, start_u, mem_u, which_u)
        ni = _group(items, lo, nb, item_slot, uniq_i, start_i, mem_i, which_i)
        step = step0 + batch - first_batch + 1
        step_size = np.float32(lr / (1.0 - BETA1**step))
        bc2_sqrt = np.float32(np.sqrt(1.0 - BETA2**step))
        # Pass 1: forward, dL/dlogit, and the whole update of once-only pairs. No two samples
        # share a row that this pass writes, so threads never touch the same memory.
        for b in prange(nb):
            if b + _PREFETCH_AHEAD < nb:
                _prefetch(TU, users[lo + b + _PREFETCH_AHEAD], row_bytes)
                _prefetch(TI, items[lo + b + _PREFETCH_AHEAD], row_bytes)
            u = users[lo + b]
            i = items[lo + b]
            x = _dot(TU, u, TI, i) + BU[u, 0] + BI[i, 0]
            t = targets[lo + b]
            w = weights[lo + b] if weighted else one
            # Stable BCE-with-logits: max(x, 0) - x t + log(1 + exp(-|x|)).
            losses[b] = w * (max(x, zero) - x * t + np.log1p(np.exp(-abs(x))))
            gb = w * (one / (one + np.exp(-x)) - t) * inv_nb
            g[b] = gb
            su = which_u[b]
            si = which_i[b]
            if start_u[su + 1] - start_u[su] == 1 and start_i[si + 1] - start_i[si] == 1:
                _adam_pair(TU, u, TI, i, gb, step_size, bc2_sqrt)
                _adam_bias(BU, u, gb, step_size, bc2_sqrt)
                _adam_bias(BI, i, gb, step_size, bc2_sqrt)
        batch_loss = 0.0
        for b in range(nb):
            batch_loss += losses[b]
        total += batch_loss / nb
        # The deferred rows: deferred[0:du] user groups, deferred[du:nd] item groups.
        nd = 0
        for s in range(nu):
            b = mem_u[start_u[s]]
            si = which_i[b]
            if start_u[s + 1] - start_u[s] > 1 or start_i[si + 1] - start_i[si] > 1:
                deferred[nd] = s
                nd += 1
        du = nd
        for s in range(ni):
            b = mem_i[start_i[s]]
            su = which_u[b]
            if start_i[s + 1] - start_i[s] > 1 or start_u[su + 1] - start_u[su] > 1:
                deferred[nd] = s
                nd += 1
        # Pass 2: every deferred gradient from the old parameters first (a deferred row's partners
        # are all deferred too, so none has moved) ...
        # (Explicit branches throughout: an array picked by a branch inside a prange body is not
        # reliably written back by numba.)
        for j in prange(nd):
            for d in range(dim):
                grad[j, d] = zero
            s = deferred[j]
            if j < du:
                for k in range(start_u[s], start_u[s + 1]):
                    b = mem_u[k]
                    gb = g[b]
                    i = items[lo + b]
                    for d in range(dim):
                        grad[j, d] += gb * TI[i, 0, d]
            else:
                for k in range(start_i[s], start_i[s + 1]):
                    b = mem_i[k]
                    gb = g[b]
                    u = users[lo + b]
                    for d in range(dim):
                        grad[j, d] += gb * TU[u, 0, d]
        # ... then their Adam updates.
        for j in prange(nd):
            ahead = j + _PREFETCH_AHEAD
            if ahead < du:
                _prefetch(TU, uniq_u[deferred[ahead]], row_bytes)
            elif ahead < nd:
                _prefetch(TI, uniq_i[deferred[ahead]], row_bytes)
            gb = zero
            s = deferred[j]
            if j < du:
                r = uniq_u[s]
                for k in range(start_u[s], start_u[s + 1]):
                    gb += g[mem_u[k]]
                _adam_row(TU, r, grad, j, step_size, bc2_sqrt)
                _adam_bias(BU, r, gb, step_size, bc2_sqrt)
            else:
                r = uniq_i[s]
                for k in range(start_i[s], start_i[s + 1]):
                    gb += g[mem_i[k]]
                _adam_row(TI, r, grad, j, step_size, bc2_sqrt)
                _adam_bias(BI, r, gb, step_size, bc2_sqrt)
    return total


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
        self._user_slot = np.full(model.n_users, -1, dtype=np.int64)
        self._item_slot = np.full(model.n_items, -1, dtype=np.int64)
        self._work_i = np.zeros((8, self.batch_size + 1), dtype=np.int64)
        self._deferred = np.zeros(2 * self.batch_size, dtype=np.int64)
        self._grad = np.zeros((2 * self.batch_size, dim), dtype=np.float32)
        self._work_g = np.zeros((2, self.batch_size), dtype=np.float32)
        # A thread needs a few hundred rows per batch to outweigh the cost of its barriers.
        most = min(numba.config.NUMBA_NUM_THREADS, max(2, self.batch_size // 128))
        self._threads = _ThreadChooser(most, fixed=threads)

    def run(self, users, items, targets, weights, first_batch, last_batch) -> float:
        # The kernel is compiled for these dtypes; other ones would trigger a slow recompile.
        arrays = (
            np.ascontiguousarray(users, dtype=np.int64),
            np.ascontiguousarray(items, dtype=np.int64),
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
                total = _run_batches(
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
                self._adam(table, moments[0], moments[1], rows, row_grad)
                self._adam(bias, moments[2], moments[3], rows, bias_grad)
        return float(torch.stack(losses).sum()) if losses else 0.0

    def _adam(self, param, m, v, rows, grad):
        bias_correction1 = 1.0 - BETA1**self.step
        bias_correction2_sqrt = (1.0 - BETA2**self.step) ** 0.5
        m_rows = m[rows].lerp_(grad, 1.0 - BETA1)
        v_rows = v[rows].mul_(BETA2).addcmul_(grad, grad, value=1.0 - BETA2)
        m[rows] = m_rows
        v[rows] = v_rows
        denom = (v_rows.sqrt() / bias_correction2_sqrt).add_(EPS)
        param[rows] = param[rows].addcdiv_(m_rows, denom, value=-self.learning_rate / bias_correction1)

    def sync_to_model(self) -> None:
        pass


def make_stepper(model: NCF, batch_size: int, learning_rate: float) -> Stepper:
    """The fastest implementation for the model's device: numba on CPU, torch elsewhere."""
    if model.user_embedding.weight.device.type == "cpu":
        return NumbaStepper(model, batch_size, learning_rate)
    return TorchStepper(model, batch_size, learning_rate)
