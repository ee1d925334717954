"""Similar products: cosine of the product vectors, the product itself left out, ties to the lower
code, and no fold-in prior built for it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_runs import model_run

from recsys_core.errors import RecsysError
from recsys_core.model import NCF
from recsys_core.runs import Run
from recsys_core.topn import _foldin_solve, similar_items

# Product 0 is the query; 2 and 4 point the same way (a tie), 3 is opposite, 1 is orthogonal.
VECTORS = [[1.0, 1.0], [1.0, -1.0], [2.0, 2.5], [-1.0, -1.0], [4.0, 5.0], [3.0, 1.0]]


@pytest.fixture
def run() -> Run:
    model = NCF(2, len(VECTORS), embedding_dim=2, seed=0)
    with torch.no_grad():
        model.item_embedding.weight.copy_(torch.tensor(VECTORS))
    items = [f"p{i}" for i in range(len(VECTORS))]
    return model_run(model, ["a", "b"], items, np.array([0, 1]), np.array([0, 1]))


def test_cosine_order_with_ties_to_the_lower_code(run: Run) -> None:
    table = similar_items(run, "p0", n=5)
    assert table["item"].tolist() == ["p2", "p4", "p5", "p1", "p3"]
    q = np.array(VECTORS)
    cosine = q @ q[0] / np.linalg.norm(q, axis=1) / np.linalg.norm(q[0])
    expected = cosine[[2, 4, 5, 1, 3]]
    np.testing.assert_allclose(table["similarity"], expected, rtol=1e-6, atol=1e-6)
    assert table["similarity"].iloc[0] == table["similarity"].iloc[1]  # the tie, kept in code order


def test_never_lists_the_product_itself_and_caps_at_the_catalogue(run: Run) -> None:
    table = similar_items(run, "p3", n=50)
    assert len(table) == len(VECTORS) - 1 and "p3" not in set(table["item"])
    with pytest.raises(RecsysError, match="not in this run"):
        similar_items(run, "p9")


def test_builds_no_fold_in_prior(run: Run) -> None:
    similar_items(run, "p0", n=3)
    assert run.model not in _foldin_solve._PRIORS
