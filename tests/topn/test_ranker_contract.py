"""The ranker contract (tests/ranker_contract.py) for the model's rankers: the NCF model and the
model with its item-kNN blend, each as the ranking metrics and recommendations rank them
(:func:`~recsys_core.topn.top_unseen`) and as everyone's lists do (:class:`~recsys_core.topn.BlockedTopN`),
and the most-popular list of the ranking metrics (:func:`~recsys_core.topn.top_popular_unseen`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from ranker_contract import N_ITEMS, ContractData, Ranker, RankerContract, contract_data

from recsys_core.model import Blend, Blended, unwrap
from recsys_core.topn import BlockedTopN, popularity_order, top_popular_unseen, top_unseen


def _logits(data: ContractData, blend: Blend | None):
    def values(users: np.ndarray) -> np.ndarray:
        import torch

        logits = data.model.score_all_items(torch.as_tensor(users)).numpy()
        if blend is not None:
            logits = logits + blend.term(data.excluded[users])
        return logits

    return values


def _top_unseen(data: ContractData, blended: bool) -> Ranker:
    """As :func:`~recsys_core.metrics.ranking_metrics` ranks a model or a ``Blended`` one."""
    blend = Blend(data.similarity, data.blend_weight) if blended else None
    model, blend = unwrap(Blended(data.model, blend))

    def rank(users: np.ndarray, k: int):
        return top_unseen(model, users, data.excluded, k, blend)

    return Ranker("top_unseen" + ("+blend" if blended else ""), rank, _logits(data, blend), data.excluded)


def _everyone(data: ContractData, blended: bool) -> Ranker:
    """Everyone's lists, in blocks of 4 customers (several blocks per batch)."""
    blend = Blend(data.similarity, data.blend_weight) if blended else None

    def rank(users: np.ndarray, k: int):
        lo, hi = int(users.min()), int(users.max()) + 1
        scorer = BlockedTopN(data.model, data.excluded, k, max_cells=4 * N_ITEMS, blend=blend)
        items, logits = scorer.top(lo, hi)
        return items[users - lo], logits[users - lo]

    return Ranker("BlockedTopN" + ("+blend" if blended else ""), rank, _logits(data, blend), data.excluded)


def _most_popular(data: ContractData) -> Ranker:
    """The most-popular list the ranking metrics show beside the model's."""
    popularity = data.popularity
    order = popularity_order(popularity)

    def rank(users: np.ndarray, k: int):
        return top_popular_unseen(order, users, data.excluded, k)

    def values(users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(popularity.astype(np.float64), (len(users), N_ITEMS))

    return Ranker("top_popular_unseen", rank, values, data.excluded)


def _rankers() -> dict[str, Callable[[ContractData], Ranker]]:
    return {
        "top_unseen": lambda d: _top_unseen(d, blended=False),
        "top_unseen+blend": lambda d: _top_unseen(d, blended=True),
        "BlockedTopN": lambda d: _everyone(d, blended=False),
        "BlockedTopN+blend": lambda d: _everyone(d, blended=True),
        "top_popular_unseen": _most_popular,
    }


@pytest.fixture(scope="module")
def data() -> ContractData:
    return contract_data()


@pytest.fixture(scope="module", params=list(_rankers()))
def ranker(request: pytest.FixtureRequest, data: ContractData) -> Ranker:
    return _rankers()[request.param](data)


class TestModelRankers(RankerContract):
    pass
