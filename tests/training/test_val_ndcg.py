"""Validation NDCG of the epoch choice and the blend's β: ranking_metrics' figures exactly, each
block of users scored once."""

from __future__ import annotations

import numpy as np
import pytest

import recsys_core as rs
from recsys_core.baselines import item_similarity
from recsys_core.config import TrainConfig
from recsys_core.data import demo_ratings
from recsys_core.metrics import ranking_metrics
from recsys_core.model import BLEND_GRID, Blend, Blended
from recsys_core.training import ValidationRanker


@pytest.fixture(scope="module")
def run():
    config = TrainConfig.preset("recommended", embedding_dim=8, epochs=2, neighbours=0, device="cpu")
    return rs.train(demo_ratings(n_users=300, n_items=120, n_ratings=4_000, seed=5), config, evaluate=False)


def test_every_beta_equals_ranking_metrics_to_the_last_bit(run) -> None:
    train, val = run.training_pairs(), run.validation_pairs()
    ranker = ValidationRanker(train, val, run.n_users, run.n_items)
    similarity = item_similarity(ranker.seen, 20, 20.0)
    got = ranker.ndcg(run.model, similarity, BLEND_GRID)
    for beta in BLEND_GRID:
        blended = Blended(run.model, Blend(similarity, beta))
        expected = ranking_metrics(blended, *val, ranker.seen, k=10)["model"]["ndcg_at_k"]
        assert got[beta] == expected
    assert ranker.ndcg(run.model)[0.0] == got[0.0]


def test_a_user_sample_is_the_one_ranking_metrics_draws(run) -> None:
    train, val = run.training_pairs(), run.validation_pairs()
    ranker = ValidationRanker(train, val, run.n_users, run.n_items, max_users=50, seed=7)
    assert len(ranker.users) == 50
    expected = ranking_metrics(run.model, *val, ranker.seen, k=10, max_users=50, seed=7)
    assert ranker.ndcg(run.model)[0.0] == expected["model"]["ndcg_at_k"]


def test_no_validation_users_gives_nan(run) -> None:
    empty = (np.empty(0, np.int64), np.empty(0, np.int64))
    ranker = ValidationRanker(run.training_pairs(), empty, run.n_users, run.n_items)
    assert np.isnan(ranker.ndcg(run.model, None, (0.0, 1.0))[1.0])


def test_large_catalogues_judge_fewer_customers() -> None:
    from recsys_core.metrics import RANKING_MAX_USERS
    from recsys_core.training._softmax_sizes import MIN_JUDGED_USERS, VALIDATION_WORK, judged_users

    assert judged_users(2_000, RANKING_MAX_USERS) == RANKING_MAX_USERS  # the demo data: all capped as before
    at_seed_shape = judged_users(48_769, RANKING_MAX_USERS)
    assert MIN_JUDGED_USERS <= at_seed_shape < RANKING_MAX_USERS
    assert at_seed_shape * 48_769 <= VALIDATION_WORK
    assert judged_users(476_000, RANKING_MAX_USERS) == MIN_JUDGED_USERS
    assert judged_users(476_000, 500) == 500  # never more than asked


def test_blocks_on_threads_and_the_kept_knn_terms_give_the_same_figures(run, monkeypatch) -> None:
    from recsys_core.training import _val_ndcg

    monkeypatch.setattr(_val_ndcg, "CHUNK_USERS", 64)  # several blocks of users
    products = []
    knn_scores = _val_ndcg.knn_scores
    monkeypatch.setattr(_val_ndcg, "knn_scores", lambda *a: products.append(1) or knn_scores(*a))
    train, val = run.training_pairs(), run.validation_pairs()
    ranker = ValidationRanker(train, val, run.n_users, run.n_items)
    similarity = item_similarity(ranker.seen, 20, 20.0)
    first = ranker.per_user(run.model, similarity, BLEND_GRID)
    blocks = len(products)
    assert blocks >= 4
    again = ranker.per_user(run.model, similarity, BLEND_GRID, threads=3)
    assert len(products) == blocks  # the second ranking reused every block's H @ S
    monkeypatch.setattr(_val_ndcg, "KNN_CACHE_BYTES", 0)
    fresh = ValidationRanker(train, val, run.n_users, run.n_items)
    third = fresh.per_user(run.model, similarity, BLEND_GRID, threads=2)
    fresh.per_user(run.model, similarity, BLEND_GRID)
    assert len(products) == 3 * blocks  # nothing kept above the cap
    for beta in BLEND_GRID:
        np.testing.assert_array_equal(first[beta], again[beta])
        np.testing.assert_array_equal(first[beta], third[beta])
