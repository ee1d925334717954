"""The trainer: exact Adam maths against torch, reproducibility, callbacks, Stop, divergence, learning."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData
from recsys_core.errors import RecsysError
from recsys_core.model import HYBRID_NEGATIVE_WEIGHT, NCF
from recsys_core.training import EpochReport, NegativeSampler, epoch_samples, train_model
from recsys_core.training._optim import BETA1, BETA2, EPS, NumbaStepper, TorchStepper, _ThreadChooser

STEPPERS = [NumbaStepper, TorchStepper]


def params(model: NCF) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def max_diff(a: NCF | list[torch.Tensor], b: NCF | list[torch.Tensor]) -> float:
    a = params(a) if isinstance(a, NCF) else a
    b = params(b) if isinstance(b, NCF) else b
    return max(float((x - y).abs().max()) for x, y in zip(a, b, strict=True))


def run_stepper(cls, model: NCF, users, items, targets, batch_size: int, lr: float = 1e-3, **kw) -> None:
    """Train in the given order (no shuffling), batch after batch, in one call."""
    stepper = cls(model, batch_size, lr, **kw)
    batches = -(-len(users) // batch_size)
    stepper.run(users, items, targets, np.zeros(0, np.float32), 0, batches)
    stepper.sync_to_model()


def torch_adam_reference(model: NCF, users, items, targets, batch_size: int, lr: float = 1e-3) -> None:
    """Autograd + torch.optim.Adam on the mean BCE of each batch."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    u, i, t = (torch.as_tensor(a) for a in (users, items, targets))
    for lo in range(0, len(users), batch_size):
        optimiser.zero_grad()
        logits = model(u[lo : lo + batch_size], i[lo : lo + batch_size])
        torch.nn.functional.binary_cross_entropy_with_logits(logits, t[lo : lo + batch_size]).backward()
        optimiser.step()


def lazy_adam_reference(model: NCF, users, items, targets, batch_size: int, lr: float = 1e-3) -> None:
    """Autograd gradients; Adam (torch's formulas) applied only to the rows present in the batch."""
    state = {name: (torch.zeros_like(p), torch.zeros_like(p)) for name, p in model.named_parameters()}
    u, i, t = (torch.as_tensor(a) for a in (users, items, targets))
    for step, lo in enumerate(range(0, len(users), batch_size), start=1):
        model.zero_grad()
        bu, bi = u[lo : lo + batch_size], i[lo : lo + batch_size]
        logits = model(bu, bi)
        torch.nn.functional.binary_cross_entropy_with_logits(logits, t[lo : lo + batch_size]).backward()
        with torch.no_grad():
            for name, p in model.named_parameters():
                rows = torch.unique(bu if name.startswith("user") else bi)
                m, v = state[name]
                g = p.grad[rows]
                m[rows] = m[rows].lerp(g, 1 - BETA1)
                v[rows] = v[rows] * BETA2 + (1 - BETA2) * g * g
                denom = v[rows].sqrt() / math.sqrt(1 - BETA2**step) + EPS
                p[rows] -= lr / (1 - BETA1**step) * m[rows] / denom


def full_grid(n_users: int, n_items: int, steps: int, seed: int = 0):
    """Every (user, item) pair in every batch, plus repeats, so every row is touched each step."""
    uu, ii = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
    users = np.concatenate([uu.ravel(), [0, 1, 0]]).astype(np.int64)
    items = np.concatenate([ii.ravel(), [2, 2, 2]]).astype(np.int64)
    targets = np.random.default_rng(seed).random(len(users)).astype(np.float32)
    return np.tile(users, steps), np.tile(items, steps), np.tile(targets, steps), len(users)


@pytest.mark.parametrize("cls", STEPPERS)
def test_full_batch_steps_equal_torch_adam(cls) -> None:
    users, items, targets, batch = full_grid(3, 4, steps=60)
    ours = NCF(3, 4, embedding_dim=13, seed=3)
    reference = copy.deepcopy(ours)
    start = params(ours)
    run_stepper(cls, ours, users, items, targets, batch)
    torch_adam_reference(reference, users, items, targets, batch)
    assert max_diff(start, reference) > 0.05  # the parameters really moved
    assert max_diff(ours, reference) < 1e-6


@pytest.mark.parametrize("cls", STEPPERS)
def test_repeated_rows_accumulate_and_untouched_rows_stay_put(cls) -> None:
    rng = np.random.default_rng(5)
    n_users, n_items, batch = 6, 9, 16
    # Skewed draws: the same users and items recur within a batch; some rows are missed.
    users = rng.choice(n_users, size=20 * batch, p=[0.5, 0.2, 0.1, 0.1, 0.1, 0.0])
    items = rng.choice(n_items, size=20 * batch, p=[0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.0, 0.0])
    targets = rng.integers(0, 5, size=20 * batch).astype(np.float32) / 4
    ours = NCF(n_users, n_items, embedding_dim=10, seed=1)
    reference = copy.deepcopy(ours)
    start = params(ours)
    run_stepper(cls, ours, users, items, targets, batch, lr=1e-2)
    lazy_adam_reference(reference, users, items, targets, batch, lr=1e-2)
    assert max_diff(ours, reference) < 1e-6
    # User 5 and items 7, 8 never appear: lazy Adam leaves them exactly as initialised.
    assert torch.equal(ours.user_embedding.weight[5], start[0][5])
    assert torch.equal(ours.item_embedding.weight[7:], start[1][7:])


def test_numba_and_torch_steppers_agree_with_weights_and_a_short_last_batch() -> None:
    rng = np.random.default_rng(2)
    n = 1000
    users, items = rng.integers(0, 40, n), rng.integers(0, 30, n)
    targets = rng.random(n).astype(np.float32)
    weights = rng.choice([1.0, 0.25], size=n).astype(np.float32)
    a = NCF(40, 30, embedding_dim=12, seed=4)
    b = copy.deepcopy(a)
    losses = []
    for cls, model in ((NumbaStepper, a), (TorchStepper, b)):
        stepper = cls(model, 64, 5e-3)
        losses.append(stepper.run(users, items, targets, weights, 0, 16))  # 15 full + 1 of 40
        stepper.sync_to_model()
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    assert max_diff(a, b) < 1e-5


def test_thread_count_does_not_change_the_result() -> None:
    rng = np.random.default_rng(3)
    n = 4096
    users, items = rng.integers(0, 300, n), rng.integers(0, 50, n)
    targets = rng.random(n).astype(np.float32)
    one, two = NCF(300, 50, 32, seed=0), NCF(300, 50, 32, seed=0)
    run_stepper(NumbaStepper, one, users, items, targets, 256, threads=1)
    run_stepper(NumbaStepper, two, users, items, targets, 256, threads=2)
    for x, y in zip(one.parameters(), two.parameters(), strict=True):
        assert torch.equal(x, y)


def test_thread_chooser_keeps_the_faster_option_and_backs_off() -> None:
    chooser = _ThreadChooser(most=2)
    chooser.options = [1, 2]  # as on a machine with two cores or more
    trials = []
    for call in range(1, 300):
        best, trial = chooser.best(), chooser.due()
        if trial is not None:
            trials.append(call)
            chooser.record(trial, 10.0 if trial == 2 else 100.0, trial=True)
        chooser.record(best, 100.0 if best == 1 else 10.0, trial=False)
        assert best == 1  # two threads are measured slower: never the main choice
    gaps = np.diff(trials)
    assert trials[0] == 2 and list(gaps[:4]) == [16, 32, 64, 128]  # each lost trial doubles the wait
    assert _ThreadChooser(most=8, fixed=1).options == [1]


# ---------------------------------------------------------------------------------------------
# train_model
# ---------------------------------------------------------------------------------------------


def synthetic(n_users=200, n_items=120, per_user=30, seed=0, dim=4):
    """Ratings 1-5 from a hidden low-rank model plus user/item offsets; one validation pair per user."""
    rng = np.random.default_rng(seed)
    pu, qi = rng.normal(size=(n_users, dim)), rng.normal(size=(n_items, dim))
    bu, bi = rng.normal(size=n_users), rng.normal(size=n_items)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    raw = (pu[users] * qi[items]).sum(1) / np.sqrt(dim) + bu[users] + bi[items]
    ratings = np.clip(np.round(3 + 1.2 * raw), 1, 5)
    val = np.arange(n_users) * per_user  # first pair of each user
    train = np.setdiff1d(np.arange(len(users)), val)
    return TrainingData.from_ratings(
        users[train], items[train], ratings[train], users[val], items[val], ratings[val], 1.0, 5.0
    )


def config(**overrides) -> TrainConfig:
    base = {"embedding_dim": 16, "batch_size": 128, "epochs": 4, "learning_rate": 1e-2, "multipliers": {}}
    base.update(overrides)
    return TrainConfig.preset("notebook", **base)


@pytest.fixture(scope="module")
def data() -> TrainingData:
    return synthetic()


def test_model_learns_the_synthetic_ratings(data: TrainingData) -> None:
    model = NCF(200, 120, 16, seed=0)
    result = train_model(model, data, config(epochs=8))
    assert result.history[-1].train_loss < result.history[0].train_loss
    scores = model.score_pairs(torch.as_tensor(data.val_users), torch.as_tensor(data.val_items)).numpy()
    auc = roc_auc_score(data.val_ratings >= 4, scores)
    assert auc > 0.8
    assert result.history[result.best_epoch - 1].val_auc == pytest.approx(auc)
    assert not result.stopped_early and result.message == ""


def test_train_model_equals_torch_adam_on_full_batches() -> None:
    users, items, targets, batch = full_grid(3, 4, steps=1)
    data = TrainingData(users, items, targets, users, items, 1 + 4 * targets.astype(np.float64), 1.0, 5.0)
    ours = NCF(3, 4, embedding_dim=7, seed=0)
    reference = copy.deepcopy(ours)
    # One full batch per epoch: the shuffle does not change the step, and the validation set
    # (the training pairs) improves every epoch, so the last epoch is the one kept.
    result = train_model(ours, data, config(batch_size=batch, epochs=5, learning_rate=1e-2))
    assert result.best_epoch == 5
    torch_adam_reference(reference, *full_grid(3, 4, steps=5)[:3], batch, lr=1e-2)
    assert max_diff(ours, reference) < 1e-6


def test_same_seed_same_parameters(data: TrainingData) -> None:
    runs = []
    for seed in (7, 7, 8):
        model = NCF(200, 120, 16, seed=0)
        train_model(model, data, config(seed=seed, epochs=2))
        runs.append(params(model))
    assert all(torch.equal(x, y) for x, y in zip(runs[0], runs[1], strict=True))
    assert max_diff(runs[0], runs[2]) > 1e-4  # another seed visits batches in another order


def test_callbacks_report_every_epoch_and_progress(data: TrainingData) -> None:
    epochs: list[EpochReport] = []
    progress: list[tuple[int, int, int]] = []
    model = NCF(200, 120, 16, seed=0)
    result = train_model(
        model, data, config(epochs=3, batch_size=32), on_epoch=epochs.append,
        on_progress=lambda *a: progress.append(a),
    )  # fmt: skip
    total = -(-len(data.users) // 32)
    assert [r.epoch for r in epochs] == [1, 2, 3] and result.history == epochs
    for report in epochs:
        for name in ("train_loss", "val_loss", "val_precision", "val_recall", "val_auc", "seconds"):
            assert math.isfinite(getattr(report, name)), name
        assert 0 <= report.val_precision <= 1 and 0 <= report.val_recall <= 1 and 0 < report.val_auc < 1
        assert report.samples_per_second > 0
    for epoch in (1, 2, 3):
        done = [d for e, d, t in progress if e == epoch]
        assert done == sorted(done) and done[-1] == total
        assert all(t == total for e, d, t in progress if e == epoch)
    # Throttled: far fewer reports than batches.
    assert len(progress) < 3 * total / 4


def test_best_epoch_is_restored(data: TrainingData) -> None:
    # Validation targets opposite to training: validation loss rises after the first epoch.
    flipped = copy.copy(data)
    flipped.val_ratings = 6.0 - data.val_ratings
    flipped.targets = data.targets.copy()
    model = NCF(200, 120, 16, seed=0)
    result = train_model(model, flipped, config(epochs=4, learning_rate=3e-2))
    losses = [r.val_loss for r in result.history]
    assert result.best_epoch == int(np.argmin(losses)) + 1 < 4
    again = NCF(200, 120, 16, seed=0)
    train_model(again, flipped, config(epochs=result.best_epoch, learning_rate=3e-2))
    assert max_diff(model, again) == 0.0


def test_stop_returns_the_best_model_so_far(data: TrainingData) -> None:
    seen: list[EpochReport] = []
    model = NCF(200, 120, 16, seed=0)
    result = train_model(
        model, data, config(epochs=10), on_epoch=seen.append, should_stop=lambda: len(seen) >= 2
    )
    assert result.stopped_early and len(result.history) == 2
    assert "Stopped during epoch 3" in result.message and "Kept epoch" in result.message
    again = NCF(200, 120, 16, seed=0)
    train_model(again, data, config(epochs=result.best_epoch))
    assert max_diff(model, again) == 0.0


def test_stop_before_any_epoch_keeps_the_initial_model(data: TrainingData) -> None:
    model = NCF(200, 120, 16, seed=0)
    start = params(model)
    result = train_model(model, data, config(), should_stop=lambda: True)
    assert result.stopped_early and result.best_epoch == 0 and result.history == []
    assert "initial parameters" in result.message
    assert max_diff(model, start) == 0.0


def test_divergence_stops_with_a_message_and_a_finite_model(data: TrainingData) -> None:
    model = NCF(200, 120, 16, seed=0)
    start = params(model)
    result = train_model(model, data, config(learning_rate=1e30, batch_size=16))
    assert result.stopped_early and "diverged" in result.message and "learning rate" in result.message
    assert result.best_epoch == 0 and max_diff(model, start) == 0.0
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_bad_data_is_rejected_with_a_reason(data: TrainingData) -> None:
    model = NCF(200, 120, 16, seed=0)
    poisoned = copy.copy(data)
    poisoned.targets = data.targets.copy()
    poisoned.targets[5] = np.nan
    with pytest.raises(RecsysError, match=r"not in \[0, 1\].*row 5"):
        train_model(model, poisoned, config())
    unknown = copy.copy(data)
    unknown.val_items = data.val_items.copy()
    unknown.val_items[3] = -1
    with pytest.raises(RecsysError, match=r"validation item codes.*row 3"):
        train_model(model, unknown, config())
    empty = TrainingData.from_ratings([], [], [], [], [], [], 1.0, 5.0)
    with pytest.raises(RecsysError, match="empty"):
        train_model(model, empty, config())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without a GPU")
def test_cuda_without_a_gpu_is_explained(data: TrainingData) -> None:
    with pytest.raises(RecsysError, match="no CUDA device"):
        train_model(NCF(200, 120, 16, seed=0), data, config(device="cuda"))


# ---------------------------------------------------------------------------------------------
# objectives
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("objective", ["ranking", "hybrid"])
def test_negative_samples_are_unrated_and_resampled(data: TrainingData, objective: str) -> None:
    cfg = config(objective=objective, negatives=3)
    sampler = NegativeSampler(data, 120)
    rng = np.random.default_rng(0)
    first, second = epoch_samples(data, cfg, rng, sampler), epoch_samples(data, cfg, rng, sampler)
    n = len(data.users)
    assert len(first.users) == 4 * n
    negative = first.targets == 0 if objective == "ranking" else first.weights == HYBRID_NEGATIVE_WEIGHT
    rated = set(zip(data.users.tolist(), data.items.tolist(), strict=True))
    assert not any(
        pair in rated
        for pair in zip(first.users[negative].tolist(), first.items[negative].tolist(), strict=True)
    )
    if objective == "ranking":
        assert np.count_nonzero(first.targets == 1) == n and len(first.weights) == 0
    else:
        assert np.all(first.targets[negative] == 0)
        assert np.allclose(np.sort(first.targets[first.weights == 1]), np.sort(data.targets))
    assert np.count_nonzero(negative) == 3 * n
    assert not np.array_equal(np.sort(first.items[negative]), np.sort(second.items[negative]))


def implicit(n_users=200, n_items=120, per_user=20, seed=1, dim=4) -> TrainingData:
    """Users pick the products they rate by affinity (a hidden low-rank model); ratings are noise."""
    rng = np.random.default_rng(seed)
    pu, qi = rng.normal(size=(n_users, dim)), rng.normal(size=(n_items, dim))
    affinity = 1.5 * pu @ qi.T
    chosen = [rng.choice(n_items, per_user, replace=False, p=np.exp(a) / np.exp(a).sum()) for a in affinity]
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate(chosen)
    ratings = rng.integers(1, 6, len(users)).astype(np.float64)
    val = np.arange(n_users) * per_user
    train = np.setdiff1d(np.arange(len(users)), val)
    return TrainingData.from_ratings(
        users[train], items[train], ratings[train], users[val], items[val], ratings[val], 1.0, 5.0
    )


@pytest.mark.parametrize("objective", ["ranking", "hybrid"])
def test_ranking_objectives_rank_rated_above_unrated(objective: str) -> None:
    data = implicit()

    def rated_vs_unrated_auc(model: NCF) -> float:
        rng = np.random.default_rng(9)
        sampler = NegativeSampler(data, 120)
        users, items = sampler.sample(data.val_users, 5, rng)
        rated = model.score_pairs(torch.as_tensor(data.val_users), torch.as_tensor(data.val_items)).numpy()
        unrated = model.score_pairs(torch.as_tensor(users), torch.as_tensor(items)).numpy()
        return roc_auc_score(np.r_[np.ones(len(rated)), np.zeros(len(unrated))], np.r_[rated, unrated])

    aucs = {}
    for name in ("rating", objective):
        model = NCF(200, 120, 16, seed=0)
        train_model(model, data, config(objective=name, negatives=2, epochs=6))
        aucs[name] = rated_vs_unrated_auc(model)
    # Ratings alone say nothing about which products a user picks; sampled negatives do.
    assert aucs[objective] > 0.75 > aucs["rating"]
