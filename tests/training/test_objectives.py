"""Training objectives: negative sampling, the hybrid's rating head, and what each objective buys.

Behavioural checks train on small demo data (seconds) and compare with margins measured well
inside the gaps seen in benchmarks/objectives.py, so they fail only when an objective stops
doing its job.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from training_sets import random_data

import recsys_core as rs
import recsys_core.training as training
from recsys_core.config import OBJECTIVES, TrainConfig
from recsys_core.data import TrainingData, demo_ratings, write_demo_csv
from recsys_core.errors import RecsysError
from recsys_core.model import HYBRID_NEGATIVE_WEIGHT, NCF
from recsys_core.runs import load_run, save_run
from recsys_core.training import NegativeSampler, epoch_samples, fit_rating_head, train_model


def small_config(**overrides) -> TrainConfig:
    base = {"embedding_dim": 8, "batch_size": 256, "epochs": 3, "learning_rate": 1e-2, "multipliers": {}}
    base.update(overrides)
    return TrainConfig.preset("notebook", **base)


def rated_pairs(data: TrainingData) -> set[tuple[int, int]]:
    users, items = np.r_[data.users, data.val_users], np.r_[data.items, data.val_items]
    return set(zip(users.tolist(), items.tolist(), strict=True))


def negatives_of(samples, objective: str) -> tuple[np.ndarray, np.ndarray]:
    negative = samples.targets == 0 if objective == "ranking" else samples.weights == HYBRID_NEGATIVE_WEIGHT
    return samples.users[negative], samples.items[negative]


# ---------------------------------------------------------------------------------------------
# Negative sampling
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("objective", ["ranking", "hybrid"])
def test_training_resamples_negatives_every_epoch_reproducibly(
    monkeypatch: pytest.MonkeyPatch, objective: str
) -> None:
    data = random_data()
    drawn: list[list[np.ndarray]] = []
    real = training.epoch_samples

    def spy(epoch_data: TrainingData, *args, **kwargs):
        samples = real(epoch_data, *args, **kwargs)
        if len(epoch_data.users) == len(data.users):  # not the validation pairs' one-off draw
            drawn[-1].append(np.stack(negatives_of(samples, objective)))
        return samples

    # The trainers draw their epochs through TrainingSetup, which looks epoch_samples up here.
    monkeypatch.setattr(training._setup, "epoch_samples", spy)
    params = []
    for seed in (7, 7, 8):
        drawn.append([])
        model = NCF(60, 40, 8, seed=0)
        train_model(model, data, small_config(objective=objective, negatives=3, seed=seed))
        params.append(model.item_embedding.weight.detach().clone())
    first, again, other = drawn
    assert len(first) == 3  # one draw per epoch
    for epoch in range(3):
        assert first[epoch].shape[1] == 3 * len(data.users)
        # users keep their share (3 per rating), the products are drawn afresh
        np.testing.assert_array_equal(np.sort(first[epoch][0]), np.sort(np.repeat(data.users, 3)))
    assert not np.array_equal(np.sort(first[0][1]), np.sort(first[1][1]))
    assert not np.array_equal(np.sort(first[1][1]), np.sort(first[2][1]))
    # same seed: the same draws and the same model; another seed: other draws
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert torch.equal(params[0], params[1])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("lookup", ["table", "binary search"])
@settings(max_examples=25, deadline=None)
@given(
    n_users=st.integers(1, 12),
    n_items=st.integers(1, 15),
    density=st.floats(0.05, 1.0),
    per_user=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_negatives_are_never_rated_by_their_user(
    lookup: str, n_users: int, n_items: int, density: float, per_user: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True  # everyone rated something
    users, items = np.nonzero(mask)
    data = TrainingData.from_ratings(users, items, np.full(len(users), 5.0), users[:1], items[:1], [5.0])
    sampler = NegativeSampler(data, n_items)
    if lookup == "binary search":
        sampler._table = None
    neg_users, neg_items = sampler.sample(users, per_user, rng)
    # Never rated: draws still rated after the retries are dropped, never kept. Users who rated
    # everything get none; nobody gets more than asked for.
    assert not mask[neg_users, neg_items].any()
    counts = np.bincount(neg_users, minlength=n_users)
    assert np.all(counts <= per_user * np.bincount(users, minlength=n_users))
    assert np.all(counts[mask.all(axis=1)] == 0)


def test_a_user_with_few_unrated_products_still_gets_all_their_negatives() -> None:
    # User 0 rated 30 of 32 products: a uniform draw hits a rated one 94 % of the time, so most
    # draws fail every redraw and come from the exact draw among the two free products (uniformly).
    # User 1 rated everything and gets nothing; user 2 rated one product.
    users = np.r_[np.zeros(30, np.int64), np.ones(32, np.int64), [2]]
    items = np.r_[np.arange(30), np.arange(32), [5]]
    data = TrainingData.from_ratings(users, items, np.full(len(users), 4.0), [0], [0], [4.0])
    for table in (True, False):
        sampler = NegativeSampler(data, 32)
        if not table:
            sampler._table = None
        neg_users, neg_items = sampler.sample(np.array([0, 1, 2]), 2000, np.random.default_rng(0))
        assert np.bincount(neg_users, minlength=3).tolist() == [2000, 0, 2000]
        of_0 = np.bincount(neg_items[neg_users == 0], minlength=32)
        assert of_0[:30].sum() == 0 and 850 < of_0[30] < 1150  # about half each
        of_2 = np.bincount(neg_items[neg_users == 2], minlength=32)
        assert of_2[5] == 0 and of_2.min(initial=99, where=np.arange(32) != 5) > 20  # all others drawn


def test_objectives_build_their_targets_and_weights() -> None:
    data = random_data()
    sampler = NegativeSampler(data, 40)
    rating = epoch_samples(data, small_config(objective="rating"), np.random.default_rng(0), sampler)
    assert len(rating.users) == len(data.users) and len(rating.weights) == 0
    np.testing.assert_allclose(np.sort(rating.targets), np.sort(data.targets))
    ranking = epoch_samples(
        data, small_config(objective="ranking", negatives=2), np.random.default_rng(0), sampler
    )
    assert set(np.unique(ranking.targets).tolist()) == {0.0, 1.0} and len(ranking.weights) == 0
    assert np.count_nonzero(ranking.targets == 1) == len(data.users)
    hybrid = epoch_samples(
        data, small_config(objective="hybrid", negatives=2), np.random.default_rng(0), sampler
    )
    negative = hybrid.weights == HYBRID_NEGATIVE_WEIGHT
    assert np.count_nonzero(negative) == 2 * len(data.users) and np.all(hybrid.targets[negative] == 0)
    np.testing.assert_allclose(np.sort(hybrid.targets[~negative]), np.sort(data.targets))
    # no negatives asked for: every objective trains on the observed ratings only
    none = epoch_samples(
        data, small_config(objective="hybrid", negatives=0), np.random.default_rng(0), sampler
    )
    assert len(none.users) == len(data.users)


# ---------------------------------------------------------------------------------------------
# The rating head
# ---------------------------------------------------------------------------------------------


def test_rating_head_recovers_user_and_product_offsets_without_touching_the_ranking() -> None:
    # Ratings driven by how generous a user is and how good a product is: exactly what the
    # head's biases can express, and nothing an untrained model knows.
    rng = np.random.default_rng(3)
    n_users, n_items = 300, 80
    generosity, quality = rng.normal(size=n_users), rng.normal(size=n_items)
    users = rng.integers(0, n_users, 6000)
    items = rng.integers(0, n_items, 6000)
    stars = np.clip(np.round(3 + 1.2 * (generosity[users] + quality[items]) + rng.normal(0, 0.5, 6000)), 1, 5)
    data = TrainingData.from_ratings(users, items, stars, users[:1], items[:1], stars[:1], 1.0, 5.0)
    model = NCF(n_users, n_items, 4, seed=0)
    ranking_before = model.score_all_items(torch.arange(n_users)).clone()
    state_before = {k: v.clone() for k, v in model.state_dict().items()}

    assert not model.has_rating_head
    np.testing.assert_array_equal(
        model.rating_scores(torch.as_tensor(users), torch.as_tensor(items)),
        model.score_pairs(torch.as_tensor(users), torch.as_tensor(items)),
    )
    rounds = fit_rating_head(model, data.users, data.items, data.targets)
    assert model.has_rating_head and 1 <= rounds <= 50
    # the trained parameters, and so the recommendations, are untouched
    assert torch.equal(model.score_all_items(torch.arange(n_users)), ranking_before)
    for name, tensor in state_before.items():
        assert torch.equal(model.state_dict()[name], tensor)
    assert np.corrcoef(model.rating_user_bias.numpy(), generosity)[0, 1] > 0.9
    assert np.corrcoef(model.rating_item_bias.numpy(), quality)[0, 1] > 0.9
    predicted = model.rating_scores(torch.as_tensor(users), torch.as_tensor(items)).numpy()
    assert roc_auc_score(stars >= 4, predicted) > 0.85
    # refitting from the fitted head converges at once
    assert fit_rating_head(model, data.users, data.items, data.targets) <= 2
    with pytest.raises(RecsysError, match="l2"):
        fit_rating_head(model, data.users, data.items, data.targets, l2=0)


def test_hybrid_validation_metrics_judge_the_rating_head() -> None:
    data = random_data(seed=4)
    model = NCF(60, 40, 8, seed=0)
    result = train_model(model, data, small_config(objective="hybrid", negatives=2, epochs=4))
    assert model.has_rating_head
    scores = model.rating_scores(torch.as_tensor(data.val_users), torch.as_tensor(data.val_items)).numpy()
    best = result.history[result.best_epoch - 1]
    assert best.val_auc == pytest.approx(roc_auc_score(data.val_ratings >= 4, scores))
    # rating and ranking objectives train no head
    for objective in ("rating", "ranking"):
        plain = NCF(60, 40, 8, seed=0)
        train_model(plain, data, small_config(objective=objective, negatives=2, epochs=1))
        assert not plain.has_rating_head


# ---------------------------------------------------------------------------------------------
# What the objectives buy, on small demo data
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_runs() -> dict:
    # 1,500 users, 500 products, 30,000 ratings; leave-last-out split (the demo has dates).
    ratings = demo_ratings(1500, 500, 30_000, seed=0)
    return {
        objective: rs.train(ratings, TrainConfig.preset("fast", objective=objective, seed=0))
        for objective in OBJECTIVES
    }


def test_ranking_objective_beats_most_popular(demo_runs: dict) -> None:
    ranking = demo_runs["ranking"].metrics["ranking"]
    model, popular = ranking["model"], ranking["popularity"]
    # measured 2.6x (hit rate) on this data; the rating objective alone does not beat popularity
    assert model["hit_rate_at_k"] > 1.5 * popular["hit_rate_at_k"]
    assert model["ndcg_at_k"] > 1.5 * popular["ndcg_at_k"]
    rating = demo_runs["rating"].metrics["ranking"]["model"]
    assert model["hit_rate_at_k"] > 1.5 * rating["hit_rate_at_k"]


def test_hybrid_ranks_like_ranking_and_predicts_ratings_like_rating(demo_runs: dict) -> None:
    hybrid, rating, ranking = (demo_runs[o].metrics for o in ("hybrid", "rating", "ranking"))
    # measured: hybrid AUC 0.824 vs rating 0.787 vs ranking 0.545 (4★+ on the test ratings)
    assert hybrid["roc_auc"] > rating["roc_auc"] - 0.02
    assert hybrid["roc_auc"] > ranking["roc_auc"] + 0.1
    assert hybrid["precision"] > hybrid["trivial_precision"]
    # measured 2.1x popularity's hit rate
    assert (
        hybrid["ranking"]["model"]["hit_rate_at_k"] > 1.4 * hybrid["ranking"]["popularity"]["hit_rate_at_k"]
    )


def test_hybrid_run_saves_and_loads_its_rating_head(demo_runs: dict, tmp_path: Path) -> None:
    run = demo_runs["hybrid"]
    loaded = load_run(save_run(run, tmp_path / "hybrid"))
    assert loaded.model.has_rating_head
    np.testing.assert_array_equal(loaded.test_scores(), run.test_scores())
    # the test scores are the head's (not the ranking score's)
    users, items = torch.as_tensor(run.test_users), torch.as_tensor(run.test_items)
    np.testing.assert_allclose(run.test_scores(), run.model.rating_scores(users, items).double().numpy())
    assert not np.allclose(run.test_scores(), run.model.score_pairs(users, items).double().numpy())
    assert not load_run(save_run(demo_runs["rating"], tmp_path / "rating")).model.has_rating_head


# ---------------------------------------------------------------------------------------------
# Choosing an objective: config and CLI
# ---------------------------------------------------------------------------------------------


def test_config_accepts_the_objectives_and_rejects_others() -> None:
    for objective in OBJECTIVES:
        assert TrainConfig(objective=objective).objective == objective
        assert TrainConfig.preset("fast", objective=objective).objective == objective
        assert TrainConfig.from_dict(TrainConfig(objective=objective).to_dict()).objective == objective
    for bad in ("Hybrid", "bpr", ""):
        with pytest.raises(RecsysError, match="objective must be one of rating, ranking, hybrid, softmax"):
            TrainConfig(objective=bad)
        with pytest.raises(RecsysError, match="objective"):
            TrainConfig.preset("fast", objective=bad)
    with pytest.raises(RecsysError, match="negatives"):
        TrainConfig(objective="ranking", negatives=-1)


def test_cli_trains_each_objective_and_rejects_unknown_ones(tmp_path: Path, run_cli: CliRunner) -> None:
    csv = tmp_path / "ratings.csv"
    write_demo_csv(csv, n_users=200, n_items=80, n_ratings=3000, seed=1)
    for objective in OBJECTIVES:
        folder = tmp_path / objective
        code, _, err = run_cli(
            "train", str(csv), "--out", str(folder), "--preset", "fast", "--epochs", "1", "--quiet",
            "--objective", objective, "--negatives", "2",
        )  # fmt: skip
        assert code == 0, err
        config = json.loads((folder / "config.json").read_text())
        assert config["objective"] == objective and config["negatives"] == 2
        assert load_run(folder).model.has_rating_head == (objective in ("hybrid", "softmax"))
    code, _, err = run_cli("train", str(csv), "--out", str(tmp_path / "bad"), "--objective", "pairwise")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "objective must be one of" in lines[0]
    assert not (tmp_path / "bad").exists()
