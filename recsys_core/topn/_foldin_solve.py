"""Fold-in's solver: the run's prior, and visitors' profiles solved in batches of bounded size.

Visitors are solved in batches of similar numbers of ratings, each padded to its own largest
visitor and sized so that its arrays stay within :data:`BATCH_CELLS` entries: memory grows with
the ratings given, never with (visitors x the largest visitor). A visitor with more ratings than
the profile has unknowns (``d + 1``) is solved in the profile's ``(d+1)``-sized space instead of
the ratings' ``m``-sized one: the same Newton steps (Woodbury), without an ``m x m`` matrix.
Padding and batching do not change a profile (the padded entries carry no weight).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from recsys_core.data import scale_ratings
from recsys_core.model import HYBRID_NEGATIVE_WEIGHT

if TYPE_CHECKING:
    from recsys_core.runs import Run

#: Multiplies the prior precision (1 = the trained customers' own spread).
PRIOR_STRENGTH = 1.0
#: Most float64 entries of one batch's largest arrays (16 MB each): bounds a batch's memory.
BATCH_CELLS = 1 << 21
#: Most visitors solved together (their Python work is per batch, not per visitor).
BATCH_VISITORS = 1024


@contextmanager
def one_thread() -> Iterator[None]:
    """Run small matrix products on one thread: on a busy machine, torch's thread pool turns a
    (50 x 201) @ (201 x 201) product from 0.3 ms into 75 ms (measured on the 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class Prior:
    """What fold-in needs from a run, computed once per model.

    ``basis`` ``W`` diagonalises both the prior precision ``Λ`` and the negatives' curvature
    ``G``: ``Wᵀ Λ W = I`` and ``Wᵀ G W = diag(curv)``, so ``(Λ + ωG)⁻¹ = W diag(1 / (1 + ω
    curv)) Wᵀ`` for every visitor's ``ω`` without a ``(d+1)``-sized solve per visitor.
    """

    q: torch.Tensor  # (n_items, d) float32, the frozen product vectors
    c: torch.Tensor  # (n_items,) float32, product biases
    mu: torch.Tensor  # (d+1,) float64, mean customer profile
    basis: torch.Tensor  # (d+1, d+1) float64, W
    curv: torch.Tensor  # (d+1,) float64
    neg_mean: torch.Tensor  # (d+1,) float64, Wᵀ Σ_i σ(z̄_i) q̃_i with z̄ the mean profile's logits


_PRIORS: weakref.WeakKeyDictionary[torch.nn.Module, Prior] = weakref.WeakKeyDictionary()


def prior_of(run: Run) -> Prior:
    """The run's fold-in prior, built on first use and kept with its model."""
    model = run.model
    if model in _PRIORS:
        return _PRIORS[model]
    with torch.no_grad():
        q = model.item_embedding.weight.detach().float().cpu().contiguous()
        c = model.item_bias.weight.detach().float().cpu().reshape(-1).contiguous()
        users = torch.cat(
            [model.user_embedding.weight.detach().cpu(), model.user_bias.weight.detach().cpu()], dim=1
        ).double()
        mu = users.mean(0)
        centred = users - mu
        cov = centred.T @ centred / max(len(users) - 1, 1) / PRIOR_STRENGTH
        # A little ridge keeps the covariance invertible when few customers were trained.
        cov += torch.eye(len(mu), dtype=torch.float64) * (1e-4 * float(cov.diagonal().mean()) + 1e-10)
        root = torch.linalg.cholesky(cov)  # Λ⁻¹ = R Rᵀ, so W = R V whitens Λ
        s = torch.sigmoid((q @ mu[:-1].float() + mu[-1].float() + c).double())
        q1 = torch.cat([q.double(), torch.ones(len(q), 1, dtype=torch.float64)], dim=1) @ root
        curv, vectors = torch.linalg.eigh((q1 * (s * (1 - s))[:, None]).T @ q1)
        basis = root @ vectors
        neg_mean = vectors.T @ (q1.T @ s)
    prior = Prior(q, c, mu, basis, curv.clamp(min=0), neg_mean)
    _PRIORS[model] = prior
    return prior


class Ragged:
    """Rows of different lengths in one flat tensor: ``self[row]`` is row ``row``'s entries."""

    def __init__(self, data: torch.Tensor, offsets: np.ndarray) -> None:
        self.data = data
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> torch.Tensor:
        return self.data[int(self.offsets[row]) : int(self.offsets[row + 1])]

    def __iter__(self) -> Iterator[torch.Tensor]:
        return (self[row] for row in range(len(self)))

    def _slots(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        counts = self.offsets[rows + 1] - self.offsets[rows]
        row_of = np.repeat(np.arange(len(rows)), counts)
        slot = np.arange(len(row_of)) - np.repeat(np.cumsum(counts) - counts, counts)
        return row_of, slot, np.repeat(self.offsets[rows], counts) + slot

    def positions(self, rows: np.ndarray) -> np.ndarray:
        """Flat positions of ``rows``' entries, row by row: the order of ``padded(rows)[mask > 0]``."""
        return self._slots(rows)[2].astype(np.int64)

    def padded(self, rows: np.ndarray, width: int, fill: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """``rows``' entries padded with ``fill`` to ``width``: ``(len(rows), width, …)`` and the
        ``(len(rows), width)`` float64 mask of real entries."""
        row_of, slot, flat = self._slots(rows)
        out = torch.full((len(rows), width, *self.data.shape[1:]), fill, dtype=self.data.dtype)
        mask = torch.zeros(len(rows), width, dtype=torch.float64)
        at = (torch.from_numpy(row_of), torch.from_numpy(slot))
        out[at] = self.data[torch.from_numpy(flat.astype(np.int64))]
        mask[at] = 1.0
        return out, mask


def batches(counts: np.ndarray, cost: Callable[[int], int]) -> Iterator[tuple[np.ndarray, int]]:
    """Rows grouped by ``counts`` (ascending) into batches of at most :data:`BATCH_VISITORS` rows
    whose ``rows x cost(width)`` stays within :data:`BATCH_CELLS` (one row always fits).

    Yields ``(rows, width)``, ``width`` the batch's largest count (at least 1).
    """
    order = np.argsort(counts, kind="stable")
    start = 0
    while start < len(order):
        stop = min(start + BATCH_VISITORS, len(order))
        while stop - start > 1:
            fits = BATCH_CELLS // max(cost(max(int(counts[order[stop - 1]]), 1)), 1)
            if stop - start <= fits:
                break
            stop = start + max(1, fits)
        yield order[start:stop], max(int(counts[order[stop - 1]]), 1)
        start = stop


def loss_weights(run: Run, stars: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Targets and weights of the run's objective: ``t_j``, ``w_j`` per rating, ``ω`` per visitor."""
    config = run.config
    scaled = torch.from_numpy(scale_ratings(stars.numpy(), run.rating_min, run.rating_max)).double()
    targets = torch.ones_like(scaled) if config.objective == "ranking" else scaled
    weights = mask.clone()
    for star, factor in config.multipliers.items():  # oversampling repeats a class factor times
        weights[stars == star] *= factor
    n_rated = mask.sum(1)
    omega = torch.zeros_like(n_rated)
    if config.objective in ("ranking", "hybrid") and config.negatives > 0:
        per_negative = HYBRID_NEGATIVE_WEIGHT if config.objective == "hybrid" else 1.0
        omega = per_negative * config.negatives * n_rated / (run.n_items - n_rated).clamp(min=1)
        # Capped below a rating's weight so that the loss stays convex in each rated product's
        # logit; binds only for catalogues smaller than ~30x the visitor's ratings.
        omega = omega.clamp(max=0.5)
    return targets, weights, omega


def solve(
    prior: Prior,
    q1: torch.Tensor,
    cr: torch.Tensor,
    targets: torch.Tensor,
    weights: torch.Tensor,
    omega: torch.Tensor,
    mask: torch.Tensor,
    steps: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Newton steps on the visitor's loss in the rated products' coefficients: ``(θ, shares)``.

    At the optimum ``θ = μ + A⁻¹ (Σ_j α_j q̃_j - ω r̄)`` with ``A = Λ + ωG`` and ``α_j = w_j t_j -
    (w_j - ω) σ(z_j)``; Newton solves for ``α``, and ``θ`` and the shares follow from ``α``
    exactly. Each step solves ``J Δ = F`` with ``J = I + D K``, ``K = Q̃ A⁻¹ Q̃ᵀ`` (``m x m``, ``m``
    = rated products); past ``m = d + 1`` the same ``Δ = F - D Q̃ H⁻¹ Q̃ᵀ F`` with
    ``H = A + Q̃ᵀ D Q̃`` (Woodbury) needs only ``(d+1)``-sized matrices.
    """
    qh = q1 @ prior.basis  # (B, m, d+1): rated products in the whitened basis
    inv = 1.0 / (1.0 + omega[:, None] * prior.curv)  # (B, d+1): A⁻¹ there
    scaled = qh * inv[:, None, :]
    wide = qh.shape[1] > qh.shape[2]
    kernel = None if wide else scaled @ qh.transpose(1, 2)  # (B, m, m): q̃_j A⁻¹ q̃_k
    base = q1 @ prior.mu + cr - omega[:, None] * (scaled @ prior.neg_mean)
    slope = (weights - omega[:, None]) * mask
    alpha = torch.zeros_like(base)
    for _ in range(steps):
        if wide:
            s = torch.sigmoid(base + (scaled @ (qh.transpose(1, 2) @ alpha[:, :, None])).squeeze(-1))
        else:
            s = torch.sigmoid(base + (kernel @ alpha[:, :, None]).squeeze(-1))
        residual = alpha - weights * targets + slope * s
        curvature = slope * s * (1 - s)
        if wide:
            hessian = torch.diag_embed(1.0 / inv) + (qh * curvature[:, :, None]).transpose(1, 2) @ qh
            inner = torch.linalg.solve(hessian, qh.transpose(1, 2) @ residual[:, :, None])
            alpha = alpha - residual + curvature * (qh @ inner).squeeze(-1)
        else:
            jacobian = torch.eye(base.shape[1], dtype=base.dtype) + curvature[:, :, None] * kernel
            alpha = alpha - torch.linalg.solve(jacobian, residual)
    n_rated = mask.sum(1, keepdim=True).clamp(min=1)
    neg_share = (mask * omega[:, None] / n_rated)[:, :, None] * prior.neg_mean
    shares = ((alpha[:, :, None] * qh - neg_share) * inv[:, None, :]) @ prior.basis.T  # (B, m, d+1)
    return prior.mu + shares.sum(1), shares
