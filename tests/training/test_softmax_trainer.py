"""The ``softmax`` objective: reproducible, epoch chosen on validation NDCG@10, predicts ratings."""

from __future__ import annotations

import numpy as np
import torch

from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData
from recsys_core.model import NCF
from recsys_core.training import train_softmax


def picked(n_users=300, n_items=80, per_user=12, seed=0) -> TrainingData:
    """Users pick products by a hidden low-rank affinity; one validation pick per user."""
    rng = np.random.default_rng(seed)
    affinity = 2.0 * rng.normal(size=(n_users, 3)) @ rng.normal(size=(3, n_items))
    p = np.exp(affinity) / np.exp(affinity).sum(1, keepdims=True)
    chosen = [rng.choice(n_items, per_user, replace=False, p=row) for row in p]
    users, items = np.repeat(np.arange(n_users), per_user), np.concatenate(chosen)
    ratings = rng.integers(1, 6, len(users)).astype(np.float64)
    val = np.arange(n_users) * per_user
    train = np.setdiff1d(np.arange(len(users)), val)
    return TrainingData.from_ratings(
        users[train], items[train], ratings[train], users[val], items[val], ratings[val], 1.0, 5.0
    )


def config(**overrides) -> TrainConfig:
    return TrainConfig.preset(
        "recommended", **{"embedding_dim": 8, "epochs": 6, "device": "cpu", **overrides}
    )


def test_same_seed_same_model_and_best_epoch_by_validation_ndcg() -> None:
    data = picked()
    runs = [train_softmax(NCF(300, 80, 8, seed=0), data, config(seed=s)) for s in (3, 3, 4)]
    a, b, c = (r.model.state_dict() for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["item_embedding.weight"], c["item_embedding.weight"])
    result = runs[0]
    ndcg = [1.0 - r.val_loss for r in result.history]
    assert result.best_epoch == 1 + int(np.argmax(ndcg))
    assert max(ndcg) > 0.2  # random order would find the one held-out pick of 70 far less often
    assert result.model.has_rating_head


def test_dense_adam_is_torch_adam_step_for_step() -> None:
    from recsys_core.training._softmax import _DenseAdam

    gen = torch.Generator().manual_seed(0)
    ours = [torch.randn(7, 3, generator=gen), torch.randn(7, 1, generator=gen)]
    theirs = [t.clone().requires_grad_(True) for t in ours]
    for t in ours:
        t.requires_grad_(True)
    adam = _DenseAdam(ours, 1e-2)
    reference = torch.optim.Adam(theirs, lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    for _ in range(25):
        grads = [torch.randn(t.shape, generator=gen) for t in ours]
        for t, g in zip(ours, grads, strict=True):
            t.grad = g.clone()
        for t, g in zip(theirs, grads, strict=True):
            t.grad = g.clone()
        adam.update()
        reference.step()
        assert all(t.grad is None for t in ours)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
