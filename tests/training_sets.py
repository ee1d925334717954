"""Small synthetic training sets for the trainer tests."""

from __future__ import annotations

import numpy as np

from recsys_core.data import TrainingData


def random_data(n_users: int = 60, n_items: int = 40, per_user: int = 10, seed: int = 0) -> TrainingData:
    """Each user rates ``per_user`` distinct random products 1-5; the first is held out for validation."""
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    ratings = rng.integers(1, 6, len(users)).astype(np.float64)
    val = np.arange(n_users) * per_user
    train = np.setdiff1d(np.arange(len(users)), val)
    return TrainingData.from_ratings(
        users[train], items[train], ratings[train], users[val], items[val], ratings[val], 1.0, 5.0
    )
