"""The numba kernel behind :class:`recsys_core.training.NumbaStepper`: whole runs of mini-batches
of the fused NCF step (forward, hand-written gradients, lazy Adam on the touched rows) per call.

See :mod:`recsys_core.training._optim` for the maths; :func:`run_batches` is the entry point, the other
functions are inlined into it.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

BETA1 = 0.9
BETA2 = 0.999
#: torch.optim.Adam's default. (Keras, which the reference notebook used, defaults to 1e-7 and
#: adds it before the bias correction of sqrt(v); the difference only shows while sqrt(v) is of
#: the order of eps, i.e. for rows that have barely been touched.)
EPS = 1e-8

# error_model="numpy": IEEE division (inf/nan) instead of Python's ZeroDivisionError check, whose
# branch stops LLVM from vectorising the Adam loop. Rows are addressed as ``T[r, 0, k]`` rather
# than through row views, which would cost a reference-count update (an atomic shared by all
# threads) per view. No fastmath: it would let the compiler drop NaN checks and reorder sums.
_JIT = {"cache": True, "error_model": "numpy", "nogil": True}

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


@njit(**_JIT)
def adam_rows(P, M, V, rows, G, step_size, bc2_sqrt):
    """Lazy Adam on rows ``rows`` (distinct) of the 2-D tables ``P`` (parameters), ``M`` and
    ``V`` (moments), row ``s`` of ``G`` being the gradient of row ``rows[s]``: one pass where
    torch takes fifteen (gathers, elementwise ops and scatters of whole row blocks).
    ``step_size`` is ``lr / (1 - beta1**t)`` and ``bc2_sqrt`` ``sqrt(1 - beta2**t)``, float32."""
    for s in range(len(rows)):
        r = rows[s]
        for k in range(P.shape[1]):
            g = G[s, k]
            m_old = M[r, k]
            m = m_old + np.float32(1.0 - BETA1) * (g - m_old)  # torch's lerp for a weight below 0.5
            v = V[r, k] * np.float32(BETA2) + np.float32(1.0 - BETA2) * g * g
            M[r, k] = m
            V[r, k] = v
            P[r, k] -= step_size * (m / (np.sqrt(v) / bc2_sqrt + np.float32(EPS)))


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


@njit(inline="always", **_JIT)
def _first_pass_sample(
    b, lo, nb, users, items, targets, weights, weighted, TU, TI, BU, BI,
    start_u, start_i, which_u, which_i, g, losses, inv_nb, step_size, bc2_sqrt, row_bytes,
):  # fmt: skip
    """Pass 1 for sample ``b`` of the batch at ``lo``: forward, ``dL/dlogit`` into ``g[b]``, its
    loss into ``losses[b]``, and the whole update when its user and item occur only once."""
    one = np.float32(1.0)
    zero = np.float32(0.0)
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


@njit(inline="always", **_JIT)
def _loss_sum(losses, nb):
    """Sum of the batch's sample losses, in sample order (float64)."""
    batch_loss = 0.0
    for b in range(nb):
        batch_loss += losses[b]
    return batch_loss


@njit(inline="always", **_JIT)
def _collect_deferred(nu, ni, start_u, start_i, mem_u, mem_i, which_u, which_i, deferred):
    """The groups that pass 1 left: ``deferred[0:du]`` user groups, ``deferred[du:nd]`` item
    groups (a row that occurs several times, or a once-only row paired with one). Returns
    ``(du, nd)``."""
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
    return du, nd


@njit(inline="always", **_JIT)
def _deferred_gradient(
    j, du, dim, lo, deferred, users, items, TU, TI, start_u, start_i, mem_u, mem_i, g, grad
):
    """Sum deferred group ``j``'s row gradient into ``grad[j]`` from the old parameters (a
    deferred row's partners are all deferred too, so none has moved)."""
    zero = np.float32(0.0)
    for d in range(dim):
        grad[j, d] = zero
    s = deferred[j]
    # (Explicit branches throughout: an array picked by a branch inside a prange body is not
    # reliably written back by numba.)
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


@njit(inline="always", **_JIT)
def _deferred_update(
    j, du, nd, deferred, uniq_u, uniq_i, TU, TI, BU, BI, start_u, start_i, mem_u, mem_i, g, grad,
    step_size, bc2_sqrt, row_bytes,
):  # fmt: skip
    """Adam on deferred group ``j``'s row (gradient ``grad[j]``) and its bias."""
    ahead = j + _PREFETCH_AHEAD
    if ahead < du:
        _prefetch(TU, uniq_u[deferred[ahead]], row_bytes)
    elif ahead < nd:
        _prefetch(TI, uniq_i[deferred[ahead]], row_bytes)
    gb = np.float32(0.0)
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


@njit(parallel=True, **_JIT)
def run_batches(
    users, items, targets, weights, first_batch, last_batch, batch_size, TU, TI, BU, BI, step0, lr,
    user_slot, item_slot, work_i, deferred, grad, work_g,
):  # fmt: skip
    """Run mini-batches ``first_batch .. last_batch - 1``; return the sum of their mean losses.

    ``users``, ``items`` (codes, both int32 or both int64: numba compiles and caches one
    specialisation per dtype), ``targets`` (and ``weights``, or an empty array for weight 1) are
    in this epoch's order; batch ``k`` is rows ``k * batch_size`` onwards. ``TU``/``TI`` are the
    packed tables ``(rows, 3, dim)`` of (parameter, first moment, second moment), ``BU``/``BI``
    the packed biases ``(rows, 3)``. ``step0`` is Adam's step count before the first batch.
    Scratch: ``user_slot``/``item_slot`` int32 arrays of -1 (left as found), ``work_i`` int64
    ``(8, batch_size + 1)``, ``deferred`` int64 ``(2 * batch_size,)``, ``grad`` float32
    ``(2 * batch_size, dim)``, ``work_g`` float32 ``(2, batch_size)``.

    Each batch is one pass over its samples plus a short pass over the rows that need it. A
    sample whose user and item both occur only once in the batch (most samples: the tables are
    large and a batch small) is finished in the first pass: forward, gradient and both Adam
    updates while its two rows are in the L1 cache, each row read and written once. Rows that
    occur several times, and the once-only rows paired with them, are *deferred*: their
    gradients are summed over the batch from the old parameters (nothing they read has moved
    yet), then they are updated. The arithmetic per row is the same either way, so the result
    equals computing every gradient first and updating after, bit for bit. (The helpers are
    inlined: the loops compile as one function.)
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
    total = 0.0
    for batch in range(first_batch, last_batch):
        lo = batch * batch_size
        nb = min(batch_size, n - lo)
        inv_nb = np.float32(1.0) / np.float32(nb)
        nu = _group(users, lo, nb, user_slot, uniq_u, start_u, mem_u, which_u)
        ni = _group(items, lo, nb, item_slot, uniq_i, start_i, mem_i, which_i)
        step = step0 + batch - first_batch + 1
        step_size = np.float32(lr / (1.0 - BETA1**step))
        bc2_sqrt = np.float32(np.sqrt(1.0 - BETA2**step))
        # Pass 1: no two samples share a row that this pass writes, so threads never touch the
        # same memory.
        for b in prange(nb):
            _first_pass_sample(
                b, lo, nb, users, items, targets, weights, weighted, TU, TI, BU, BI,
                start_u, start_i, which_u, which_i, g, losses, inv_nb, step_size, bc2_sqrt, row_bytes,
            )  # fmt: skip
        total += _loss_sum(losses, nb) / nb
        du, nd = _collect_deferred(nu, ni, start_u, start_i, mem_u, mem_i, which_u, which_i, deferred)
        # Pass 2: every deferred gradient from the old parameters first, then their updates.
        for j in prange(nd):
            _deferred_gradient(
                j, du, dim, lo, deferred, users, items, TU, TI, start_u, start_i, mem_u, mem_i, g, grad
            )
        for j in prange(nd):
            _deferred_update(
                j, du, nd, deferred, uniq_u, uniq_i, TU, TI, BU, BI, start_u, start_i, mem_u, mem_i, g, grad,
                step_size, bc2_sqrt, row_bytes,
            )  # fmt: skip
    return total
