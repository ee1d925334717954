"""Fold-in: recommendations and "because you rated …" for people the model has never seen.

A visitor's ratings give them a profile ``θ = (p, b)`` (user vector and user bias) against the
run's frozen product embeddings ``q_i`` and biases ``c_i``; their score for product ``i`` is the
trained customers' ``sigmoid(<p, q_i> + b + c_i)``. Write ``q̃_i = (q_i, 1)`` so the logit is
``z_i = <θ, q̃_i> + c_i``. The profile minimises the run's own training loss for one user:

``Σ_rated w_j BCE(z_j, t_j) + ω Σ_unrated BCE(z_i, 0) + ½ (θ - μ)ᵀ Λ (θ - μ)``

with the objective's targets ``t_j`` (scaled stars, or 1 for ``ranking``), the oversampling
multiplier of the star as ``w_j``, and ``ω`` the expected weight an unrated product gets from
the sampled negatives (``negatives · n_rated / n_unrated``, times the hybrid negative weight; 0
for ``rating``). The prior ``(μ, Λ⁻¹)`` is the mean and covariance of the trained customers'
profiles: a visitor who rated nothing is the average customer. The unrated sum is linearised
around ``μ`` once per run (``Σ σ(z_i) q̃_i ≈ r̄ + G (θ - μ)``), so one visitor costs a few
``(d+1)``-sized Newton solves plus one pass over the catalogue to rank.

Explanations are exact: at the profile, ``(Λ + ωG)(θ - μ) = Σ_j v_j`` with one term ``v_j`` per
rated product (its residual ``w_j (t_j - σ(z_j))`` times ``q̃_j``, and its own share of the
negatives), so ``z_i = c_i + <μ, q̃_i> + Σ_j <q̃_i, (Λ + ωG)⁻¹ v_j>``: each rated product's
weight is its additive share of the suggestion's logit. The reported profile is that fixed point
taken after the Newton steps, so the shares add up to the shown score exactly.

A run with an item-kNN blend (:mod:`recsys_core.model._blend`) ranks visitors by the profile's logit
plus ``β · (h @ S)``, ``h`` the visitor's known rated products: each rated product ``j`` then
adds its model share plus ``β · S[j, i]`` to suggestion ``i``, and the sum is still exact.

Runs of the ``softmax`` objective fold visitors in under their own loss instead (a softmax over
the catalogue with the training's L2, no prior, no sampled negatives):
:mod:`recsys_core.topn._foldin_softmax`, whose shares add up exactly in the same way (with ``μ = 0``
and no user bias).

Method, chosen by numbers (fast preset, seed 42; every test customer's training ratings folded
in, their top 10 over the same candidates compared with the trained profile's; hit rate ratio =
fold-in hit@10 / trained hit@10, overlap = share of the trained top 10 kept):

=======================================  ==============  ==============
method                                   demo data       dense Amazon
=======================================  ==============  ==============
average customer only (no ratings used)  0.36 / 0.24     0.64 / 0.41
closed-form ridge (1 Newton step)        0.99 / 0.74     1.03 / 0.73
Newton, 2 steps                          0.95 / 0.79     1.07 / 0.82
Newton, 4 steps (kept; 8 is identical)   0.96 / 0.80     1.08 / 0.82
4 steps, prior x0.3 / x3                 1.01 / 0.77,    1.02 / 0.68,
                                         0.77 / 0.59     0.97 / 0.80
=======================================  ==============  ==============

(ratio / overlap; demo 5,000 and dense 1,535 test customers.) The ridge step ranks as well but
keeps only three quarters of the trained list; Newton on the model's own loss converges in 4
steps to the profile the trained customers would get, and the trained customers' own spread
(strength 1) is the prior that keeps most of the list on both data sets. Adam was not needed:
the loss is convex in ``θ`` and Newton converges in 4 steps. Speed (``benchmarks/fold_in.py``,
48,769 products, embedding 200, hybrid run, 2-core machine shared with other jobs, load ~6):
one visitor with 6-50 ratings, profile + ranking + top 10 + explanations, median 60 ms, p95
94 ms, against 39 / 52 ms for :func:`recsys_core.topn.recommend` of a trained customer
(ranking only) in the same process; the prior is built once per run (1.4-2 s). Explanations on
the demo data (``tests/topn/test_foldin.py``, 290 suggestions): removing the top explaining product
lowered the suggestion's score in 100 % of cases, and more than removing a random other rated
product in 100 % (hybrid run) and 95.5 % (softmax run, whose reasons cite only products rated at
or above the "likes it" line: :func:`_because`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from recsys_core.data import scale_ratings
from recsys_core.errors import RecsysError
from recsys_core.model import HYBRID_NEGATIVE_WEIGHT, maybe_add
from recsys_core.topn._foldin_softmax import SOFTMAX_NEWTON_STEPS, softmax_profiles
from recsys_core.topn._products import item_table, relative_match
from recsys_core.topn._recommend import check_n
from recsys_core.topn._select import popularity_order, select_top

if TYPE_CHECKING:
    from recsys_core.runs import Run

__all__ = [
    "BECAUSE_MAX",
    "NEWTON_STEPS",
    "PRIOR_STRENGTH",
    "Profiles",
    "VisitorRecommendations",
    "explain_user",
    "fold_in",
    "profile_logits",
    "recommend_visitors",
    "visitor_history",
]

#: Newton steps from the prior mean; see the module docstring for the convergence figures.
NEWTON_STEPS = 4
#: Multiplies the prior precision (1 = the trained customers' own spread).
PRIOR_STRENGTH = 1.0
#: Rated products listed per suggestion.
BECAUSE_MAX = 3
#: Visitors solved together: bounds the (visitors x rated x d) gather and the scored block.
_CHUNK = 256


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run small matrix products on one thread: on a busy machine, torch's thread pool turns a
    (50 x 201) @ (201 x 201) product from 0.3 ms into 75 ms (measured on the 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class _Prior:
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


_PRIORS: weakref.WeakKeyDictionary[torch.nn.Module, _Prior] = weakref.WeakKeyDictionary()


def _prior(run: Run) -> _Prior:
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
    prior = _Prior(q, c, mu, basis, curv.clamp(min=0), neg_mean)
    _PRIORS[model] = prior
    return prior


@dataclass
class Profiles:
    """Folded-in profiles of a batch of visitors (all tensors float64, rows = visitors).

    Attributes
    ----------
    users
        Visitor ids, in order.
    theta
        ``(B, d+1)``: user vector and user bias.
    items, stars, mask
        ``(B, m)`` rated item codes (padded with 0), their stars, and which entries are real.
    shares
        Per visitor ``(n_rated, d+1)``: ``θ = μ + Σ_j shares[j]``; product ``i``'s logit gets
        ``<q̃_i, shares[j]>`` from rated product ``j`` (rated products in the order of ``items``).
    ignored
        Rows per visitor whose product the run does not know.
    """

    users: list[str]
    theta: torch.Tensor
    items: torch.Tensor
    stars: torch.Tensor
    mask: torch.Tensor
    shares: list[torch.Tensor]
    ignored: np.ndarray


def _visitor_table(run: Run, frame: pd.DataFrame) -> pd.DataFrame:
    """Check stars against the run's scale; add item codes (-1 = unknown product)."""
    if frame is None or len(frame) == 0:
        raise RecsysError(
            "The visitor ratings hold no usable rows: give at least one (user, product, rating)."
        )
    stars = pd.to_numeric(frame["rating"], errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(stars) | (stars < run.rating_min) | (stars > run.rating_max)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise RecsysError(
            f"{int(bad.sum())} visitor rating(s) are outside this run's scale {run.rating_min:g}–"
            f"{run.rating_max:g} (first: {frame['rating'].iloc[row]!r} for product "
            f"{frame['item'].iloc[row]!r}); use stars on the scale the run was trained on."
        )
    table = pd.DataFrame({"user": frame["user"].astype(str).to_numpy(), "item": frame["item"].astype(str)})
    table["rating"] = stars
    table["code"] = run.id_map.items.get_indexer(table["item"].to_numpy())
    return table


def _loss_weights(run: Run, stars: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
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


def _solve(
    prior: _Prior,
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
    (w_j - ω) σ(z_j)``; Newton solves for ``α`` (an ``m``-sized system per visitor, ``m`` = rated
    products), and ``θ`` and the shares follow from ``α`` exactly.
    """
    qh = q1 @ prior.basis  # (B, m, d+1): rated products in the whitened basis
    inv = 1.0 / (1.0 + omega[:, None] * prior.curv)  # (B, d+1): A⁻¹ there
    scaled = qh * inv[:, None, :]
    kernel = scaled @ qh.transpose(1, 2)  # (B, m, m): q̃_j A⁻¹ q̃_k
    base = q1 @ prior.mu + cr - omega[:, None] * (scaled @ prior.neg_mean)
    slope = (weights - omega[:, None]) * mask
    alpha = torch.zeros_like(base)
    eye = torch.eye(base.shape[1], dtype=base.dtype)
    for _ in range(steps):
        s = torch.sigmoid(base + (kernel @ alpha[:, :, None]).squeeze(-1))
        residual = alpha - weights * targets + slope * s
        jacobian = eye + (slope * s * (1 - s))[:, :, None] * kernel
        alpha = alpha - torch.linalg.solve(jacobian, residual)
    n_rated = mask.sum(1, keepdim=True).clamp(min=1)
    neg_share = (mask * omega[:, None] / n_rated)[:, :, None] * prior.neg_mean
    shares = ((alpha[:, :, None] * qh - neg_share) * inv[:, None, :]) @ prior.basis.T  # (B, m, d+1)
    return prior.mu + shares.sum(1), shares


def fold_in(run: Run, frame: pd.DataFrame, *, steps: int | None = None) -> Profiles:
    """Fold the visitors in ``frame`` (columns ``user, item, rating``) into ``run``.

    ``steps`` Newton steps solve each profile (default :data:`NEWTON_STEPS`, or
    :data:`~recsys_core.topn._foldin_softmax.SOFTMAX_NEWTON_STEPS` for a ``softmax`` run, which
    folds in under the softmax loss).

    Products the run does not know are dropped and counted in :attr:`Profiles.ignored`; a
    visitor with no known product gets the prior mean (the average customer) and no shares.

    Raises
    ------
    RecsysError
        When ``frame`` is empty or a star lies outside the run's rating scale.
    """
    table = _visitor_table(run, frame)
    prior = _prior(run)
    users = list(pd.unique(table["user"]))
    order = pd.Index(users)
    row_of = order.get_indexer(table["user"])
    ignored = np.bincount(row_of[table["code"].to_numpy() < 0], minlength=len(users))
    known = table[table["code"] >= 0]
    known_rows = order.get_indexer(known["user"])
    counts = np.bincount(known_rows, minlength=len(users))
    m = max(int(counts.max()) if len(counts) else 0, 1)
    slot = known.groupby(known_rows).cumcount().to_numpy()
    items = torch.zeros(len(users), m, dtype=torch.long)
    stars = torch.full((len(users), m), float(run.rating_max), dtype=torch.float64)
    mask = torch.zeros(len(users), m, dtype=torch.float64)
    at = (torch.from_numpy(known_rows.astype(np.int64)), torch.from_numpy(slot.astype(np.int64)))
    items[at] = torch.from_numpy(known["code"].to_numpy(np.int64, copy=True))
    stars[at] = torch.from_numpy(known["rating"].to_numpy(np.float64, copy=True))
    mask[at] = 1.0
    targets, weights, omega = _loss_weights(run, stars, mask)
    softmax = run.config.objective == "softmax"
    if steps is None:
        steps = SOFTMAX_NEWTON_STEPS if softmax else NEWTON_STEPS
    theta = torch.empty(len(users), len(prior.mu), dtype=torch.float64)
    shares: list[torch.Tensor] = [torch.zeros(0, len(prior.mu), dtype=torch.float64)] * len(users)
    # Visitors with similar numbers of ratings are solved together, padded to their own maximum.
    by_count = np.argsort(counts, kind="stable")
    for start in range(0, len(users), _CHUNK):
        rows = torch.from_numpy(by_count[start : start + _CHUNK].copy())
        width = max(int(counts[rows.numpy()].max()), 1)
        part_items, part_mask = items[rows, :width], mask[rows, :width]
        q1 = torch.cat([prior.q[part_items].double(), part_mask[:, :, None]], dim=2) * part_mask[:, :, None]
        cr = prior.c[part_items].double()
        with _one_thread():
            if softmax:
                solved, share = softmax_profiles(prior.q, prior.c, part_items, part_mask, steps=steps)
            else:
                solved, share = _solve(
                    prior, q1, cr, targets[rows, :width], weights[rows, :width], omega[rows], part_mask, steps
                )
        theta[rows] = solved
        for offset, row in enumerate(rows.tolist()):
            shares[row] = share[offset, : counts[row]]
    return Profiles(users, theta, items, stars, mask, shares, ignored)


def _scores(prior: _Prior, theta: torch.Tensor) -> torch.Tensor:
    t = theta.float()
    return t[:, :-1] @ prior.q.T + t[:, -1:] + prior.c


def profile_logits(run: Run, profiles: Profiles, rows: slice | None = None) -> torch.Tensor:
    """Logits of every product for the profiles in ``rows`` (all by default): ``(B, n_items)``.

    ``torch.sigmoid`` of them is the score a trained customer with that profile would get.
    """
    return _scores(_prior(run), profiles.theta[rows or slice(None)])


def visitor_history(run: Run, profiles: Profiles, rows: slice | None = None) -> sp.csr_matrix:
    """Binary CSR ``(visitors, n_items)`` of the known products each visitor in ``rows`` rated:
    the history of the item-kNN blend (repeats count once)."""
    items = profiles.items[rows or slice(None)].numpy()
    mask = profiles.mask[rows or slice(None)].numpy() > 0
    row_of = np.nonzero(mask)[0]
    history = sp.csr_matrix(
        (np.ones(len(row_of), dtype=np.float32), (row_of, items[mask])), shape=(len(items), run.n_items)
    )
    history.sum_duplicates()
    history.data[:] = 1.0
    return history


@dataclass
class VisitorRecommendations:
    """One visitor's answer.

    Attributes
    ----------
    user
        The visitor's id.
    fallback
        ``True`` when no rated product is known to the run: ``table`` is then the most popular
        products (most training ratings), scored for the average customer.
    ignored
        Rated products the run does not know (left out).
    table
        ``rank, item, score, match`` (+ ``name, category`` with a product table), ``because``: a
        list of ``{"item", "rating", "weight", "kind"}`` per row, the reasons that add most to the
        row's logit (positive shares only, largest first, at most :data:`BECAUSE_MAX`): products
        rated at or above the "likes it" line (``kind="liked"``) and low ratings that raise
        products unlike them (``"less like"``); and ``low_rated``, the products rated below the
        line that raise the row like interest would (see :func:`_because`).
    """

    user: str
    fallback: bool
    ignored: int
    table: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict:
        """The CLI's JSON object: ``user, fallback, ignored, recommendations``."""
        records = [
            {
                "item": str(row.item),
                "score": float(row.score),
                "match": float(row.match),
                "because": list(row.because),
                "low_rated": list(row.low_rated),
            }
            for row in self.table.itertuples(index=False)
        ]
        return {
            "user": self.user,
            "fallback": self.fallback,
            "ignored": self.ignored,
            "recommendations": records,
        }


def _because(
    run: Run, profiles: Profiles, row: int, top: np.ndarray, prior: _Prior
) -> tuple[list[list[dict]], list[list[dict]]]:
    """Per suggestion, the reasons (:data:`BECAUSE_MAX` at most) and the low ratings that raised it.

    Every rated product with a positive share raises a suggestion; which of them are *reasons*
    depends on what the rating said. One at or above the run's "likes it" line
    (``config.positive_rating``) is cited as ``kind="liked"``. One below it is cited only when its
    rating pushed the profile away from it (its share lowers its own score: a low star under the
    rating objectives), so it raises products unlike it: ``kind="less like"``. One below the line
    that pulled the profile towards it (every rating of a ``softmax`` run counts as interest, and
    the item-kNN blend reads any rating as one) is no reason anyone would give: it goes to the
    second list when it raises the suggestion as much as a cited reason would (the top
    :data:`BECAUSE_MAX` of all positive shares), so a page can say so. Largest share first.
    """
    n_rated = int(profiles.mask[row].sum())
    if n_rated == 0 or len(top) == 0:
        return [[] for _ in top], [[] for _ in top]
    rated = profiles.items[row, :n_rated].numpy()
    shares = profiles.shares[row]
    codes = torch.from_numpy(np.r_[top, rated].astype(np.int64))
    q1 = torch.cat([prior.q[codes].double(), torch.ones(len(codes), 1, dtype=torch.float64)], dim=1)
    with _one_thread():
        both = (q1 @ shares.T).numpy()  # (n + rated, rated)
    weights = both[: len(top)]
    # A rating's share of its own product's logit: < 0 when it pushed the profile away from it.
    away = np.diagonal(both[len(top) :]) < 0
    if run.blend is not None:  # each rated product's kNN share: β · S[rated, suggestion]
        weights = weights + run.blend.contributions(rated, top)
    stars = profiles.stars[row, :n_rated].numpy()
    liked = stars >= run.config.positive_rating
    kinds = np.where(liked, "liked", np.where(away, "less like", ""))
    names = np.asarray(run.id_map.items[rated], dtype=object)
    reasons, low = [], []
    for w in weights:
        order = np.argsort(-w, kind="stable")
        order = order[w[order] > 0]
        cited = order[kinds[order] != ""][:BECAUSE_MAX]
        entries = [
            {"item": str(names[j]), "rating": float(stars[j]), "weight": float(w[j]), "kind": str(kinds[j])}
            for j in order[:BECAUSE_MAX].tolist() + cited.tolist()
        ]
        top = len(order[:BECAUSE_MAX])
        reasons.append(entries[top:])
        low.append([e for e in entries[:top] if not e["kind"]])
    return reasons, low


def recommend_visitors(
    run: Run, frame: pd.DataFrame, n: int = 10, *, explain: bool = True, steps: int | None = None
) -> list[VisitorRecommendations]:
    """Top-``n`` products each visitor in ``frame`` has not rated, in the trained score scale.

    Parameters
    ----------
    run
        A trained or loaded run (its model stays unchanged).
    frame
        Columns ``user, item, rating`` (e.g. ``load_ratings(path).frame``), any number of visitors.
    n
        List length.
    explain
        Fill ``because`` (else empty lists).

    Returns
    -------
    list of VisitorRecommendations
        One per visitor, in order of first appearance in ``frame``.
    """
    n = check_n(n)
    profiles = fold_in(run, frame, steps=steps)
    prior = _prior(run)
    out = []
    popular = popularity_order(np.asarray(run.popularity, dtype=np.float64))[:n]
    for start in range(0, len(profiles.users), _CHUNK):
        stop = min(start + _CHUNK, len(profiles.users))
        logits = _scores(prior, profiles.theta[start:stop])
        maybe_add(run.blend, logits, visitor_history(run, profiles, slice(start, stop)))
        rated = profiles.mask[start:stop]
        rows, slots = rated.nonzero(as_tuple=True)
        logits[rows, profiles.items[start:stop][rows, slots]] = -torch.inf  # never their own products
        tops, _ = select_top(logits, n)
        for offset, user in enumerate(profiles.users[start:stop]):
            row = start + offset
            fallback = not bool(rated[offset].any())
            top = popular if fallback else tops[offset][tops[offset] >= 0].numpy()
            chosen = logits[offset][torch.from_numpy(top)]
            scores = torch.sigmoid(chosen).double().numpy()
            none = [[] for _ in top]
            because, low = _because(run, profiles, row, top, prior) if explain else (none, none)
            table = item_table(run, top, scores)
            table.insert(3, "match", relative_match(chosen.double().numpy()))
            table["because"], table["low_rated"] = because, low
            out.append(VisitorRecommendations(str(user), fallback, int(profiles.ignored[row]), table))
    return out


def explain_user(
    run: Run, user_id: str, n: int = 10, *, ratings: pd.DataFrame | None = None
) -> VisitorRecommendations:
    """A trained customer's usual list (:func:`recsys_core.topn.recommend`) with ``because`` added.

    The shares come from folding in the customer's own train and validation products, whose
    logit split is exact (module docstring); the list and scores stay the trained model's.
    A saved run keeps which products a customer rated but not their stars, so ``ratings`` (a
    frame ``user, item, rating``) supplies them when given; otherwise each star is the run's own
    prediction for that pair (its rating head for ``hybrid`` runs), on the run's scale.
    """
    from recsys_core.topn._recommend import recommend

    recs = recommend(run, user_id, n)
    table = recs.table.drop(columns=[c for c in ("count",) if c in recs.table.columns])
    code = run.id_map.user_code(recs.user) if recs.known_user else None
    if code is None:
        table["because"] = table["low_rated"] = [[] for _ in range(len(table))]
        return VisitorRecommendations(recs.user, True, 0, table)
    rated = run.seen_matrix()[code].indices.astype(np.int64)
    stars = run.rating_min + run.score_pairs(np.full(len(rated), code), rated) * (
        run.rating_max - run.rating_min
    )
    mine = pd.DataFrame(
        {"user": recs.user, "item": np.asarray(run.id_map.items[rated], dtype=object), "rating": stars}
    )
    if ratings is not None:
        given = ratings[ratings["user"].astype(str) == recs.user].set_index(ratings["item"].astype(str))[
            "rating"
        ]
        known = mine["item"].isin(given.index)
        mine.loc[known, "rating"] = given.reindex(mine.loc[known, "item"]).to_numpy(np.float64)
    profiles = fold_in(run, mine)
    codes = run.id_map.items.get_indexer(table["item"].astype(str).to_numpy())
    table["because"], table["low_rated"] = _because(run, profiles, 0, codes.astype(np.int64), _prior(run))
    return VisitorRecommendations(recs.user, False, 0, table)
