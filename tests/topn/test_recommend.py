"""Recommendations: unseen products best first, a labelled fallback, and batch = one by one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from model_runs import model_run

from recsys_core.errors import RecsysError
from recsys_core.model import NCF
from recsys_core.runs import Run
from recsys_core.topn import popular_items, recommend, recommend_all

N_USERS, N_ITEMS = 23, 15


def make_run(*, products: bool = True) -> Run:
    """A small run with random weights. User U000 has rated everything, U001 all but 3 items."""
    rng = np.random.default_rng(5)
    users = [f"U{i:03d}" for i in range(N_USERS)]
    items = [f"B{i:04d}" for i in range(N_ITEMS)]
    seen_u, seen_i, test_u, test_i = [], [], [], []
    for u in range(N_USERS):
        if u == 0:
            picked = np.arange(N_ITEMS)
        elif u == 1:
            picked = np.arange(3, N_ITEMS)
        else:
            picked = rng.choice(N_ITEMS, rng.integers(3, 8), replace=False)
        seen_u += [u] * len(picked)
        seen_i += picked.tolist()
        if u >= 2:
            free = np.setdiff1d(np.arange(N_ITEMS), picked)
            test_u.append(u)
            test_i.append(int(rng.choice(free)))
    seen_u, seen_i = np.array(seen_u), np.array(seen_i)
    table = pd.DataFrame(
        {"item": items, "name": [f"Thing {i}" for i in range(N_ITEMS)], "category": ["Cameras"] * N_ITEMS}
    )
    model = NCF(N_USERS, N_ITEMS, embedding_dim=4, seed=3)
    return model_run(
        model, users, items, seen_u, seen_i, name="r", test=(test_u, test_i, [5.0] * len(test_u)),
        products=table if products else None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def run() -> Run:
    return make_run()


def scores_of(run: Run, user: int) -> np.ndarray:
    with torch.no_grad():
        return run.model.score_pairs(torch.full((N_ITEMS,), user), torch.arange(N_ITEMS)).numpy()


def test_known_user_gets_unseen_products_best_first(run: Run) -> None:
    recs = recommend(run, "U005", n=4)
    assert recs.known_user and recs.user == "U005"
    assert list(recs.table.columns) == ["rank", "item", "score", "match", "name", "category"]
    assert recs.table["rank"].tolist() == [1, 2, 3, 4]
    # independent answer: sort every unrated item by the model's pair score
    rated = set(run.seen_items[run.seen_users == 5].tolist())
    scores = scores_of(run, 5)
    expected = [i for i in np.argsort(-scores, kind="stable") if int(i) not in rated][:4]
    assert recs.table["item"].tolist() == [f"B{i:04d}" for i in expected]
    np.testing.assert_allclose(recs.table["score"], scores[expected], rtol=1e-5)
    assert recs.table["name"].tolist() == [f"Thing {i}" for i in expected]
    assert "Top 4" in recs.message
    assert recs.items is recs.table


def test_match_separates_a_list_whose_scores_all_round_to_one() -> None:
    """A softmax run's logits sit far above 0, so every score prints 1.000; ``match`` is the
    chance relative to the top suggestion, ``exp(z_i - z_1)``, and still tells them apart."""
    saturated = make_run()
    with torch.no_grad():
        saturated.model.item_bias.weight += 40.0
    table = recommend(saturated, "U005", n=6).table
    assert (table["score"].round(3) == 1.0).all()
    # The logits 40 lower give the same ranking and scores that sigmoid still resolves.
    plain = scores_of(make_run(), 5)[table["item"].str[1:].astype(int)].astype(np.float64)
    logits = np.log(plain) - np.log1p(-plain)
    np.testing.assert_allclose(table["match"], np.exp(logits - logits[0]), rtol=1e-4)
    assert table["match"].iloc[0] == 1.0 and table["match"].is_monotonic_decreasing
    assert table["match"].nunique() == len(table)


def test_seen_products_are_never_recommended(run: Run) -> None:
    for user in range(1, N_USERS):
        recs = recommend(run, f"U{user:03d}", n=N_ITEMS)
        rated = {f"B{i:04d}" for i in run.seen_items[run.seen_users == user]}
        assert not rated & set(recs.table["item"])
        assert len(recs.table) == N_ITEMS - len(rated)  # everything else is offered
        assert recs.table["score"].between(0, 1).all()
        assert recs.table["score"].is_monotonic_decreasing


def test_test_items_are_candidates_unless_excluded(run: Run) -> None:
    user = int(run.test_users[0])
    held_out = f"B{int(run.test_items[0]):04d}"
    assert held_out in set(recommend(run, f"U{user:03d}", n=N_ITEMS).table["item"])
    assert held_out not in set(recommend(run, f"U{user:03d}", n=N_ITEMS, exclude_test=True).table["item"])


def test_unknown_user_gets_labelled_popular_products(run: Run) -> None:
    recs = recommend(run, "someone new", n=5)
    assert not recs.known_user
    assert "not in the training data" in recs.message and "most popular" in recs.message
    pd.testing.assert_frame_equal(recs.table, popular_items(run, 5))


def test_popular_items_ranked_by_training_count_with_share_as_score(run: Run) -> None:
    table = popular_items(run, 6)
    counts = pd.Series(run.seen_items).value_counts()
    # highest count first, ties to the lower item code
    ranked = sorted(counts.index, key=lambda i: (-counts[i], i))[:6]
    assert table["item"].tolist() == [f"B{i:04d}" for i in ranked]
    assert table["count"].tolist() == [int(counts[i]) for i in ranked]
    np.testing.assert_allclose(table["score"], table["count"] / len(run.seen_items))
    np.testing.assert_allclose(table["match"], table["count"] / table["count"].iloc[0])
    assert {"name", "category"} <= set(table.columns)
    assert len(popular_items(run, 1000)) == N_ITEMS


def test_user_who_rated_everything_gets_an_empty_list_and_a_reason(run: Run) -> None:
    recs = recommend(run, "U000", n=10)
    assert recs.known_user
    assert recs.table.empty
    assert "every product" in recs.message


def test_asking_for_more_than_is_left_returns_what_exists(run: Run) -> None:
    recs = recommend(run, "U001", n=10)
    assert recs.table["item"].tolist() == sorted(
        ["B0000", "B0001", "B0002"], key=lambda i: -scores_of(run, 1)[int(i[1:])]
    )
    assert "Only 3" in recs.message


def test_padded_user_id_is_found(run: Run) -> None:
    assert recommend(run, " U004 ", n=2).known_user


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_n_is_a_clear_error(run: Run, bad) -> None:
    with pytest.raises(RecsysError, match="from 1 to"):
        recommend(run, "U004", n=bad)


def test_recommend_all_in_chunks_equals_one_by_one(run: Run) -> None:
    frames = list(recommend_all(run, n=4, chunk_size=5))
    assert len(frames) == 5  # 23 users in chunks of 5
    everything = pd.concat(frames, ignore_index=True)
    assert list(everything.columns) == ["user", "rank", "item", "score", "match"]
    assert "U000" not in set(everything["user"])  # nothing left for them
    for user, rows in everything.groupby("user", sort=False):
        single = recommend(run, user, n=4).table
        assert rows["item"].tolist() == single["item"].tolist(), user
        assert rows["rank"].tolist() == single["rank"].tolist()
        np.testing.assert_allclose(rows["score"], single["score"], rtol=1e-5)
        np.testing.assert_allclose(rows["match"], single["match"], rtol=1e-4)
    assert len(everything[everything["user"] == "U001"]) == 3
    assert len(everything) == 3 + 4 * (N_USERS - 2)


def test_no_product_table_means_no_name_columns() -> None:
    plain = make_run(products=False)
    assert list(recommend(plain, "U004", n=2).table.columns) == ["rank", "item", "score", "match"]
    assert list(popular_items(plain, 2).columns) == ["rank", "item", "score", "match", "count"]
