"""How long a baseline would take, estimated before it is fitted: the ladder's time budget.

Each rung's work is counted in floating-point operations from the training matrix's shape and
its ratings (EASE's ``n³`` solve, iALS's per-rating ``f²`` updates, item-kNN's co-occurrences,
scoring a user over the whole catalogue), then turned into seconds with this machine's speed at a
matrix product (:func:`machine_flops`), measured once per process. The estimate is rough
(within a few times, on the side of too long: dense solves run slower than a product), which is
enough to skip what could never finish in the budget instead of starting it and timing out.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import scipy.sparse as sp

from recsys_core.baselines._ease import ease_side
from recsys_core.baselines._tune import Params

#: The whole ladder's default time budget (seconds); ``recsys evaluate`` and the app use it.
LADDER_TIME_BUDGET = 600.0
#: Dense solves, sparse products and Python overhead run slower than the measured product: EASE
#: on 2,500 customers x 12,000 products took 133 s for an estimated 1e12 operations at a measured
#: 8 GFLOP/s (0.9 of it); half keeps the estimate on the side of too long.
_EFFICIENCY = 0.5
#: The size of the product that measures the machine.
_PROBE = 1024
#: The speed assumed at least: a busy machine's one measurement can be many times too low.
_MIN_FLOPS = 1e9
#: Conjugate-gradient steps per row and sweep of implicit's iALS (its default).
_CG_STEPS = 3
#: Operations per product to mask a user's seen products and select the top of the list.
_SELECT = 20


@functools.cache
def machine_flops() -> float:
    """Floating-point operations per second of a 1024 x 1024 float64 product here (best of 2).

    Large enough that thread start-up does not count: on the 2-core machine under a load of 20,
    a 384-sized product measured anything from 2 to 95 GFLOP/s, this one 8 each time.
    """
    rng = np.random.default_rng(0)
    a, b = rng.random((_PROBE, _PROBE)), rng.random((_PROBE, _PROBE))
    best = np.inf
    for _ in range(2):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * _PROBE**3 / max(best, 1e-9)


def _pairs(train: sp.csr_matrix) -> float:
    """``Σ_u n_u²``: the co-occurrences ``XᵀX`` adds up (ratings per user, squared)."""
    per_user = np.diff(train.indptr).astype(np.float64)
    return float((per_user**2).sum())


def rung_flops(name: str, train: sp.csr_matrix, params: Params) -> tuple[float, float]:
    """``(fit, score one user)`` floating-point operations of rung ``name`` with ``params``."""
    n_users, n_items = train.shape
    nnz = float(train.nnz)
    if name == "ease":
        if ease_side(n_users, n_items) == "items":
            return n_items**3 + _pairs(train), nnz / max(n_users, 1) * n_items * 2
        return n_users**3 + 2 * nnz * n_users + _pairs(train.T.tocsr()), 2.0 * n_users * n_items
    if name == "ials":
        # implicit's conjugate-gradient solver: a few f-sized steps per row, not an f³ solve.
        factors = int(params.get("factors", 64))
        iterations = int(params.get("iterations", 15))
        per_sweep = _CG_STEPS * 2 * (nnz * factors + (n_users + n_items) * factors**2)
        return iterations * per_sweep, 2.0 * factors * n_items
    if name == "item_knn":
        return 4 * _pairs(train), 2.0 * nnz / max(n_users, 1) * float(params.get("neighbours", 200))
    return nnz, float(n_items)  # most popular: counts, and a copy of them per user


def _user_flops(name: str, train: sp.csr_matrix, params: Params) -> float:
    """Scoring one user, plus masking and selecting the top of the catalogue (a few per product)."""
    return rung_flops(name, train, params)[1] + _SELECT * train.shape[1]


def estimate_seconds(
    name: str, train: sp.csr_matrix, grid: list[Params], val_users: int, test_users: int
) -> float:
    """Seconds to tune rung ``name`` over ``grid`` (fit + score the validation users per point)
    and score the test users once, on this machine (:func:`machine_flops`)."""
    flops = 0.0
    for params in grid:
        flops += rung_flops(name, train, params)[0] + _user_flops(name, train, params) * val_users
    flops += _user_flops(name, train, grid[-1]) * test_users
    return flops / max(machine_flops() * _EFFICIENCY, _MIN_FLOPS)


def minutes(seconds: float) -> str:
    """``"about 12 min"``, ``"about 40 s"``."""
    return f"about {seconds / 60:.0f} min" if seconds >= 90 else f"about {max(seconds, 1):.0f} s"
