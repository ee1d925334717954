"""The ranker contract (tests/ranker_contract.py) for every classic baseline, ranked as the ladder
ranks it: :func:`~recsys_core.baselines.top_k_scored` over the excluded products, here in chunks
of 4 customers so that a batch crosses several chunks."""

from __future__ import annotations

import numpy as np
import pytest
from ranker_contract import ContractData, Ranker, RankerContract, contract_data

from recsys_core.baselines import EASE, IALS, ItemKNN, MostPopular, Scorer, top_k_scored

SCORERS = {
    "MostPopular": MostPopular,
    "ItemKNN": lambda: ItemKNN(neighbours=20, shrink=2.0),
    "EASE-items": lambda: EASE(l2=4.0, solver="items"),
    "EASE-users": lambda: EASE(l2=4.0, solver="users"),
    "IALS": lambda: IALS(factors=4, iterations=3, seed=0),
}


def _ranker(name: str, scorer: Scorer, data: ContractData) -> Ranker:
    def rank(users: np.ndarray, k: int):
        return top_k_scored(scorer, users, data.excluded, k, chunk_size=4)

    if isinstance(scorer, MostPopular):

        def values(users: np.ndarray) -> np.ndarray:  # the counts, whose ties decide the order
            return np.broadcast_to(scorer.counts_.astype(np.float64), (len(users), len(scorer.counts_)))

    else:

        def values(users: np.ndarray) -> np.ndarray:
            return np.vstack([scorer.score(np.array([user])) for user in users])

    return Ranker(name, rank, values, data.excluded)


@pytest.fixture(scope="module")
def data() -> ContractData:
    return contract_data()


@pytest.fixture(scope="module", params=list(SCORERS))
def ranker(request: pytest.FixtureRequest, data: ContractData) -> Ranker:
    return _ranker(request.param, SCORERS[request.param]().fit(data.train), data)


class TestBaselineRankers(RankerContract):
    pass
