"""Small trained runs on the built-in demo data, shared by the sweep, diff and report tests."""

from __future__ import annotations

import pandas as pd

import recsys_core as rs
from recsys_core.config import TrainConfig
from recsys_core.data import Ratings, demo_ratings, generate_demo
from recsys_core.runs import Run

N_USERS, N_ITEMS, N_RATINGS = 600, 200, 9000


def small_ratings(seed: int = 1) -> Ratings:
    """Demo ratings small enough to train on in about a second."""
    return demo_ratings(n_users=N_USERS, n_items=N_ITEMS, n_ratings=N_RATINGS, seed=seed)


def small_products(seed: int = 1) -> pd.DataFrame:
    return generate_demo(n_users=N_USERS, n_items=N_ITEMS, n_ratings=N_RATINGS, seed=seed).products


def notebook_run(ratings: Ratings, **overrides: object) -> Run:
    """The notebook's recipe (rating objective, oversampling), cut to 2 epochs of a small model."""
    settings = {"epochs": 2, "embedding_dim": 32, "batch_size": 256, **overrides}
    return rs.train(ratings, TrainConfig.preset("notebook", **settings))


def fast_run(ratings: Ratings, products: pd.DataFrame | None = None, **overrides: object) -> Run:
    """The fast preset (hybrid objective with sampled negatives), 6 epochs."""
    return rs.train(ratings, TrainConfig.preset("fast", **{"epochs": 6, **overrides}), products=products)
