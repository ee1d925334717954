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


def test_fused_lazy_adam_matches_the_torch_ops_and_leaves_other_rows_alone() -> None:
    """The numba row update (large catalogues) is the torch ops' arithmetic on the touched rows."""
    from recsys_core.training._softmax import _LazyRows

    gen = torch.Generator().manual_seed(1)
    start = torch.randn(50, 6, generator=gen)
    torch_rows, fused_rows = _LazyRows(start.clone(), 1e-2), _LazyRows(start.clone(), 1e-2, fused=True)
    assert fused_rows.kernel is not None and torch_rows.kernel is None
    touched = torch.zeros(50, dtype=torch.bool)
    for _ in range(30):
        rows = torch.randperm(40, generator=gen)[:9]  # rows 40-49 never move
        grad = torch.randn(9, 6, generator=gen)
        touched[rows] = True
        torch_rows.update(rows, grad)
        fused_rows.update(rows, grad)
    for name in ("table", "m", "v"):
        ours, theirs = getattr(fused_rows, name), getattr(torch_rows, name)
        assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    assert not touched.all()
    assert torch.equal(fused_rows.table[~touched], start[~touched])
    assert (fused_rows.m[~touched] == 0).all() and (fused_rows.v[~touched] == 0).all()
    assert not torch.equal(fused_rows.table[touched], start[touched])


def _autograd_loss(p, q, b, target, share):
    from recsys_core.model import SOFTMAX_L2

    n = len(p)
    nll = -(target * torch.log_softmax(p @ q.T + b, dim=1)).sum() / n
    return nll + SOFTMAX_L2 * ((p * p).sum() + share * ((q * q).sum() + (b * b).sum())) / n


def test_written_out_gradients_are_autograd_gradients() -> None:
    from recsys_core.training._softmax import batch_gradients

    gen = torch.Generator().manual_seed(3)
    p, q, b = (torch.randn(s, generator=gen, dtype=torch.float64) for s in ((6, 4), (9, 4), (9,)))
    # Weighted targets, one customer with none (a class weighed 0): only the penalty moves them.
    target = (torch.rand(6, 9, generator=gen, dtype=torch.float64) < 0.3) * torch.tensor(
        [2.5, 1.0, 0.5, 1.0, 3.0, 1.0], dtype=torch.float64
    )[:, None]
    target[2] = 0.0
    loss, gp, gq, gb = batch_gradients(p, q, b, target, share=0.25)
    leaves = [t.clone().requires_grad_(True) for t in (p, q, b)]
    reference = _autograd_loss(*leaves, target, 0.25)
    reference.backward()
    assert abs(loss - reference.item()) < 1e-10
    for ours, leaf in zip((gp, gq, gb), leaves, strict=True):
        assert torch.allclose(ours, leaf.grad, atol=1e-12)


def test_slices_of_a_batch_add_up_to_the_whole_batch() -> None:
    """What a distributed step sums: each slice's part, normalised by the whole batch."""
    from recsys_core.training._softmax import batch_gradients

    gen = torch.Generator().manual_seed(4)
    p, q, b = (torch.randn(s, generator=gen, dtype=torch.float64) for s in ((7, 4), (9, 4), (9,)))
    target = (torch.rand(7, 9, generator=gen, dtype=torch.float64) < 0.3).double()
    whole = batch_gradients(p, q, b, target, share=7 / 40)
    # Three slices, one of them empty (a batch smaller than the job).
    parts = [
        batch_gradients(p[lo:hi], q, b, target[lo:hi], (hi - lo) / 40, 7)
        for lo, hi in ((0, 3), (3, 3), (3, 7))
    ]
    assert abs(sum(part[0] for part in parts) - whole[0]) < 1e-12
    assert torch.allclose(torch.cat([part[1] for part in parts]), whole[1], atol=1e-12)
    for k in (2, 3):
        assert torch.allclose(sum(part[k] for part in parts), whole[k], atol=1e-12)


def test_sampled_softmax_trains_only_the_products_a_step_drew(monkeypatch) -> None:
    from recsys_core.training import _softmax

    monkeypatch.setattr(_softmax, "FULL_SOFTMAX_MAX_ITEMS", 10)
    monkeypatch.setattr(_softmax, "SAMPLED_ITEMS", 8)
    data = picked(n_users=120, n_items=400, per_user=6)
    model = NCF(120, 400, 8)
    before = model.item_embedding.weight.detach().clone()
    result = train_softmax(model, data, config(epochs=1, batch_size=32))
    moved = (result.model.item_embedding.weight.detach() != before).any(1).numpy()
    rated = np.zeros(400, bool)
    rated[data.items] = True
    assert moved[rated].all()  # every rated product is in its batch's columns
    assert 0 < moved[~rated].sum() < (~rated).sum()  # some drawn, not every one (dense Adam would move all)


def test_class_weights_change_what_the_softmax_learns() -> None:
    data = picked()
    rated_low = data.targets <= 0.25  # 1★ and 2★
    runs = {}
    for name, weights in (("ones", None), ("no_low", np.where(rated_low, 0.0, 1.0).astype(np.float32))):
        data.weights = weights
        model = NCF(300, 80, 8)
        runs[name] = train_softmax(model, data, config(epochs=2)).model
    data.weights = None
    a, b = (runs[k].item_embedding.weight.detach() for k in ("ones", "no_low"))
    assert not torch.allclose(a, b)
    # Weight 1 everywhere is the unweighted run, number for number.
    data.weights = np.ones(len(data.users), np.float32)
    same = train_softmax(NCF(300, 80, 8), data, config(epochs=2)).model
    assert torch.equal(same.item_embedding.weight, a)


def test_a_clear_drop_in_validation_stops_before_patience_runs_out() -> None:
    from recsys_core.training._softmax import CLEAR_DROP, NdcgJudge

    data = picked()
    model = NCF(300, 80, 8)
    judge = NdcgJudge(model, data, config())
    rng = np.random.default_rng(0)
    best = rng.uniform(0, 1, 300)
    judge.judged[model] = best  # as judging the model leaves it
    judge.ended(True, model)
    assert judge.last is best and not judge.judged
    assert not judge.clearly_worse()  # the best epoch itself
    noise = rng.normal(0, 0.2, 300)
    judge.last = best + noise - noise.mean()  # as good on average: noise, not a drop
    assert not judge.clearly_worse()
    se = (noise - noise.mean()).std(ddof=1) / np.sqrt(300)
    judge.last = best + noise - noise.mean() - 0.5 * CLEAR_DROP * se  # a drop inside the noise
    assert not judge.clearly_worse()
    judge.last = best + noise - noise.mean() - 1.5 * CLEAR_DROP * se  # well outside it
    assert judge.clearly_worse()


def test_training_that_overfits_stops_at_the_clear_drop() -> None:
    # A high learning rate on little data overfits after a few epochs: training ends before
    # PATIENCE epochs pass when the drop is clear, saying so, and keeps the best epoch.
    model = NCF(2000, 80, 16)
    settings = config(epochs=30, learning_rate=0.1, embedding_dim=16)
    result = train_softmax(model, picked(n_users=2000), settings)
    ndcg = [1.0 - r.val_loss for r in result.history]
    assert result.best_epoch == 1 + int(np.argmax(ndcg))
    assert len(result.history) - result.best_epoch < 3  # before PATIENCE epochs passed
    assert "fell clearly below" in result.message
