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
or above the "likes it" line: :mod:`recsys_core.topn._foldin_reasons`).

Memory grows with the ratings given, not with visitors x the largest visitor: profiles are solved
in batches of similar sizes with bounded arrays (:mod:`recsys_core.topn._foldin_solve`), and
:func:`iter_visitor_blocks` folds in, ranks and explains :data:`CHUNK` visitors at a time, in
order, with a progress callback, so a file of a million visitors streams through. Each
suggestion carries its ``match`` (:func:`~recsys_core.topn._products.relative_match`), its reasons
and the low ratings that raised it (:mod:`recsys_core.topn._foldin_reasons`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from recsys_core.errors import RecsysError, plain
from recsys_core.model import maybe_add
from recsys_core.topn._foldin_reasons import BECAUSE_MAX, empty_lists, reasons
from recsys_core.topn._foldin_softmax import SOFTMAX_NEWTON_STEPS, softmax_profiles
from recsys_core.topn._foldin_solve import (
    PRIOR_STRENGTH,
    Prior,
    Ragged,
    batches,
    loss_weights,
    one_thread,
    prior_of,
    solve,
)
from recsys_core.topn._products import relative_match, with_products
from recsys_core.topn._recommend import check_n
from recsys_core.topn._select import popularity_order, select_top

if TYPE_CHECKING:
    from recsys_core.runs import Run

__all__ = [
    "BECAUSE_MAX",
    "CHUNK",
    "NEWTON_STEPS",
    "PRIOR_STRENGTH",
    "Profiles",
    "VisitorBlock",
    "VisitorRecommendations",
    "explain_user",
    "fold_in",
    "iter_visitor_blocks",
    "profile_logits",
    "recommend_visitors",
    "visitor_history",
]

#: Newton steps from the prior mean; see the module docstring for the convergence figures.
NEWTON_STEPS = 4
#: Visitors ranked together: bounds the (visitors x catalogue) block of logits.
CHUNK = 256
#: Most float64 entries of one block's shares (ratings x (d+1), 128 MB): a block holds fewer
#: visitors when they rated thousands of products each.
CHUNK_CELLS = 1 << 24
#: What :func:`iter_visitor_blocks` reports progress under.
PROGRESS_LABEL = "Folding in visitors"

#: ``(label, done, total)``: the progress reports of the CLI's bar and the app's jobs.
Progress = Callable[[str, int, int], None]


@dataclass
class Profiles:
    """Folded-in profiles of a batch of visitors (all tensors float64 but ``items``; rows = visitors).

    Attributes
    ----------
    users
        Visitor ids, in order.
    theta
        ``(B, d+1)``: user vector and user bias.
    items, stars
        Per visitor: the codes of the rated products the run knows (long) and their stars.
    shares
        Per visitor ``(n_rated, d+1)``: ``θ = μ + Σ_j shares[j]``; product ``i``'s logit gets
        ``<q̃_i, shares[j]>`` from rated product ``j`` (rated products in the order of ``items``).
    ignored
        Rows per visitor whose product the run does not know.
    """

    users: list[str]
    theta: torch.Tensor
    items: Ragged
    stars: Ragged
    shares: Ragged
    ignored: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        """Known rated products per visitor."""
        return np.diff(self.items.offsets)


@dataclass
class _Visitors:
    """A frame's visitors in order of first appearance, their known ratings flat, visitor by visitor."""

    users: list[str]
    offsets: np.ndarray  # (visitors + 1,): visitor v's ratings are codes[offsets[v]:offsets[v + 1]]
    codes: np.ndarray
    stars: np.ndarray
    ignored: np.ndarray

    def part(self, start: int, stop: int) -> _Visitors:
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        return _Visitors(
            self.users[start:stop],
            self.offsets[start : stop + 1] - lo,
            self.codes[lo:hi],
            self.stars[lo:hi],
            self.ignored[start:stop],
        )


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
        shown = plain(frame["rating"].iloc[row] if np.isnan(stars[row]) else stars[row])
        raise RecsysError(
            f"{int(bad.sum())} visitor rating(s) are outside this run's scale {run.rating_min:g}–"
            f"{run.rating_max:g} (first: {shown} for product {str(frame['item'].iloc[row])!r}); use "
            "stars on the scale the run was trained on."
        )
    table = pd.DataFrame({"user": frame["user"].astype(str).to_numpy(), "item": frame["item"].astype(str)})
    table["rating"] = stars
    table["code"] = run.id_map.items.get_indexer(table["item"].to_numpy())
    return table


def _visitors(run: Run, frame: pd.DataFrame) -> _Visitors:
    table = _visitor_table(run, frame)
    users = pd.unique(table["user"])
    row_of = pd.Index(users).get_indexer(table["user"])
    codes = table["code"].to_numpy(np.int64)
    known = codes >= 0
    ignored = np.bincount(row_of[~known], minlength=len(users))
    # Each visitor's ratings together, in the frame's order within a visitor.
    order = np.argsort(row_of[known], kind="stable")
    counts = np.bincount(row_of[known], minlength=len(users))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    stars = table["rating"].to_numpy(np.float64)[known][order]
    return _Visitors([str(u) for u in users], offsets, codes[known][order], stars, ignored)


def _solve_batch(
    run: Run, prior: Prior, profiles: Profiles, rows: np.ndarray, width: int, steps: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    items, mask = profiles.items.padded(rows, width)
    with one_thread():
        if run.config.objective == "softmax":
            theta, shares = softmax_profiles(prior.q, prior.c, items, mask, steps=steps)
            return theta, shares, mask
        stars, _ = profiles.stars.padded(rows, width, fill=float(run.rating_max))
        targets, weights, omega = loss_weights(run, stars, mask)
        q1 = torch.cat([prior.q[items].double(), mask[:, :, None]], dim=2) * mask[:, :, None]
        theta, shares = solve(prior, q1, prior.c[items].double(), targets, weights, omega, mask, steps)
    return theta, shares, mask


def _profiles(run: Run, prior: Prior, visitors: _Visitors, steps: int | None) -> Profiles:
    """Every visitor's profile, solved in batches of similar sizes (:func:`batches`)."""
    if steps is None:
        steps = SOFTMAX_NEWTON_STEPS if run.config.objective == "softmax" else NEWTON_STEPS
    size = len(prior.mu)
    items = Ragged(torch.from_numpy(visitors.codes), visitors.offsets)
    stars = Ragged(torch.from_numpy(visitors.stars), visitors.offsets)
    shares = Ragged(torch.zeros(len(visitors.codes), size, dtype=torch.float64), visitors.offsets)
    theta = torch.empty(len(visitors.users), size, dtype=torch.float64)
    profiles = Profiles(visitors.users, theta, items, stars, shares, visitors.ignored)

    def cost(width: int) -> int:  # the largest arrays of one visitor in a batch
        if run.config.objective == "softmax":
            return width * size + run.n_items
        return width * size + min(width, size) ** 2

    for rows, width in batches(profiles.counts, cost):
        solved, share, mask = _solve_batch(run, prior, profiles, rows, width, steps)
        theta[torch.from_numpy(rows)] = solved
        shares.data[torch.from_numpy(shares.positions(rows))] = share[mask > 0]
    return profiles


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
    visitors = _visitors(run, frame)
    return _profiles(run, prior_of(run), visitors, steps)


def _scores(prior: Prior, theta: torch.Tensor) -> torch.Tensor:
    t = theta.float()
    return t[:, :-1] @ prior.q.T + t[:, -1:] + prior.c


def profile_logits(run: Run, profiles: Profiles, rows: slice | None = None) -> torch.Tensor:
    """Logits of every product for the profiles in ``rows`` (all by default): ``(B, n_items)``.

    ``torch.sigmoid`` of them is the score a trained customer with that profile would get.
    """
    return _scores(prior_of(run), profiles.theta[rows or slice(None)])


def visitor_history(run: Run, profiles: Profiles, rows: slice | None = None) -> sp.csr_matrix:
    """Binary CSR ``(visitors, n_items)`` of the known products each visitor in ``rows`` rated:
    the history of the item-kNN blend (repeats count once)."""
    start, stop, _ = (rows or slice(None)).indices(len(profiles.users))
    offsets = profiles.items.offsets[start : stop + 1]
    codes = profiles.items.data[int(offsets[0]) : int(offsets[-1])].numpy()
    history = sp.csr_matrix(
        (np.ones(len(codes), dtype=np.float32), codes, offsets - offsets[0]),
        shape=(stop - start, run.n_items),
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
        line that raise the row like interest would (:mod:`recsys_core.topn._foldin_reasons`).
    """

    user: str
    fallback: bool
    ignored: int
    table: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict:
        """The CLI's JSON object: ``user, fallback, ignored, recommendations``."""
        return _record(self.user, self.fallback, self.ignored, self.table)


def _record(user: str, fallback: bool, ignored: int, table: pd.DataFrame) -> dict:
    columns = (table[c].to_numpy() for c in ("item", "score", "match", "because", "low_rated"))
    records = [_suggestion(*values) for values in zip(*columns, strict=True)]
    return {"user": user, "fallback": bool(fallback), "ignored": int(ignored), "recommendations": records}


def _suggestion(item: object, score: float, match: float, because: list, low_rated: list) -> dict:
    """One row of the CLI's JSON: ``item, score, match, because, low_rated``."""
    return {
        "item": str(item),
        "score": float(score),
        "match": float(match),
        "because": list(because),
        "low_rated": list(low_rated),
    }


@dataclass
class VisitorBlock:
    """The answers of consecutive visitors, as one long table.

    Attributes
    ----------
    users, fallback, ignored
        Per visitor, in order: the id, whether the list is the most popular products (no rated
        product known to the run) and how many rated products the run does not know.
    table
        ``user, rank, item, score, match`` (+ ``name, category``), ``because`` and ``low_rated``
        (as :class:`VisitorRecommendations`'), the visitors' rows one after another;
        ``offsets[v]:offsets[v + 1]`` are visitor ``v``'s.
    offsets
        ``(visitors + 1,)`` row positions.
    """

    users: list[str]
    fallback: np.ndarray
    ignored: np.ndarray
    table: pd.DataFrame = field(repr=False)
    offsets: np.ndarray = field(repr=False)

    def answers(self) -> list[VisitorRecommendations]:
        """One :class:`VisitorRecommendations` per visitor."""
        body = self.table.drop(columns="user")
        return [
            VisitorRecommendations(
                user, bool(fallback), int(ignored), body.iloc[lo:hi].reset_index(drop=True)
            )
            for user, fallback, ignored, lo, hi in zip(
                self.users, self.fallback, self.ignored, self.offsets[:-1], self.offsets[1:], strict=True
            )
        ]

    def records(self) -> Iterator[dict]:
        """:meth:`VisitorRecommendations.to_dict` of each visitor, without a table per visitor."""
        columns = [self.table[c].to_numpy() for c in ("item", "score", "match", "because", "low_rated")]
        for user, fallback, ignored, lo, hi in zip(
            self.users, self.fallback, self.ignored, self.offsets[:-1], self.offsets[1:], strict=True
        ):
            yield {
                "user": user,
                "fallback": bool(fallback),
                "ignored": int(ignored),
                "recommendations": [_suggestion(*(c[r] for c in columns)) for r in range(lo, hi)],
            }


def _block(
    run: Run, prior: Prior, profiles: Profiles, n: int, popular: np.ndarray, explain: bool
) -> VisitorBlock:
    """Rank and explain one chunk of folded-in visitors."""
    counts = profiles.counts
    logits = _scores(prior, profiles.theta)
    maybe_add(run.blend, logits, visitor_history(run, profiles))
    owner = torch.from_numpy(np.repeat(np.arange(len(counts)), counts))
    logits[owner, profiles.items.data] = -torch.inf  # never their own products
    top = select_top(logits, n)[0].numpy().copy()
    fallback = counts == 0
    top[fallback] = -1
    top[np.ix_(fallback, np.arange(len(popular)))] = popular
    real = top >= 0
    chosen = logits.gather(1, torch.from_numpy(top).clamp(min=0))
    scores = torch.sigmoid(chosen).double().numpy()
    match = relative_match(np.where(real, chosen.double().numpy(), np.nan))  # per visitor's list
    if explain:
        because, low = reasons(run, prior, profiles, np.where(fallback[:, None], -1, top))
    else:
        because = low = empty_lists(top.shape)
    rows, _ = np.nonzero(real)
    codes = top[real]
    table = pd.DataFrame(
        {
            "user": np.asarray(profiles.users, dtype=object)[rows],
            "rank": (np.cumsum(real, axis=1)[real]).astype(np.int64),
            "item": np.asarray(run.id_map.items[codes], dtype=object),
            "score": scores[real],
            "match": match[real],
        }
    )
    with_products(run, table, codes)
    table["because"] = [list(b) for b in because[real]]
    table["low_rated"] = [list(b) for b in low[real]]
    offsets = np.concatenate([[0], np.cumsum(real.sum(1))]).astype(np.int64)
    return VisitorBlock(profiles.users, fallback, profiles.ignored, table, offsets)


def iter_visitor_blocks(
    run: Run,
    frame: pd.DataFrame,
    n: int = 10,
    *,
    explain: bool = True,
    steps: int | None = None,
    progress: Progress | None = None,
) -> Iterator[VisitorBlock]:
    """:func:`recommend_visitors`, :data:`CHUNK` visitors at a time (fewer when they rated many
    products: :data:`CHUNK_CELLS`), in order of first appearance.

    The whole frame is checked before the first block; each block is folded in, ranked and
    explained on its own, so memory stays with one block however many visitors there are.
    ``progress(label, done, total)`` is told the visitors done after each block (and 0 first).
    """
    n = check_n(n)
    visitors = _visitors(run, frame)
    prior = prior_of(run)
    popular = popularity_order(np.asarray(run.popularity, dtype=np.float64))[:n]
    total = len(visitors.users)
    if progress is not None:
        progress(PROGRESS_LABEL, 0, total)
    # Fewer visitors in a block when their ratings' shares would pass CHUNK_CELLS (one always fits).
    per_block = max(CHUNK_CELLS // len(prior.mu), 1)
    start = 0
    while start < total:
        stop = min(start + CHUNK, total)
        fits = int(np.searchsorted(visitors.offsets, visitors.offsets[start] + per_block, side="right")) - 1
        stop = max(min(stop, fits), start + 1)
        with one_thread():  # small products: torch's pool costs more than it gives on a busy machine
            profiles = _profiles(run, prior, visitors.part(start, stop), steps)
            block = _block(run, prior, profiles, n, popular, explain)
        yield block
        if progress is not None:
            progress(PROGRESS_LABEL, stop, total)
        start = stop


def recommend_visitors(
    run: Run,
    frame: pd.DataFrame,
    n: int = 10,
    *,
    explain: bool = True,
    steps: int | None = None,
    progress: Progress | None = None,
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
        Fill ``because`` and ``low_rated`` (else empty lists).
    progress
        ``(label, done, total)`` visitors, after each block (:func:`iter_visitor_blocks`).

    Returns
    -------
    list of VisitorRecommendations
        One per visitor, in order of first appearance in ``frame``.
    """
    blocks = iter_visitor_blocks(run, frame, n, explain=explain, steps=steps, progress=progress)
    return [answer for block in blocks for answer in block.answers()]


def explain_user(
    run: Run, user_id: str, n: int = 10, *, ratings: pd.DataFrame | None = None
) -> VisitorRecommendations:
    """A trained customer's usual list (:func:`recsys_core.topn.recommend`) with ``because`` and
    ``low_rated`` added.

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
    because, low = reasons(run, prior_of(run), profiles, codes.astype(np.int64)[None, :])
    table["because"], table["low_rated"] = [list(b) for b in because[0]], [list(b) for b in low[0]]
    return VisitorRecommendations(recs.user, False, 0, table)
