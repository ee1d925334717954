"""The built-in demo data: layout, realism, reproducibility, learnability and the CSV writer."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from recsys_core.data import (
    REFERENCE_SHARES,
    DemoData,
    Ratings,
    demo_ratings,
    generate_demo,
    load_products,
    load_ratings,
    split_ratings,
    write_demo_csv,
)
from recsys_core.errors import RecsysError


def isin(values: pd.Series, reference: object) -> pd.Series:
    """``values.isin(reference)`` without pandas' per-value loop over Arrow strings (pandas 3.1)."""
    return values.astype(object).isin(set(reference))


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo()


def test_default_size_and_layout(demo: DemoData) -> None:
    ratings = demo.ratings
    assert list(ratings.columns) == ["user", "item", "rating", "timestamp"]
    assert len(ratings) == 100_000
    assert ratings["user"].nunique() == 5000  # everyone rates something
    assert 1800 <= ratings["item"].nunique() <= 2000
    assert ratings["user"].dtype == "str" and ratings["item"].dtype == "str"
    assert ratings["rating"].dtype == np.float64
    assert pd.api.types.is_datetime64_dtype(ratings["timestamp"])
    assert not ratings.isna().any().any()
    assert set(ratings["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert not ratings.duplicated(["user", "item"]).any()


@pytest.mark.parametrize("seed", [42, 7])
def test_class_mix_matches_the_reference_shares(seed: int) -> None:
    ratings = generate_demo(2000, 800, 40_000, seed=seed).ratings
    shares = ratings["rating"].value_counts(normalize=True)
    for rating, share in REFERENCE_SHARES.items():
        assert abs(shares[rating] - share) <= 0.015, (rating, shares[rating], share)
    # The classes come in the reference's order: 5 > 4 > 3 > 1 > 2.
    assert list(shares.sort_values(ascending=False).index) == [5.0, 4.0, 3.0, 1.0, 2.0]


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate_demo(300, 200, 4000, seed=11)
    b = generate_demo(300, 200, 4000, seed=11)
    c = generate_demo(300, 200, 4000, seed=12)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    pd.testing.assert_frame_equal(a.products, b.products)
    assert not isin(a.ratings["user"], c.ratings["user"]).all()
    assert not a.ratings["rating"].equals(c.ratings["rating"])


def test_ids_look_like_amazon_ids(demo: DemoData) -> None:
    users = pd.Series(demo.ratings["user"].unique())
    assert users.str.fullmatch(r"A[0-9A-Z]{13}").all()
    items = demo.products["item"]
    assert items.is_unique
    assert items.str.fullmatch(r"B00[0-9A-Z]{7}|0[0-9]{9}").all()
    # Most are B00… ASINs, some ISBN-like ids start with 0 (and must be kept as text downstream).
    starts_with_zero = items.str.startswith("0").mean()
    assert 0.01 <= starts_with_zero <= 0.1


def test_product_table_has_readable_names_and_categories(demo: DemoData) -> None:
    products = demo.products
    assert list(products.columns) == ["item", "name", "category"]
    assert len(products) == 2000
    assert isin(demo.ratings["item"], products["item"]).all()
    assert products["name"].str.fullmatch(r"[A-Z][A-Za-z]+ [A-Za-z0-9 &\-]+ [0-9A-Z]+").all()
    assert products["name"].nunique() > 0.8 * len(products)
    assert products["category"].nunique() >= 10
    assert (products["category"].str.len() > 0).all()
    # A product's name says what its category is about, e.g. earbuds are headphones.
    earbuds = products[products["name"].str.contains("Earbuds")]
    assert len(earbuds) and (earbuds["category"] == "Headphones").all()


def test_popularity_and_activity_have_long_tails(demo: DemoData) -> None:
    per_item = demo.ratings["item"].value_counts()
    per_user = demo.ratings["user"].value_counts()
    top = per_item.iloc[: len(per_item) // 100]  # the top 1 % of products
    assert top.sum() / per_item.sum() > 0.05  # get over 5x their share of ratings
    assert per_item.max() > 10 * per_item.median()
    assert per_user.max() > 10 * per_user.median()
    assert per_user.median() < per_user.mean()


def test_timestamps_span_years_and_increase_per_user(demo: DemoData) -> None:
    times = demo.ratings["timestamp"]
    assert times.min() >= pd.Timestamp("1999-01-01") and times.max() <= pd.Timestamp("2014-08-01")
    assert (times.max() - times.min()).days > 10 * 365
    # Amazon's volume grows over time: more ratings in the last five years than the first five.
    years = times.dt.year
    assert (years >= 2010).sum() > 3 * (years < 2005).sum()
    # Strictly increasing per user: no two ratings of a user at the same second.
    assert not demo.ratings.duplicated(["user", "timestamp"]).any()


def _bias_model_predictions(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Mean + regularised user and item offsets, fitted by a few alternating passes."""
    mean = train["rating"].mean()
    user_bias = pd.Series(0.0, index=pd.Index(train["user"].unique()))
    item_bias = pd.Series(0.0, index=pd.Index(train["item"].unique()))
    for _ in range(4):
        residual = train["rating"] - mean - train["user"].map(user_bias).to_numpy()
        item_bias = residual.groupby(train["item"]).sum() / (train.groupby("item").size() + 5)
        residual = train["rating"] - mean - train["item"].map(item_bias).to_numpy()
        user_bias = residual.groupby(train["user"]).sum() / (train.groupby("user").size() + 5)
    return (mean + test["user"].map(user_bias).fillna(0) + test["item"].map(item_bias).fillna(0)).to_numpy()


def test_held_out_ratings_are_predictable_from_the_others(demo: DemoData) -> None:
    split = split_ratings(demo.ratings, "leave-last-out")
    liked = split.test["rating"].to_numpy() >= 4
    predicted = _bias_model_predictions(split.train, split.test)
    assert roc_auc_score(liked, predicted) >= 0.65
    # A model without the user and the product knows nothing: a control for the check above.
    shuffled = np.random.default_rng(0).permutation(predicted)
    assert roc_auc_score(liked, shuffled) < 0.55


def test_which_products_a_user_rates_follows_taste(demo: DemoData) -> None:
    """A ranker that knows a user's favourite category beats plain popularity at hit rate@10."""
    split = split_ratings(demo.ratings, "leave-last-out")
    category = demo.products.set_index("item")["category"]
    train = split.train.assign(category=split.train["item"].map(category))
    per_category = train.groupby(["user", "category"]).size().rename("n").reset_index()
    favourite = per_category.sort_values("n", kind="stable").drop_duplicates("user", keep="last")
    favourite = favourite.set_index("user")["category"]
    test = split.test.assign(category=split.test["item"].map(category))
    # The held-out product is in the user's favourite training category far more often than
    # the biggest category's overall share (which is what popularity alone would give).
    in_favourite = (test["category"].to_numpy() == favourite[test["user"]].to_numpy()).mean()
    assert in_favourite > 2 * train["category"].value_counts(normalize=True).iloc[0]

    popular = train["item"].value_counts()
    top10 = set(popular.index[:10])
    popularity_hits = isin(test["item"], top10).mean()
    by_category = {c: set(g["item"].value_counts().index[:10]) for c, g in train.groupby("category")}
    taste_hits = np.mean(
        [item in by_category[favourite[user]] for user, item in zip(test["user"], test["item"], strict=True)]
    )
    assert taste_hits > 1.5 * popularity_hits


def test_demo_ratings_wraps_the_frame_for_the_app() -> None:
    ratings = demo_ratings(400, 300, 6000, seed=5)
    assert isinstance(ratings, Ratings)
    pd.testing.assert_frame_equal(ratings.frame, generate_demo(400, 300, 6000, seed=5).ratings)
    assert ratings.has_timestamps
    summary = ratings.summary()
    assert summary["rows"] == 6000 and summary["users"] == 400
    assert summary["duplicates_dropped"] == 0


@pytest.mark.parametrize(
    ("name", "raw"), [("demo.csv", False), ("demo.csv.gz", False), ("raw.csv", True), ("raw.csv.gz", True)]
)
def test_csv_files_load_back_to_the_same_ratings(tmp_path: Path, name: str, raw: bool) -> None:
    path = write_demo_csv(tmp_path / name, n_users=300, n_items=250, n_ratings=5000, seed=3, raw=raw)
    text = gzip.decompress(path.read_bytes()).decode() if name.endswith(".gz") else path.read_text()
    lines = text.splitlines()
    assert len(lines) == 5000 + (0 if raw else 1)
    if raw:
        user, item, rating, seconds = lines[0].split(",")
        assert user.startswith("A") and len(item) == 10 and rating in {"1.0", "2.0", "3.0", "4.0", "5.0"}
        assert 928_000_000 < int(seconds) < 1_407_000_000
    else:
        assert lines[0] == "UserID,ProductID,Rating,Timestamp"
        assert lines[1].split(",")[2].endswith(".0")
    expected = generate_demo(300, 250, 5000, seed=3).ratings
    loaded = load_ratings(path).frame
    pd.testing.assert_frame_equal(loaded.reset_index(drop=True), expected, check_dtype=False)


def test_product_table_file(tmp_path: Path) -> None:
    products_path = tmp_path / "p.csv"
    write_demo_csv(tmp_path / "r.csv", n_users=50, n_items=40, n_ratings=300, products_path=products_path)
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "item,name,category"
    products = load_products(tmp_path / "p.csv")
    expected = generate_demo(50, 40, 300).products
    pd.testing.assert_frame_equal(products.reset_index(drop=True), expected, check_dtype=False)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"n_users": 0}, "n_users must be a whole number from 1"),
        ({"n_items": 2.5}, "n_items must be a whole number from 1"),
        ({"n_ratings": -1}, "n_ratings"),
        ({"n_users": 10, "n_items": 10, "n_ratings": 90}, "do not fit"),
        ({"seed": -3}, "seed must be"),
    ],
)
def test_impossible_sizes_are_refused(kwargs: dict, fragment: str) -> None:
    with pytest.raises(RecsysError, match=fragment):
        generate_demo(**kwargs)


def test_unwritable_path_is_a_readable_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RecsysError, match="Cannot write the demo file"):
        write_demo_csv(blocker / "demo.csv", n_users=10, n_items=10, n_ratings=20)


@settings(max_examples=25, deadline=None)
@given(
    n_users=st.integers(1, 40),
    n_items=st.integers(1, 30),
    fill=st.floats(0.01, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_feasible_size_gives_exactly_that_many_distinct_pairs(
    n_users: int, n_items: int, fill: float, seed: int
) -> None:
    # Up to half of all possible (user, product) pairs.
    n_ratings = max(1, int(n_users * n_items * 0.5 * fill))
    data = generate_demo(n_users, n_items, n_ratings, seed=seed)
    ratings = data.ratings
    assert len(ratings) == n_ratings
    assert not ratings.duplicated(["user", "item"]).any()
    if n_ratings >= n_users:
        assert ratings["user"].nunique() == n_users
    else:
        assert ratings["user"].nunique() <= n_ratings
    assert isin(ratings["item"], data.products["item"]).all() and len(data.products) == n_items
    assert not ratings.duplicated(["user", "timestamp"]).any()
