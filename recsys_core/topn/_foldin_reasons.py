"""Fold-in's reasons: the rated products a suggestion is shown "because" of, and the low ratings
that raised it without being a reason anyone would give.

Each rated product's share of a suggestion's logit is exact (:mod:`recsys_core.topn._foldin`);
every one with a positive share raises the suggestion, and what the rating said decides whether it
is a *reason*. One at or above the run's "likes it" line (``config.positive_rating``) is cited as
``kind="liked"``. One below it is cited only when its rating pushed the profile away from it (its
share lowers its own product's logit: a low star under the rating objectives), so it raises
products unlike it: ``kind="less like"``. One below the line that pulled the profile towards it
(every rating of a ``softmax`` run counts as interest, and the item-kNN blend reads any rating as
one) goes to ``low_rated`` instead, when it raises the suggestion as much as a cited reason would
(among the :data:`BECAUSE_MAX` largest positive shares), so a page can say so. Largest share
first; visitors are explained in batches of bounded size, as they are solved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from recsys_core.model import Blend
from recsys_core.topn._foldin_softmax import duplicate_weights
from recsys_core.topn._foldin_solve import Prior, batches, one_thread

if TYPE_CHECKING:
    from recsys_core.runs import Run
    from recsys_core.topn._foldin import Profiles

#: Rated products listed per suggestion (reasons, and low ratings that raised it).
BECAUSE_MAX = 3
#: A rated product's kind, by code: 0 = rated low but pulled the profile towards it (no reason).
_KINDS = np.array(["", "liked", "less like"], dtype=object)


def empty_lists(shape: tuple[int, ...]) -> np.ndarray:
    """An object array of empty lists' stand-ins (``()``) of ``shape``."""
    out = np.empty(shape, dtype=object)
    out.fill(())
    return out


def _blend_shares(blend: Blend, rated: torch.Tensor, mask: torch.Tensor, top: torch.Tensor) -> np.ndarray:
    """``β · S[rated j, suggestion s]`` per rated product, a repeat's share split over its repeats:
    ``(B, suggestions, rated)`` (:meth:`~recsys_core.model.Blend.contributions`, batched)."""
    b, n, width = len(rated), top.shape[1], rated.shape[1]
    rows = rated[:, None, :].expand(b, n, width).reshape(-1).numpy().copy()
    cols = top[:, :, None].expand(b, n, width).reshape(-1).numpy().copy()
    values = np.asarray(blend.similarity[rows, cols], dtype=np.float64).reshape(b, n, width)
    return values * (float(blend.weight) * duplicate_weights(rated, mask).numpy())[:, None, :]


def _shares_and_kinds(
    run: Run, prior: Prior, profiles: Profiles, rows: np.ndarray, width: int, top: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For a batch of visitors: each rated product's share of each suggestion's logit ``(b, n,
    width)`` (``-inf`` on padding), its kind code ``(b, width)`` (:data:`_KINDS`), codes and stars."""
    shares, mask = profiles.shares.padded(rows, width)
    rated, _ = profiles.items.padded(rows, width)
    stars, _ = profiles.stars.padded(rows, width)
    codes = torch.from_numpy(np.concatenate([top, rated.numpy()], axis=1)).clamp(min=0)  # suggestions, rated
    q1 = torch.cat([prior.q[codes].double(), torch.ones(*codes.shape, 1, dtype=torch.float64)], dim=2)
    n = top.shape[1]
    with one_thread():
        weights = (q1[:, :n] @ shares.transpose(1, 2)).numpy()  # (b, n, rated)
    # A rating's share of its own product's logit: < 0 when it pushed the profile away from it.
    away = (q1[:, n:] * shares).sum(2).numpy() < 0
    if run.blend is not None:  # each rated product's kNN share: β · S[rated, suggestion]
        weights = weights + _blend_shares(run.blend, rated, mask, codes[:, :n])
    weights[np.broadcast_to((mask == 0).numpy()[:, None, :], weights.shape)] = -np.inf
    liked = stars.numpy() >= run.config.positive_rating
    kinds = np.where(liked, 1, np.where(away, 2, 0)).astype(np.int8)
    return weights, kinds, rated.numpy(), stars.numpy()


def _first(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the first :data:`BECAUSE_MAX` ``True`` entries along the last axis, and
    whether each is one (rows with fewer are padded with ``False``)."""
    pick = np.argsort(~ok, axis=-1, kind="stable")[..., :BECAUSE_MAX]
    return pick, np.take_along_axis(ok, pick, axis=-1)


def reasons(run: Run, prior: Prior, profiles: Profiles, top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per suggestion, the reasons (at most :data:`BECAUSE_MAX`, ``{"item", "rating", "weight",
    "kind"}``) and the low ratings that raised it (``kind=""``): two ``top``-shaped arrays of
    lists (``top``: product codes, ``-1`` = none; module docstring for which is which)."""
    because, low = empty_lists(top.shape), empty_lists(top.shape)
    names = np.asarray(run.id_map.items, dtype=object)
    counts, size, n = profiles.counts, len(prior.mu), top.shape[1]
    for rows, width in batches(counts, lambda w: (n + w) * size + 4 * n * w):
        rows = rows[counts[rows] > 0]
        if not len(rows):
            continue
        weights, kinds, rated, stars = _shares_and_kinds(run, prior, profiles, rows, width, top[rows])
        order = np.argsort(-weights, axis=2, kind="stable")  # largest share first
        ranked = np.take_along_axis(weights, order, axis=2)
        kind = np.take_along_axis(np.broadcast_to(kinds[:, None, :], order.shape), order, axis=2)
        positive = ranked > 0
        head = slice(None, BECAUSE_MAX)
        picks = (_first(positive & (kind > 0)), _first(positive[..., head] & (kind[..., head] == 0)))
        for out, (pick, real) in zip((because, low), picks, strict=True):
            at = np.take_along_axis(order, pick, axis=2)  # (b, n, k) slots among the rated
            flat = at.reshape(len(rows), -1)
            item = names[np.take_along_axis(rated, flat, axis=1)].reshape(at.shape)
            star = np.take_along_axis(stars, flat, axis=1).reshape(at.shape)
            weight, code = np.take_along_axis(ranked, pick, axis=2), np.take_along_axis(kind, pick, axis=2)
            for i, row in enumerate(rows.tolist()):
                for s in np.flatnonzero(top[row] >= 0).tolist():
                    out[row, s] = [
                        {
                            "item": str(item[i, s, j]),
                            "rating": float(star[i, s, j]),
                            "weight": float(weight[i, s, j]),
                            "kind": str(_KINDS[code[i, s, j]]),
                        }
                        for j in np.flatnonzero(real[i, s]).tolist()
                    ]
    return because, low
