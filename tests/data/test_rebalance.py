"""Oversampling: the strategy's arithmetic, identity with the notebook's imblearn call, and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SharedData
from imblearn.over_sampling import RandomOverSampler

from recsys_core.config import NOTEBOOK_MULTIPLIERS
from recsys_core.data import oversampling_strategy, rebalance
from recsys_core.errors import RecsysError


def frame_with(counts: dict[float, int], seed: int = 0) -> pd.DataFrame:
    """A shuffled training frame with exactly ``counts`` ratings per class and an extra column."""
    ratings = np.concatenate([np.full(n, r, dtype=np.float64) for r, n in counts.items()])
    rng = np.random.default_rng(seed)
    rng.shuffle(ratings)
    n = len(ratings)
    return pd.DataFrame(
        {
            "user": [f"u{i % 37}" for i in range(n)],
            "item": [f"i{i}" for i in range(n)],
            "rating": ratings,
            "timestamp": pd.date_range("2014-01-01", periods=n, freq="h"),
        }
    )


def test_strategy_multiplies_counts_and_rounds_like_python() -> None:
    counts = {1.0: 5, 2.0: 7, 3.0: 9, 4.0: 20, 5.0: 50}
    strategy = oversampling_strategy(counts, NOTEBOOK_MULTIPLIERS)
    # 5 × 2.5 = 12.5 rounds half to even (12), as the notebook's round() did; 9 × 2 = 18.
    assert strategy == {1.0: 12, 2.0: 21, 3.0: 18}
    assert oversampling_strategy({1.0: 7}, {1.0: 2.5}) == {1.0: 18}  # 17.5 -> 18 (even)


def test_strategy_leaves_out_factor_one_and_absent_classes() -> None:
    counts = {1.0: 10, 5.0: 90}
    assert oversampling_strategy(counts, {1.0: 1.0, 5.0: 1.0}) == {}
    assert oversampling_strategy(counts, {}) == {}
    # A factor of 1 for a rating that does not occur is harmless.
    assert oversampling_strategy(counts, {1.0: 3.0, 2.0: 1.0}) == {1.0: 30}


@pytest.mark.parametrize("factor", [0.5, 0.0, -2.0, float("nan")])
def test_strategy_rejects_factors_below_one(factor: float) -> None:
    with pytest.raises(RecsysError, match=r"1 or more"):
        oversampling_strategy({1.0: 10, 5.0: 90}, {1.0: factor})


def test_strategy_rejects_a_multiplier_for_a_missing_rating() -> None:
    with pytest.raises(RecsysError, match=r"2★.*ratings present: 1★, 5★"):
        oversampling_strategy({1.0: 10, 5.0: 90}, {2.0: 3.0})


def test_rebalance_matches_the_notebooks_imblearn_call() -> None:
    train = frame_with({5.0: 598, 4.0: 212, 3.0: 85, 1.0: 58, 2.0: 47}, seed=3)
    result = rebalance(train, NOTEBOOK_MULTIPLIERS, seed=42)

    # The notebook, verbatim in spirit: counts, then the sampler on the whole frame.
    n1, n2, n3 = ((train["rating"] == r).sum() for r in (1, 2, 3))
    sampler = RandomOverSampler(
        sampling_strategy={1: round(n1 * 2.5), 2: round(n2 * 3), 3: round(n3 * 2)}, random_state=42
    )
    features, labels = sampler.fit_resample(train.drop(columns="rating"), train["rating"])

    assert len(result.frame) == len(features)
    pd.testing.assert_frame_equal(
        result.frame.drop(columns="rating").reset_index(drop=True), features.reset_index(drop=True)
    )
    np.testing.assert_array_equal(result.frame["rating"].to_numpy(), labels.to_numpy())
    assert result.before == {1.0: 58, 2.0: 47, 3.0: 85, 4.0: 212, 5.0: 598}
    assert result.after == {1.0: 145, 2.0: 141, 3.0: 170, 4.0: 212, 5.0: 598}


def test_rebalance_on_real_ratings_matches_imblearn(shared_data: SharedData) -> None:
    dense = pd.read_csv(shared_data("amazon_electronics_dense.csv"), dtype={"user_id": str, "prod_id": str})
    dense = dense.rename(columns={"user_id": "user", "prod_id": "item"})
    dense["rating"] = dense["rating"].astype(float)
    result = rebalance(dense, NOTEBOOK_MULTIPLIERS, seed=42)

    counts = dense["rating"].value_counts()
    strategy = {int(r): round(counts[r] * f) for r, f in NOTEBOOK_MULTIPLIERS.items()}
    sampler = RandomOverSampler(sampling_strategy=strategy, random_state=42)
    sampler.fit_resample(dense[["user", "item"]], dense["rating"].astype(int))
    expected = dense.iloc[sampler.sample_indices_].reset_index(drop=True)
    pd.testing.assert_frame_equal(result.frame, expected)
    for rating, factor in NOTEBOOK_MULTIPLIERS.items():
        assert result.after[rating] == round(result.before[rating] * factor)
    assert result.after[5.0] == result.before[5.0]


def test_rebalance_keeps_original_rows_first_and_only_copies_existing_rows() -> None:
    train = frame_with({1.0: 10, 3.0: 20, 5.0: 70})
    result = rebalance(train, {1.0: 3.0}, seed=7)
    pd.testing.assert_frame_equal(result.frame.iloc[: len(train)], train)
    added = result.frame.iloc[len(train) :]
    assert len(added) == 20 and (added["rating"] == 1.0).all()
    # Every added row is a copy of an original 1★ row (item ids are unique per row here).
    originals = train.set_index("item")
    pd.testing.assert_frame_equal(added.set_index("item"), originals.loc[added["item"]], check_names=False)


def test_rebalance_is_seeded() -> None:
    train = frame_with({1.0: 30, 5.0: 70})
    a = rebalance(train, {1.0: 2.0}, seed=1).frame
    b = rebalance(train, {1.0: 2.0}, seed=1).frame
    c = rebalance(train, {1.0: 2.0}, seed=2).frame
    pd.testing.assert_frame_equal(a, b)
    assert not a["item"].equals(c["item"])


def test_rebalance_handles_half_star_ratings() -> None:
    # imbalanced-learn alone refuses labels such as 3.5 ("continuous"); rebalance does not.
    train = frame_with({0.5: 4, 3.5: 10, 5.0: 30})
    result = rebalance(train, {0.5: 2.0, 3.5: 1.5}, seed=0)
    assert result.after == {0.5: 8, 3.5: 15, 5.0: 30}


def test_rebalance_without_multipliers_returns_the_rows_unchanged() -> None:
    train = frame_with({1.0: 5, 5.0: 15})
    train.index = train.index + 100
    result = rebalance(train, {}, seed=0)
    pd.testing.assert_frame_equal(result.frame, train.reset_index(drop=True))
    assert result.before == result.after == {1.0: 5, 5.0: 15}


def test_rebalance_errors_are_explained() -> None:
    with pytest.raises(RecsysError, match="no 'rating' column"):
        rebalance(pd.DataFrame({"user": ["a"], "item": ["b"], "stars": [5.0]}), {1.0: 2.0}, seed=0)
    with pytest.raises(RecsysError, match="4★"):
        rebalance(frame_with({1.0: 5, 5.0: 15}), {4.0: 2.0}, seed=0)


def test_reweight_gives_each_rating_its_class_weight_without_copies() -> None:
    from recsys_core.data import reweight

    ratings = pd.Series([5.0, 1.0, 2.0, 5.0, 4.0, 1.0])
    out = reweight(ratings, {1.0: 0.0, 2.0: 2.5, 3.0: 1.0})
    assert out.weights.tolist() == [1.0, 0.0, 2.5, 1.0, 1.0, 0.0]
    assert out.before == {1.0: 2, 2.0: 1, 4.0: 1, 5.0: 2}
    assert out.after == {1.0: 0, 2.0: 2, 4.0: 1, 5.0: 2}  # round(1 * 2.5) = 2, as Python rounds


@pytest.mark.parametrize(
    ("multipliers", "message"),
    [({1.0: -1.0}, "0 or more"), ({3.0: 2.0}, "no training rating"), ({1.0: 0.0, 5.0: 0.0}, "nothing")],
)
def test_reweight_refuses_what_cannot_train(multipliers, message) -> None:
    from recsys_core.data import reweight

    with pytest.raises(RecsysError, match=message):
        reweight(pd.Series([5.0, 1.0, 5.0]), multipliers)


def test_weighted_counts_match_reweight_from_the_counts_alone() -> None:
    # The Balance page has class counts, not rows: the same "after" and the same refusals.
    from recsys_core.data import reweight, weighted_counts

    ratings = pd.Series([5.0, 1.0, 2.0, 5.0, 4.0, 1.0, 2.0, 2.0])
    counts = {float(r): int(n) for r, n in ratings.value_counts().sort_index().items()}
    for multipliers in ({}, {1.0: 0.0, 2.0: 0.5}, {1: 2.5, 2: 3, 3: 1}):
        assert weighted_counts(counts, multipliers) == reweight(ratings, multipliers).after
    with pytest.raises(RecsysError, match="nothing"):
        weighted_counts({1.0: 3, 5.0: 0}, {1.0: 0.0})  # an empty class does not count as kept


def test_softmax_runs_weigh_classes_and_other_objectives_still_copy_rows() -> None:
    from recsys_core.config import TrainConfig
    from recsys_core.data import demo_ratings, prepare_data

    frame = demo_ratings(n_users=200, n_items=60, n_ratings=3000, seed=1).frame
    weights = {1.0: 0.5, 2.0: 3.0}
    soft = prepare_data(frame, TrainConfig(multipliers=weights))
    assert soft.split_summary["train_after_rebalance"] == soft.split_summary["train"]  # no copies
    stars = soft.data.rating_min + soft.data.targets * (soft.data.rating_max - soft.data.rating_min)
    assert np.array_equal(soft.data.weights, np.select([stars == 1, stars == 2], [0.5, 3.0], 1.0))
    with pytest.raises(RecsysError, match="1 or more"):
        TrainConfig(objective="hybrid", multipliers={1.0: 0.5})
    copied = prepare_data(frame, TrainConfig(objective="hybrid", multipliers={2.0: 3.0}))
    assert copied.data.weights is None
    assert copied.split_summary["train_after_rebalance"] > copied.split_summary["train"]
