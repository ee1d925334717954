"""Top-N recommendations from a trained run: for one user, for everyone, or most-popular.

A known user gets the products they have not rated in train or validation (the same candidates
the ranking metrics use), best first, with the model's score in [0, 1] (``sigmoid`` of the
logit, blended with the run's item-kNN term when it has one: :class:`~recsys_core.model.Blend`)
and its ``match``, the chance relative to the top suggestion
(:func:`~recsys_core.topn._products.relative_match`), which still separates the list where every
score rounds to 1 (a ``softmax`` run). A user the model has never seen gets the most-rated
products instead, and a message that says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from recsys_core.errors import check_count
from recsys_core.limits import MAX_RECOMMENDATIONS
from recsys_core.topn._blocked import BlockedTopN, model_device, sigmoid
from recsys_core.topn._products import item_table, relative_match
from recsys_core.topn._select import effective_chunk, popularity_order, top_unseen

if TYPE_CHECKING:
    from recsys_core.runs import Run


@dataclass
class Recommendations:
    """The answer to "what should this user look at next?".

    Attributes
    ----------
    user
        The id that was asked for.
    table
        Columns ``rank`` (1 = best), ``item``, ``score``, ``match`` (the chance relative to the
        first row's, 1.0 for it), plus ``name`` and ``category`` when the run has a product table
        (and ``count`` for most-popular lists, whose ``match`` is their share of ratings relative
        to the first's). Best first.
    known_user
        ``False`` when the user is not in the training data and ``table`` is most-popular.
    message
        One sentence for the user interface explaining what the list is.
    """

    user: str
    table: pd.DataFrame
    known_user: bool
    message: str

    @property
    def items(self) -> pd.DataFrame:
        """Alias of :attr:`table`: the name docs/architecture.md uses (and tests/topn/test_recommend.py)."""
        return self.table


def check_n(n: int) -> int:
    """``n`` as an int, or a :class:`RecsysError` when it is not a whole number from 1 to
    :data:`~recsys_core.limits.MAX_RECOMMENDATIONS`."""
    return check_count(n, "The number of recommendations", most=MAX_RECOMMENDATIONS)


def _excluded(run: Run, exclude_test: bool) -> sp.csr_matrix:
    return run.rated_matrix() if exclude_test else run.seen_matrix()


def _top_n(
    run: Run, codes: np.ndarray, n: int, excluded: sp.csr_matrix
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-``n`` item codes, scores in [0, 1] and logits per user code; ``-1`` / NaN pad shorter
    lists."""
    items, logits = top_unseen(run.model, codes, excluded, n, run.blend)
    # torch's sigmoid, as NCF.score_pairs: a recommended score equals the pair's score exactly
    scores = torch.sigmoid(torch.from_numpy(logits)).double().numpy()
    return items, np.where(items >= 0, scores, np.nan), np.where(items >= 0, logits, np.nan)


def popular_items(run: Run, n: int = 10) -> pd.DataFrame:
    """The ``n`` products with the most training ratings, most popular first.

    Returns
    -------
    pandas.DataFrame
        ``rank, item, score, match, count`` (+ ``name, category`` with a product table), where
        ``score`` is the product's share of all training ratings, ``match`` that share relative to
        the first product's and ``count`` their number.
    """
    n = check_n(n)
    counts = np.asarray(run.popularity, dtype=np.float64)
    order = popularity_order(counts)[:n]
    total = counts.sum()
    shares = counts[order] / total if total > 0 else np.zeros(len(order))
    table = item_table(run, order, shares)
    table.insert(3, "match", shares / shares[0] if len(shares) and shares[0] > 0 else np.ones(len(shares)))
    table.insert(4, "count", counts[order].astype(np.int64))
    return table


def recommend(run: Run, user_id: str, n: int = 10, *, exclude_test: bool = False) -> Recommendations:
    """Top-``n`` products for ``user_id`` among those they have not rated, best first.

    Parameters
    ----------
    run
        A trained or loaded :class:`~recsys_core.runs.Run`.
    user_id
        The user's id as written in the ratings file.
    n
        How many products to return (fewer when fewer are left to recommend).
    exclude_test
        Also leave out the user's held-out test products. By default only train and validation
        ratings are excluded, so the list is exactly the one the ranking metrics score and a
        held-out product may show up in it (a hit).

    Returns
    -------
    Recommendations
        For an unknown user: the most popular products, ``known_user=False``.
    """
    n = check_n(n)
    user = str(user_id)
    code = run.id_map.user_code(user)
    if code is None and user.strip() != user:
        code = run.id_map.user_code(user.strip())
    if code is None:
        return Recommendations(
            user=user,
            table=popular_items(run, n),
            known_user=False,
            message=(
                f"Customer {user!r} is not in the training data, so these are the most popular products "
                "(most training ratings) instead of personal recommendations."
            ),
        )
    excluded = _excluded(run, exclude_test)
    candidates = run.n_items - excluded[code].nnz
    if candidates == 0:
        table = item_table(run, np.array([], dtype=np.int64), np.array([]))
        table.insert(3, "match", np.array([], dtype=np.float64))
        return Recommendations(
            user=user,
            table=table,
            known_user=True,
            message=(
                f"Customer {user!r} has already rated every product in the catalogue; "
                "nothing is left to recommend."
            ),
        )
    top, scores, logits = _top_n(run, np.array([code], dtype=np.int64), n, excluded)
    keep = top[0] >= 0
    table = item_table(run, top[0][keep], scores[0][keep])
    table.insert(3, "match", relative_match(logits[0][keep]))
    if len(table) < n:
        message = (
            f"Only {len(table)} product(s) are left that customer {user!r} has not rated; here they all are, "
            "best first."
        )
    else:
        message = f"Top {n} of the {candidates:,} products customer {user!r} has not rated, best first."
    return Recommendations(user=user, table=table, known_user=True, message=message)


def recommend_all(
    run: Run, n: int = 10, chunk_size: int = 4096, *, exclude_test: bool = False
) -> Iterator[pd.DataFrame]:
    """Top-``n`` unrated products for every user, one DataFrame per chunk of users.

    Memory stays bounded: each chunk scores at most ``chunk_size`` users x all items (and at
    most :data:`~recsys_core.topn._select.MAX_CHUNK_CELLS` cells). Each frame has columns
    ``user, rank, item, score, match`` (as :func:`recommend`'s); users with nothing left to
    recommend have no rows. The lists are :class:`~recsys_core.topn.BlockedTopN`'s (equal
    logits: lower product code first); :func:`recsys_core.topn.recommend_all_to_parquet` writes
    them to a file (``user, rank, item, score``).
    """
    n = check_n(n)
    step = effective_chunk(chunk_size, run.n_items)
    scorer = BlockedTopN(
        run.model, _excluded(run, exclude_test), n, device=model_device(run.model), blend=run.blend
    )
    users = np.asarray(run.id_map.users, dtype=object)
    items = np.asarray(run.id_map.items, dtype=object)
    for start in range(0, run.n_users, step):
        stop = min(start + step, run.n_users)
        top, logits = scorer.top(start, stop)
        rows, ranks = np.nonzero(top >= 0)
        scores = sigmoid(logits[rows, ranks])
        chosen = logits[rows, ranks].astype(np.float64)
        yield pd.DataFrame(
            {
                "user": users[start + rows],
                "rank": (ranks + 1).astype(np.int64),
                "item": items[top[rows, ranks]],
                "score": scores,
                "match": np.exp(chosen - logits[rows, 0].astype(np.float64)),  # relative_match per user
            }
        )
