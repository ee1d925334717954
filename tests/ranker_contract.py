"""The contract every ranker of the project keeps, written once and mixed into each one's tests.

In the spirit of ``implicit``'s ``RecommenderBase`` test case (mixed into every model's tests): a
*ranker* turns a batch of user codes and a list length ``k`` into ``(items, scores)``, best first,
and whatever its model (the NCF model, the model with its item-kNN blend, everyone's lists, the
most-popular list of the ranking metrics, each classic baseline behind
:func:`~recsys_core.baselines.top_k_scored`) it must

* never list a product the user has seen (the excluded matrix);
* pad with ``-1`` (score ``-inf``) when fewer than ``k`` unseen products exist, and list every
  unseen product when ``k`` is larger than the catalogue (``min(k, n_items)`` columns);
* rank by its own value, equal values going to the lower product code;
* give a batch of users, in any order, exactly the lists those users get one by one (and the
  same scores, up to the rounding of a float32 matrix product).

The data is small and built so that ties really happen: the model's embeddings and biases, the
item similarity and the blend weight are dyadic fractions (every logit is exact in float32, in
any summation order), whole groups of products share one vector and bias, some customers have a
zero vector (every product ties on its bias alone), nobody rated some products (every baseline
scores them exactly 0), some customers rated nothing (a baseline scores all their products 0) and
the two most popular products have the same count. One customer has seen every product and two
have only a couple left, so lists are padded for every ``k``.

Use: subclass :class:`RankerContract` in a test module and give it a ``ranker`` fixture that
returns a :class:`Ranker` (parametrised over the rankers of that package).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
import torch

N_USERS, N_ITEMS, DIM = 30, 200, 4
#: List lengths every contract test runs with: the selection's group bound (k = 1 on a
#: 200-product catalogue), a full sort, and more than the catalogue.
KS = (1, 5, N_ITEMS + 3)
#: Customers whose products all tie on the bias (zero vectors), who rated nothing in training,
#: who saw every product, and who have two products left.
ZERO_VECTOR_USERS = (3, 4)
NO_TRAINING_USERS = (5, 6)
SAW_EVERYTHING_USER = 7
TWO_LEFT_USERS = (8, 9)
#: Products nobody rated in training (every 9th) and the two tied most popular products.
UNRATED_ITEMS = np.arange(2, N_ITEMS, 9)
TOP_PAIR = (150, 40)

#: ``rank(users, k) -> (items, scores)``, as :func:`recsys_core.topn.top_unseen`.
Rank = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Ranker:
    """One ranker under the contract.

    Attributes
    ----------
    name
        The test id.
    rank
        ``rank(users, k) -> (items, scores)``: ``(len(users), min(k, n_items))`` product codes
        (``-1`` pad) and scores (``-inf`` pad), best first.
    values
        ``values(users) -> (len(users), n_items)``: what it ranks by (its logits or scores; for
        most-popular lists the popularity counts, whose ties decide the order).
    excluded
        ``n_users x n_items`` CSR of the products it must never list.
    """

    name: str
    rank: Rank
    values: Callable[[np.ndarray], np.ndarray]
    excluded: sp.csr_matrix


@dataclass(frozen=True)
class ContractData:
    """The shared data: a model, its blend, the training matrix and the excluded products."""

    model: torch.nn.Module
    similarity: sp.csr_matrix
    blend_weight: float
    train: sp.csr_matrix
    excluded: sp.csr_matrix

    @property
    def popularity(self) -> np.ndarray:
        """Training interactions per product."""
        return np.asarray(self.train.sum(axis=0)).ravel().astype(np.int64)


def _dyadic(rng: np.random.Generator, shape: tuple[int, ...], steps: int = 8) -> np.ndarray:
    """Multiples of ``1 / steps`` in [-1, 1]: products and sums of a few stay exact in float32."""
    return rng.integers(-steps, steps + 1, size=shape) / steps


def _model(rng: np.random.Generator):
    from recsys_core.model import NCF

    model = NCF(N_USERS, N_ITEMS, DIM, seed=0)
    users = _dyadic(rng, (N_USERS, DIM))
    users[list(ZERO_VECTOR_USERS)] = 0.0
    items = _dyadic(rng, (N_ITEMS, DIM))
    item_bias = _dyadic(rng, (N_ITEMS, 1), steps=4)
    # Products in tie groups: every product whose code is 1 modulo 3 shares one of four vectors
    # and biases, so each customer sees groups of ~17 equal logits spread over the catalogue.
    grouped = np.arange(1, N_ITEMS, 3)
    shapes, biases = _dyadic(rng, (4, DIM)), _dyadic(rng, (4, 1), steps=4)
    items[grouped] = shapes[grouped % 4]
    item_bias[grouped] = biases[grouped % 4]
    with torch.no_grad():
        model.user_embedding.weight.copy_(torch.from_numpy(users))
        model.user_bias.weight.copy_(torch.from_numpy(_dyadic(rng, (N_USERS, 1), steps=4)))
        model.item_embedding.weight.copy_(torch.from_numpy(items))
        model.item_bias.weight.copy_(torch.from_numpy(item_bias))
    return model


def _train(rng: np.random.Generator) -> sp.csr_matrix:
    dense = rng.random((N_USERS, N_ITEMS)) < 0.12
    dense[:, UNRATED_ITEMS] = False
    dense[list(NO_TRAINING_USERS)] = False
    raters = np.setdiff1d(np.arange(N_USERS), NO_TRAINING_USERS)[: dense.sum(0).max() + 3]
    for item in TOP_PAIR:  # the two most popular products tie
        dense[:, item] = False
        dense[raters, item] = True
    return sp.csr_matrix(dense.astype(np.float32))


def _excluded(rng: np.random.Generator, train: sp.csr_matrix) -> sp.csr_matrix:
    """Training pairs plus a few validation-like ones; one customer saw all, two all but two."""
    seen = train.toarray() > 0
    seen |= rng.random(seen.shape) < 0.03
    seen[list(ZERO_VECTOR_USERS)] = False  # all their products tie: let them all be candidates
    seen[SAW_EVERYTHING_USER] = True
    for user in TWO_LEFT_USERS:
        seen[user] = True
        seen[user, rng.choice(N_ITEMS, 2, replace=False)] = False
    return sp.csr_matrix(seen)


def _similarity(rng: np.random.Generator) -> sp.csr_matrix:
    """A sparse item-item similarity of eighths (exact sums); tied products share columns."""
    dense = np.where(rng.random((N_ITEMS, N_ITEMS)) < 0.05, rng.integers(1, 8, (N_ITEMS, N_ITEMS)) / 8, 0.0)
    grouped = np.arange(1, N_ITEMS, 3)
    dense[:, grouped] = dense[:, grouped[grouped % 4 == 0][:1]]  # one shared column: still ties
    np.fill_diagonal(dense, 0.0)
    return sp.csr_matrix(dense.astype(np.float32))


def contract_data(seed: int = 20) -> ContractData:
    """The contract's data (the same for every ranker)."""
    rng = np.random.default_rng(seed)
    model = _model(rng)
    train = _train(rng)
    return ContractData(model, _similarity(rng), 0.5, train, _excluded(rng, train))


def reference_lists(values: np.ndarray, excluded: sp.csr_matrix, k: int) -> np.ndarray:
    """Brute force: each row's unseen products by descending value, then ascending code."""
    width = min(k, values.shape[1])
    out = np.full((len(values), width), -1, dtype=np.int64)
    for row, (scores, seen) in enumerate(zip(values, excluded.toarray(), strict=True)):
        candidates = np.flatnonzero(~seen)
        order = candidates[np.lexsort((candidates, -scores[candidates]))][:width]
        out[row, : len(order)] = order
    return out


def tied_lists(values: np.ndarray, excluded: sp.csr_matrix, k: int) -> int:
    """Users whose top ``k`` holds, or ends on, two unseen products of equal value."""
    count = 0
    for scores, seen in zip(values, excluded.toarray(), strict=True):
        ranked = np.sort(scores[~seen])[::-1][: k + 1]
        count += bool(len(ranked) > 1 and (np.diff(ranked) == 0).any())
    return count


class RankerContract:
    """The contract's tests; a subclass provides the ``ranker`` fixture (a :class:`Ranker`)."""

    users = np.arange(N_USERS)

    @pytest.mark.parametrize("k", KS)
    def test_never_lists_a_seen_product_nor_one_twice(self, ranker: Ranker, k: int) -> None:
        items, _ = ranker.rank(self.users, k)
        seen = ranker.excluded.toarray()
        assert ((items >= -1) & (items < N_ITEMS)).all()
        for user, row in zip(self.users, items, strict=True):
            listed = row[row >= 0]
            assert not seen[user, listed].any(), f"user {user} was offered a product they have seen"
            assert len(set(listed.tolist())) == len(listed), f"user {user} got a product twice"

    @pytest.mark.parametrize("k", KS)
    def test_pads_with_minus_one_when_fewer_than_k_are_unseen(self, ranker: Ranker, k: int) -> None:
        items, scores = ranker.rank(self.users, k)
        assert items.shape == scores.shape == (len(self.users), min(k, N_ITEMS))
        unseen = N_ITEMS - np.diff(ranker.excluded.indptr)[self.users]
        assert (unseen < k).any()  # the data pads for every k (the user who saw everything)
        for user, row, row_scores, left in zip(self.users, items, scores, unseen, strict=True):
            real = min(k, left)
            assert (row[:real] >= 0).all() and (row[real:] == -1).all(), f"user {user}: {row}"
            assert np.isfinite(row_scores[:real]).all()
            assert (row_scores[real:] == -np.inf).all()

    def test_k_larger_than_the_catalogue_lists_every_unseen_product(self, ranker: Ranker) -> None:
        items, _ = ranker.rank(self.users, N_ITEMS + 3)
        assert items.shape == (len(self.users), N_ITEMS)
        seen = ranker.excluded.toarray()
        for user, row in zip(self.users, items, strict=True):
            assert set(row[row >= 0].tolist()) == set(np.flatnonzero(~seen[user]).tolist())

    @pytest.mark.parametrize("k", KS)
    def test_ranks_by_value_and_ties_go_to_the_lower_code(self, ranker: Ranker, k: int) -> None:
        values = ranker.values(self.users)
        excluded = ranker.excluded[self.users]
        # The data makes ties matter for every ranker and k: not a vacuous check.
        assert tied_lists(values, excluded, k) >= 2
        items, scores = ranker.rank(self.users, k)
        np.testing.assert_array_equal(items, reference_lists(values, excluded, k))
        assert (scores[:, 1:] <= scores[:, :-1]).all()  # best first, padding last

    @pytest.mark.parametrize("k", KS)
    def test_a_batch_equals_its_users_one_by_one(self, ranker: Ranker, k: int) -> None:
        users = np.random.default_rng(k).permutation(self.users)  # any order, any size
        items, scores = ranker.rank(users, k)
        for row, user in enumerate(users):
            one_items, one_scores = ranker.rank(np.array([user]), k)
            np.testing.assert_array_equal(items[row], one_items[0], err_msg=f"user {user}")
            # A float32 matrix product of one row may round differently from a block's (BLAS
            # kernels); the lists must not differ, the scores only in their last bits.
            np.testing.assert_allclose(
                scores[row], one_scores[0], rtol=1e-5, atol=1e-6, err_msg=f"user {user}"
            )
