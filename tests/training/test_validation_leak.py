"""The validation split is held out exactly like the test split: no training signal may reveal it."""

from __future__ import annotations

import math

import numpy as np

from recsys_core.config import TrainConfig
from recsys_core.data import IdMap, TrainingData, demo_ratings, split_ratings
from recsys_core.metrics import ranking_metrics
from recsys_core.model import NCF
from recsys_core.topn import build_seen_matrix
from recsys_core.training import NegativeSampler, train_model, validation_samples


def one_user(n_items: int = 8) -> TrainingData:
    # User 0 rated products 0-4 in training and product 5 in validation.
    users = np.zeros(5, dtype=np.int64)
    return TrainingData.from_ratings(users, np.arange(5), np.full(5, 5.0), [0], [5], [5.0], 1.0, 5.0)


def test_training_negatives_may_be_the_users_validation_product() -> None:
    # The old sampler excluded validation pairs, so product 5 was never a negative: the model was
    # told which product was held out.
    data = one_user()
    _, items = NegativeSampler(data, 8).sample(np.zeros(3000, np.int64), 1, np.random.default_rng(0))
    counts = np.bincount(items, minlength=8)
    assert counts[:5].sum() == 0
    assert counts[5] > 500 and counts[6] > 500 and counts[7] > 500  # uniform over 5, 6, 7


def test_validation_negatives_are_never_the_held_out_product() -> None:
    data = one_user()
    config = TrainConfig.preset("notebook", objective="ranking", negatives=500, multipliers={})
    sampler = NegativeSampler(data, 8)
    val = validation_samples(data, config, np.random.default_rng(1), sampler)
    negative = val.targets == 0
    assert negative.sum() == 500
    assert set(np.unique(val.items[negative]).tolist()) == {6, 7}


def test_validation_and_test_hit_rates_agree_on_a_shuffled_time_split() -> None:
    # A random split makes validation and test pairs exchangeable: measured the same way (ranked
    # among the products unseen at that point), their hit rates differ only by noise. With the
    # old sampler validation read about twice the test hit rate.
    frame = demo_ratings(n_users=2000, n_items=300, n_ratings=30_000, seed=3).frame
    split = split_ratings(frame, method="random", seed=0)
    ids = IdMap.fit(split.train)
    (tu, ti), (vu, vi), (su, si) = (ids.encode(part) for part in (split.train, split.validation, split.test))
    data = TrainingData.from_ratings(
        tu, ti, split.train["rating"].to_numpy(), vu, vi, split.validation["rating"].to_numpy(), 1.0, 5.0
    )
    config = TrainConfig(
        embedding_dim=16, batch_size=1024, epochs=6, learning_rate=3e-3, multipliers={},
        objective="ranking", negatives=8, device="cpu",
    )  # fmt: skip
    model = train_model(NCF(ids.n_users, ids.n_items, 16, seed=0), data, config).model
    n_users, n_items = ids.n_users, ids.n_items
    val_seen = build_seen_matrix(tu, ti, n_users, n_items)
    test_seen = build_seen_matrix(np.r_[tu, vu], np.r_[ti, vi], n_users, n_items)
    val = ranking_metrics(model, vu, vi, val_seen)["model"]["hit_rate_at_k"]
    test = ranking_metrics(model, su, si, test_seen)["model"]["hit_rate_at_k"]
    noise = math.sqrt(val * (1 - val) / len(vu) + test * (1 - test) / len(su))
    assert abs(val - test) < 3 * noise, (val, test, noise)
