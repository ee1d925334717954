"""int32 codes end to end (issue 16's memory work): what the trainer hands the kernel, and the
same numbers as int64 codes bit for bit."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import recsys_core.training._optim as optim
from recsys_core.config import TrainConfig
from recsys_core.data import TrainingData, as_codes
from recsys_core.model import NCF
from recsys_core.training import (
    NegativeSampler,
    NumbaStepper,
    TorchStepper,
    epoch_samples,
    fit_rating_head,
    train_model,
)


def _data(codes: type = np.int32, n: int = 3000, seed: int = 0) -> TrainingData:
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 60, n).astype(codes)
    items = rng.integers(0, 40, n).astype(codes)
    ratings = rng.integers(1, 6, n).astype(np.float64)
    scaled = ((ratings - 1) / 4).astype(np.float32)
    return TrainingData(users, items, scaled, users[:200], items[:200], ratings[:200], 1.0, 5.0)


def test_as_codes_is_int32_where_it_fits_and_int64_above() -> None:
    assert as_codes(np.array([0, 5, 2**31 - 1], np.int64)).dtype == np.int32
    assert as_codes([1, 2]).dtype == np.int32
    assert as_codes(np.array([0, 2**31], np.int64)).dtype == np.int64
    assert as_codes(np.zeros(0, np.int64)).dtype == np.int32
    kept = np.arange(5, dtype=np.int32)
    assert as_codes(kept) is kept
    data = TrainingData.from_ratings(np.arange(4), np.arange(4), np.ones(4), [0], [1], [5.0])
    assert data.users.dtype == data.items.dtype == data.val_users.dtype == np.int32


def test_as_codes_without_narrowing_keeps_int64_and_is_always_flat() -> None:
    wide = np.arange(5, dtype=np.int64)
    assert as_codes(wide, narrow=False) is wide  # scoring pairs copies nothing
    assert as_codes(np.array([1.0, 2.0]), narrow=False).dtype == np.int64
    strided = as_codes(np.arange(10, dtype=np.int64)[::2], narrow=False)
    assert strided.flags.c_contiguous and strided.tolist() == [0, 2, 4, 6, 8]
    assert as_codes(np.array([[1, 2], [3, 4]], np.int64)).tolist() == [1, 2, 3, 4]
    assert as_codes(np.array([[1, 2], [3, 4]], np.int32), narrow=False).shape == (4,)


def test_a_saved_run_keeps_its_pairs_as_int32_codes(tmp_path) -> None:
    from model_runs import model_run

    from recsys_core.runs import save_run

    model = NCF(3, 4, 2, seed=0)
    run = model_run(model, ["a", "b", "c"], ["p", "q", "r", "s"], np.array([0, 1, 2]), np.array([3, 2, 1]))
    save_run(run, tmp_path / "run")
    with np.load(tmp_path / "run" / "pairs.npz") as pairs:
        for key in ("seen_users", "seen_items", "test_users", "test_items"):
            assert pairs[key].dtype == np.int32, key
        assert pairs["seen_items"].tolist() == [3, 2, 1]


def test_the_trainer_hands_the_kernel_int32_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[np.dtype, np.dtype]] = []
    kernel = optim.run_batches

    def spy(users, items, *rest):
        seen.append((users.dtype, items.dtype))
        return kernel(users, items, *rest)

    monkeypatch.setattr(optim, "run_batches", spy)
    wide = _data(np.int64)  # int64 codes in: the trainer narrows them
    data = TrainingData(
        wide.users, wide.items, wide.targets, wide.val_users, wide.val_items, wide.val_ratings, 1.0, 5.0
    )
    config = TrainConfig.preset("fast", epochs=1, device="cpu")
    train_model(NCF(60, 40, 8, seed=0), data, config)
    assert seen and all(dtypes == (np.int32, np.int32) for dtypes in seen)


@pytest.mark.parametrize("cls", [NumbaStepper, TorchStepper])
def test_int32_and_int64_codes_train_the_same_bits(cls: type) -> None:
    data = _data(np.int64)
    rng = np.random.default_rng(3)
    weights = rng.choice(np.array([1.0, 2.0], np.float32), len(data.users))
    models = []
    for codes in (np.int64, np.int32):
        model = NCF(60, 40, 8, seed=1)
        stepper = cls(model, 64, 1e-2)
        batches = -(-len(data.users) // 64)
        stepper.run(data.users.astype(codes), data.items.astype(codes), data.targets, weights, 0, batches)
        stepper.sync_to_model()
        models.append(model)
    for a, b in zip(models[0].state_dict().values(), models[1].state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_epoch_samples_equal_concatenating_and_permuting() -> None:
    """The slice-wise gather gives what the concatenation + ``rng.permutation`` gave."""
    config = TrainConfig.preset("fast", negatives=3)
    data32, data64 = _data(np.int32), _data(np.int64)
    got = epoch_samples(data32, config, np.random.default_rng(7), NegativeSampler(data32, 40))
    assert got.users.dtype == got.items.dtype == np.int32

    rng = np.random.default_rng(7)
    neg_users, neg_items = NegativeSampler(data64, 40).sample(data64.users, 3, rng)
    order = rng.permutation(len(data64.users) + len(neg_users))
    observed = order < len(data64.users)
    np.testing.assert_array_equal(got.users, np.concatenate([data64.users, neg_users])[order])
    np.testing.assert_array_equal(got.items, np.concatenate([data64.items, neg_items])[order])
    targets = np.concatenate([data64.targets, np.zeros(len(neg_users), np.float32)])[order]
    np.testing.assert_array_equal(got.targets, targets)
    np.testing.assert_array_equal(got.weights, np.where(observed, 1, 2).astype(np.float32))


def test_rating_head_and_scores_are_the_same_for_int32_codes() -> None:
    data = _data(np.int64)
    model = NCF(60, 40, 8, seed=2)
    twin = copy.deepcopy(model)
    fit_rating_head(model, data.users, data.items, data.targets)
    fit_rating_head(twin, data.users.astype(np.int32), data.items.astype(np.int32), data.targets)
    for a, b in zip(model.state_dict().values(), twin.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    for kind in ("logits", "rating_logits", "dots"):
        wide = model.score_pairs_chunked(data.users, data.items, kind)
        narrow = model.score_pairs_chunked(data.users.astype(np.int32), data.items.astype(np.int32), kind)
        np.testing.assert_array_equal(wide, narrow)
