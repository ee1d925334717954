"""Fold-in under the ``softmax`` objective: a visitor's profile by the run's own softmax loss.

A ``softmax`` run (:func:`recsys_core.training.train_softmax`) trained each customer's vector
``p`` to minimise

``L(p) = -Σ_j w_j log softmax(z)_j + λ |p|²``,  ``z = Q p + c``

over the products ``j`` they rated (each distinct product once, ``w_j = 1``), the softmax running
over the whole catalogue, with the training's L2 ``λ`` (:data:`~recsys_core.training.SOFTMAX_L2`).
The user bias cancels in a softmax (training holds it at 0), so a visitor has ``d`` unknowns.
``L`` is convex; Newton steps from ``p = 0`` (gradient ``-Σ_j w_j q_j + m q̄ + 2λ p``, Hessian
``m (Σ_i π_i q_i q_iᵀ - q̄ q̄ᵀ) + 2λ I`` with ``π = softmax(z)``, ``q̄ = Σ_i π_i q_i`` and
``m = Σ_j w_j``) converge in a few steps. No prior is needed: ``λ`` is the training's own.

Explanations are exact: at the optimum the gradient vanishes, so
``p = Σ_j w_j (q_j - q̄) / (2λ)``: one share per rated product, its vector minus the
softmax-weighted mean product. The reported profile is that sum taken at the last Newton iterate,
so ``z_i = c_i + Σ_j <q_i, share_j>`` holds exactly for the shown scores.
"""

from __future__ import annotations

import torch

from recsys_core.model import SOFTMAX_L2

#: Newton steps from ``p = 0``. On the softmax run of tests/topn/test_foldin.py (100 customers' own
#: products) the largest gradient norm falls from 294 (at 0) to 17 after 4 steps, 2e-5 after 6
#: and 1e-13 after 8: the first steps are long, then convergence is quadratic.
SOFTMAX_NEWTON_STEPS = 6
#: Most (visitors x products x d) float64 entries held at once for the Hessians (128 MB).
_HESSIAN_CELLS = 1 << 24


def duplicate_weights(items: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``w_j``: 1 per distinct rated product of a row, split over its repeats (training counts a
    product once however often it was rated)."""
    # Counted over the real entries only (no (B, m, m) comparison: a row may hold thousands).
    real = mask > 0
    rows = torch.arange(len(items))[:, None].expand_as(items)
    keys = rows[real] * (int(items.max()) + 1 if items.numel() else 1) + items[real]
    _, inverse, counts = torch.unique(keys, return_inverse=True, return_counts=True)
    weights = torch.zeros_like(mask)
    weights[real] = 1.0 / counts[inverse].to(mask.dtype)
    return weights


def _softmax_mean(q: torch.Tensor, c: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``π = softmax(Q p + c)`` per row and ``q̄ = Σ_i π_i q_i``."""
    pi = torch.softmax(p @ q.T + c, dim=1)
    return pi, pi @ q


def softmax_profiles(
    q: torch.Tensor,
    c: torch.Tensor,
    items: torch.Tensor,
    mask: torch.Tensor,
    *,
    steps: int = SOFTMAX_NEWTON_STEPS,
    l2: float = SOFTMAX_L2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold a batch of visitors into a ``softmax`` run.

    Parameters
    ----------
    q, c
        The run's product vectors ``(n_items, d)`` and biases ``(n_items,)``.
    items, mask
        ``(B, m)`` rated product codes (padding: any code) and 1.0 where the entry is real.
    steps, l2
        Newton steps from ``p = 0``; the training's L2 penalty.

    Returns
    -------
    theta, shares
        ``(B, d+1)`` profiles (user vector, user bias 0) and ``(B, m, d+1)`` shares with
        ``theta = Σ_j shares[:, j]`` (float64; padding entries share 0).
    """
    q64, c64 = q.double(), c.double()
    n_items, d = q64.shape
    weights = duplicate_weights(items, mask).double()
    m = weights.sum(1, keepdim=True)
    q_rated = q64[items] * weights[:, :, None]  # (B, m, d): w_j q_j
    pull = q_rated.sum(1)  # Σ_j w_j q_j
    p = torch.zeros(len(items), d, dtype=torch.float64)
    eye = torch.eye(d, dtype=torch.float64)
    rows_at_once = max(1, _HESSIAN_CELLS // max(n_items * d, 1))
    for _ in range(steps):
        pi, mean = _softmax_mean(q64, c64, p)
        grad = m * mean - pull + 2.0 * l2 * p
        for lo in range(0, len(p), rows_at_once):
            part = slice(lo, lo + rows_at_once)
            second = (pi[part, :, None] * q64).transpose(1, 2) @ q64  # Σ_i π_i q_i q_iᵀ
            outer = mean[part, :, None] * mean[part, None, :]
            hessian = m[part, :, None] * (second - outer) + 2.0 * l2 * eye
            p[part] -= torch.linalg.solve(hessian, grad[part])
    _, mean = _softmax_mean(q64, c64, p)
    shares = (q_rated - weights[:, :, None] * mean[:, None, :]) / (2.0 * l2)
    shares = torch.cat([shares, torch.zeros(*shares.shape[:2], 1, dtype=torch.float64)], dim=2)
    return shares.sum(1), shares
