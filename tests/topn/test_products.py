"""The one join of product names and categories onto result tables, in every list that shows them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from model_runs import model_run

from recsys_core.model import NCF
from recsys_core.runs import Run
from recsys_core.topn import (
    item_table,
    popular_items,
    recommend,
    recommend_visitors,
    similar_items,
    with_products,
)

ITEMS = ["p0", "p1", "p2", "p3", "p4"]


def _run(products: pd.DataFrame | None) -> Run:
    torch.manual_seed(0)
    model = NCF(3, len(ITEMS), embedding_dim=4, seed=1)
    return model_run(
        model, ["a", "b", "c"], ITEMS, np.array([0, 1, 2]), np.array([0, 1, 1]), products=products
    )


@pytest.fixture(scope="module")
def run() -> Run:
    # p3 is missing from the product table: it gets empty strings, not NaN or a shifted name.
    products = pd.DataFrame(
        {
            "item": ["p4", "p0", "p1", "p2"],
            "name": ["Four", "Zero", "One", "Two"],
            "category": ["D", "A", "B", "C"],
        }
    )
    return _run(products)


def test_columns_follow_the_codes_row_by_row(run: Run) -> None:
    table = with_products(run, pd.DataFrame({"x": [1, 2, 3]}), np.array([4, 3, 0]))
    assert table["name"].tolist() == ["Four", "", "Zero"]
    assert table["category"].tolist() == ["D", "", "A"]
    plain = with_products(_run(None), pd.DataFrame({"x": [1]}), np.array([2]))
    assert plain.columns.tolist() == ["x"]


def test_item_table_ranks_ids_and_scores(run: Run) -> None:
    table = item_table(run, np.array([2, 0]), np.array([0.9, 0.5], dtype=np.float32))
    assert table.columns.tolist() == ["rank", "item", "score", "name", "category"]
    assert table["rank"].tolist() == [1, 2] and table["item"].tolist() == ["p2", "p0"]
    assert table["score"].dtype == np.float64 and table["name"].tolist() == ["Two", "Zero"]


def test_every_list_shows_the_names_of_its_own_items(run: Run) -> None:
    names = dict(zip(ITEMS, ["Zero", "One", "Two", "", "Four"], strict=True))
    visitor = pd.DataFrame({"user": ["v"], "item": ["p1"], "rating": [5.0]})
    tables = {
        "recommend": recommend(run, "a", 3).table,
        "popular": popular_items(run, 3),
        "similar": similar_items(run, "p0", 3),
        "visitor": recommend_visitors(run, visitor, 3)[0].table,
    }
    for source, table in tables.items():
        assert len(table) == 3, source
        assert table["name"].tolist() == [names[item] for item in table["item"]], source
