"""split_ratings: which rating goes where, invariants on real data, and the error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SharedData
from hypothesis import given, settings
from hypothesis import strategies as st

from recsys_core.data import Split, split_ratings
from recsys_core.errors import RecsysError


@pytest.fixture(scope="module")
def head(shared_data: SharedData) -> pd.DataFrame:
    """The real head file (47,141 users, 3,529 products) with datetime timestamps."""
    frame = pd.read_csv(shared_data("amazon_electronics_head.csv"), dtype={"UserId": str, "ItemId": str})
    frame = frame.rename(columns={"UserId": "user", "ItemId": "item"})
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s")
    return frame


@pytest.fixture(scope="module")
def dense(shared_data: SharedData) -> pd.DataFrame:
    """The real dense file (1,540 users with >= 50 ratings), without timestamps."""
    frame = pd.read_csv(shared_data("amazon_electronics_dense.csv"), dtype={"user_id": str, "prod_id": str})
    return frame.rename(columns={"user_id": "user", "prod_id": "item"})


def ratings(rows: list[tuple[str, str, float, int]]) -> pd.DataFrame:
    users, items, values, days = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "user": list(users),
            "item": list(items),
            "rating": np.array(values, dtype=np.float64),
            "timestamp": pd.to_datetime(list(days), unit="D"),
        }
    )


# Two users with two ratings each: they stay in train and make products a-d known there.
FILLER = [("x", "a", 5, 0), ("x", "b", 4, 0), ("y", "c", 3, 0), ("y", "d", 2, 0)]
FILLER_PAIRS = {("x", "a"), ("x", "b"), ("y", "c"), ("y", "d")}


def isin(values: pd.Series, reference: object) -> pd.Series:
    """``values.isin(reference)`` without pandas' per-value loop over Arrow strings (pandas 3.1)."""
    return values.astype(object).isin(set(reference))


def pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["user"], frame["item"], strict=True))


def check_invariants(split: Split, source: pd.DataFrame) -> None:
    """What every split promises, whatever the method."""
    parts = (split.train, split.validation, split.test)
    for part in parts:
        assert list(part.columns) == list(source.columns)
        assert part.index.equals(pd.RangeIndex(len(part)))
    total = sum(len(p) for p in parts) + split.dropped_unknown + split.duplicates_dropped
    assert total == len(source)
    train_pairs, val_pairs, test_pairs = (pairs(p) for p in parts)
    assert not train_pairs & val_pairs
    assert not train_pairs & test_pairs
    assert not val_pairs & test_pairs
    for held_out in (split.validation, split.test):
        assert isin(held_out["user"], split.train["user"]).all()
        assert isin(held_out["item"], split.train["item"]).all()
    # Every output row is an input row, unchanged.
    merged = pd.concat(parts).merge(source, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


# -- leave-last-out ----------------------------------------------------------------------------


def test_leave_last_out_holds_out_each_users_latest_two() -> None:
    frame = ratings(
        [
            ("ann", "a", 5, 10),
            ("ann", "b", 4, 30),
            ("ann", "c", 3, 20),
            ("ann", "d", 2, 5),
            ("bob", "a", 1, 1),
            ("bob", "c", 5, 3),
            ("bob", "b", 4, 2),
            ("cat", "a", 5, 7),
            ("cat", "b", 5, 8),  # two ratings: stays in train
            *FILLER,
        ]
    )
    split = split_ratings(frame, "leave-last-out")
    assert split.method == "leave-last-out"
    assert pairs(split.test) == {("ann", "b"), ("bob", "c")}
    assert pairs(split.validation) == {("ann", "c"), ("bob", "b")}
    expected_train = {("ann", "a"), ("ann", "d"), ("bob", "a"), ("cat", "a"), ("cat", "b")}
    assert pairs(split.train) == expected_train | FILLER_PAIRS
    assert split.dropped_unknown == 0


def test_auto_picks_leave_last_out_when_there_are_timestamps(head: pd.DataFrame) -> None:
    assert split_ratings(head).method == "leave-last-out"


def test_ties_in_time_go_by_row_order() -> None:
    # All on the same day: the later row counts as later, so the result is reproducible.
    frame = ratings(
        [
            ("u", "a", 5, 1),
            ("u", "b", 4, 1),
            ("u", "c", 3, 1),
            ("u", "d", 2, 1),
            ("v", "a", 5, 1),
            ("v", "b", 5, 1),
            ("v", "d", 5, 1),
            *FILLER,
        ]
    )
    split = split_ratings(frame, "leave-last-out")
    assert pairs(split.test) == {("u", "d"), ("v", "d")}
    assert pairs(split.validation) == {("u", "c"), ("v", "b")}


def test_leave_last_out_on_real_data_takes_each_users_latest(head: pd.DataFrame) -> None:
    split = split_ratings(head, "leave-last-out")
    check_invariants(split, head)
    counts = head.groupby("user").size()
    eligible = counts[counts >= 3].index
    # At most one test and one validation rating per user, only for users with >= 3 ratings.
    for part in (split.validation, split.test):
        assert not part["user"].duplicated().any()
        assert isin(part["user"], eligible).all()
    assert isin(split.train["user"], counts[counts < 3].index).sum() == counts[counts < 3].sum()
    # Each test rating is at the user's latest time, and no later than anything left in train.
    latest = head.groupby("user")["timestamp"].max()
    assert (split.test["timestamp"].to_numpy() == latest[split.test["user"]].to_numpy()).all()
    train_latest = split.train.groupby("user")["timestamp"].max()
    validation_times = split.validation["timestamp"].to_numpy()
    assert (validation_times >= train_latest[split.validation["user"]].to_numpy()).all()
    # Held-out ratings were only dropped when their product or user is absent from train.
    assert len(split.test) + len(split.validation) + split.dropped_unknown == 2 * len(eligible)


def test_result_does_not_depend_on_row_order(head: pd.DataFrame) -> None:
    # Ties in time are broken by row order, so compare on rows with distinct (user, time).
    distinct = head.drop_duplicates(["user", "timestamp"], keep=False)
    shuffled = distinct.sample(frac=1.0, random_state=7)
    a, b = split_ratings(distinct, "leave-last-out"), split_ratings(shuffled, "leave-last-out")
    assert pairs(a.test) == pairs(b.test)
    assert pairs(a.validation) == pairs(b.validation)
    assert a.dropped_unknown == b.dropped_unknown


def test_held_out_product_seen_nowhere_else_is_dropped_and_counted() -> None:
    frame = ratings(
        [
            ("u", "a", 5, 1),
            ("u", "b", 4, 2),
            ("u", "c", 3, 3),
            ("u", "only-here", 2, 4),
            ("v", "a", 5, 1),
            ("v", "b", 4, 2),
            ("v", "c", 3, 3),
            ("v", "a2", 1, 4),
            ("w", "a2", 2, 1),
            *FILLER,
        ]
    )
    split = split_ratings(frame, "leave-last-out")
    assert split.dropped_unknown == 1
    assert pairs(split.test) == {("v", "a2")}
    assert ("u", "only-here") not in pairs(split.train) | pairs(split.validation)
    assert pairs(split.validation) == {("u", "c"), ("v", "c")}
    assert pairs(split.train) == {("u", "a"), ("u", "b"), ("v", "a"), ("v", "b"), ("w", "a2")} | FILLER_PAIRS


def test_duplicate_pairs_keep_the_latest_rating() -> None:
    frame = ratings(
        [
            ("u", "a", 1, 9),
            ("u", "b", 4, 2),
            ("u", "c", 3, 3),
            ("u", "d", 2, 1),
            ("u", "a", 5, 1),
            ("v", "a", 5, 1),
            ("v", "b", 4, 2),
            ("v", "c", 3, 3),
            ("v", "d", 1, 4),
            *FILLER,
        ]
    )
    split = split_ratings(frame, "leave-last-out")
    assert split.duplicates_dropped == 1
    everything = pd.concat([split.train, split.validation, split.test])
    assert not everything.duplicated(["user", "item"]).any()
    kept = everything[(everything["user"] == "u") & (everything["item"] == "a")]
    assert kept["rating"].tolist() == [1.0]  # the rating from day 9, not day 1
    assert pairs(split.test) == {("u", "a"), ("v", "d")}


def test_numeric_timestamps_are_accepted() -> None:
    frame = ratings(
        [
            ("u", "a", 5, 3),
            ("u", "b", 4, 2),
            ("u", "c", 3, 1),
            ("v", "a", 1, 1),
            ("v", "b", 5, 2),
            ("v", "c", 4, 3),
            *FILLER,
        ]
    )
    frame["timestamp"] = frame["timestamp"].astype("int64") // 10**9
    split = split_ratings(frame)
    assert pairs(split.test) == {("u", "a"), ("v", "c")}
    assert pairs(split.validation) == {("u", "b"), ("v", "b")}


# -- random --------------------------------------------------------------------------------------


def test_auto_without_timestamps_is_a_seeded_random_hold_out(dense: pd.DataFrame) -> None:
    split = split_ratings(dense, seed=3)
    assert split.method == "random"
    check_invariants(split, dense)
    # One test and one validation rating for each user with at least 3 ratings.
    counts = dense.groupby("user").size()
    assert len(split.test) + len(split.validation) + split.dropped_unknown == 2 * (counts >= 3).sum()
    assert isin(split.train["user"], counts[counts < 3].index).sum() == counts[counts < 3].sum()
    assert not split.test["user"].duplicated().any()
    assert not split.validation["user"].duplicated().any()
    again = split_ratings(dense, seed=3)
    assert split.test.equals(again.test) and split.validation.equals(again.validation)
    other = split_ratings(dense, seed=4)
    assert pairs(other.test) != pairs(split.test)


def test_random_hold_out_is_not_the_latest_rating(head: pd.DataFrame) -> None:
    random_split = split_ratings(head, "random", seed=1)
    check_invariants(random_split, head)
    last = split_ratings(head, "leave-last-out")
    overlap = len(pairs(random_split.test) & pairs(last.test)) / len(last.test)
    assert overlap < 0.6


# -- temporal ------------------------------------------------------------------------------------


def test_temporal_split_cuts_at_one_time_for_everyone(head: pd.DataFrame) -> None:
    split = split_ratings(head, "temporal", test_fraction=0.1)
    assert split.method == "temporal"
    check_invariants(split, head)
    assert split.train["timestamp"].max() < split.validation["timestamp"].min()
    assert split.validation["timestamp"].max() < split.test["timestamp"].min()
    # The cut-offs are times: every rating up to the last training time is in train.
    assert (head["timestamp"] <= split.train["timestamp"].max()).sum() == len(split.train)
    # Validation and test take at least a tenth of the ratings each (before unknown ids are dropped).
    held_out = len(split.validation) + len(split.test) + split.dropped_unknown
    assert held_out >= 0.2 * len(head)
    assert len(split.train) <= 0.8 * len(head)
    assert split.dropped_unknown > 0  # new users after the cut-off cannot be scored


def test_temporal_fraction_grows_the_held_out_parts(head: pd.DataFrame) -> None:
    small = split_ratings(head, "temporal", test_fraction=0.05)
    large = split_ratings(head, "temporal", test_fraction=0.2)
    assert len(large.train) < len(small.train)
    assert large.test["timestamp"].min() < small.test["timestamp"].min()


# -- errors --------------------------------------------------------------------------------------


def test_users_with_too_few_ratings_explain_the_problem() -> None:
    frame = ratings([("u", "a", 5, 1), ("u", "b", 4, 2), ("v", "a", 3, 1)])
    with pytest.raises(RecsysError, match=r"at least 3 ratings.*temporal split"):
        split_ratings(frame, "leave-last-out")
    with pytest.raises(RecsysError, match="at least 3 ratings"):
        split_ratings(frame.drop(columns="timestamp"))


def test_hold_outs_with_only_unknown_products_explain_the_problem() -> None:
    frame = ratings([("u", "a", 5, 1), ("u", "b", 4, 2), ("u", "c", 3, 3)])
    with pytest.raises(RecsysError, match="occur nowhere else"):
        split_ratings(frame, "leave-last-out")


def test_temporal_needs_distinct_times() -> None:
    frame = ratings([(f"u{i % 3}", f"i{i}", 5, 1) for i in range(12)])
    with pytest.raises(RecsysError, match="too few or too alike"):
        split_ratings(frame, "temporal")


@pytest.mark.parametrize("method", ["leave-last-out", "temporal"])
def test_time_based_methods_need_timestamps(dense: pd.DataFrame, method: str) -> None:
    with pytest.raises(RecsysError, match=r"no timestamp column.*random split"):
        split_ratings(dense, method)


def test_missing_times_are_reported_with_row_numbers() -> None:
    frame = ratings([("u", "a", 5, 1), ("u", "b", 4, 2), ("u", "c", 3, 3)])
    frame.loc[1, "timestamp"] = pd.NaT
    with pytest.raises(RecsysError, match=r"1 missing value\(s\) \(data rows 2\)"):
        split_ratings(frame)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"method": "shuffle"}, "Unknown split method 'shuffle'"),
        ({"method": "temporal", "test_fraction": 0.5}, "test_fraction"),
        ({"method": "temporal", "test_fraction": 0.0}, "test_fraction"),
    ],
)
def test_bad_settings(head: pd.DataFrame, kwargs: dict, fragment: str) -> None:
    with pytest.raises(RecsysError, match=fragment):
        split_ratings(head, **kwargs)


def test_missing_columns_and_empty_input() -> None:
    with pytest.raises(RecsysError, match="item"):
        split_ratings(pd.DataFrame({"user": ["u"], "rating": [5.0]}))
    with pytest.raises(RecsysError, match="empty"):
        split_ratings(pd.DataFrame({"user": [], "item": [], "rating": []}))


def test_method_names_are_forgiving() -> None:
    frame = ratings([("u", "a", 5, 1), ("u", "b", 4, 2), ("u", "c", 3, 3), *FILLER])
    assert split_ratings(frame, "Leave_Last_Out").method == "leave-last-out"


# -- properties ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 8), st.integers(1, 5), st.integers(0, 20)),
        min_size=1,
        max_size=60,
    ),
    method=st.sampled_from(["leave-last-out", "random", "temporal"]),
    seed=st.integers(0, 3),
)
def test_invariants_hold_for_any_small_table(
    rows: list[tuple[int, int, int, int]], method: str, seed: int
) -> None:
    frame = ratings([(f"u{u}", f"i{i}", float(r), t) for u, i, r, t in rows])
    try:
        split = split_ratings(frame, method, seed=seed)
    except RecsysError as exc:
        # Only a split with an empty validation or test part may fail, and it says so.
        assert "empty" in str(exc) or "at least 3 ratings" in str(exc)
        return
    assert len(split.validation) and len(split.test)
    check_invariants(split, frame)
    if method != "temporal":
        sizes = frame.drop_duplicates(["user", "item"]).groupby("user").size()
        for part in (split.validation, split.test):
            assert not part["user"].duplicated().any()
            assert (sizes[part["user"]] >= 3).all()


def test_missing_ids_are_reported_with_row_numbers() -> None:
    frame = ratings([("u", "a", 5, 1), ("u", "b", 4, 2), ("u", "c", 3, 3), *FILLER])
    frame.loc[2, "item"] = None
    with pytest.raises(RecsysError, match=r"item column has 1 missing id\(s\) \(data rows 3\)"):
        split_ratings(frame)
