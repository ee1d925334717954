"""The best epoch's snapshot: in memory or in a temporary file, restored to the exact bytes."""

from __future__ import annotations

import pytest
import torch
from training_sets import random_data

from recsys_core.config import TrainConfig
from recsys_core.model import NCF
from recsys_core.training import train_softmax
from recsys_core.training._snapshot import Snapshot


def _equal(a: NCF, b: NCF) -> bool:
    x, y = a.state_dict(), b.state_dict()
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


@pytest.mark.parametrize("spill_bytes", [0, 1 << 40], ids=["on disk", "in memory"])
def test_restore_puts_back_the_last_copy_bit_for_bit(spill_bytes: int) -> None:
    model = NCF(50, 30, 4, seed=1, rating_head=True)
    snapshot = Snapshot(spill_bytes)
    snapshot.take(model)
    assert snapshot.on_disk == (spill_bytes == 0)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(1.0)
    kept = NCF(50, 30, 4, seed=1, rating_head=True)
    kept.load_state_dict(model.state_dict())
    snapshot.take(model)  # a newer best: replaces the first copy
    with torch.no_grad():
        for param in model.parameters():
            param.mul_(-3.0)
    assert not _equal(model, kept)
    snapshot.restore(model)
    assert _equal(model, kept)
    snapshot.close()
    assert not snapshot.taken and not snapshot.on_disk


def test_a_spilled_snapshot_refuses_a_model_of_another_shape() -> None:
    snapshot = Snapshot(0)
    snapshot.take(NCF(50, 30, 4, seed=1))
    with pytest.raises(RuntimeError, match="no longer match"):
        snapshot.restore(NCF(50, 31, 4, seed=1))


def test_softmax_keeps_the_best_epoch_exactly_when_its_copy_lies_on_disk(monkeypatch) -> None:
    # A high learning rate overfits: the last epoch is not the best, so the copy is read back.
    data = random_data(n_users=400, n_items=80, per_user=12)
    settings = TrainConfig.preset(
        "recommended", embedding_dim=8, epochs=12, learning_rate=0.1, device="cpu", seed=5
    )
    monkeypatch.setattr("recsys_core.training._snapshot.SPILL_BYTES", 0)
    spilled = train_softmax(NCF(400, 80, 8, seed=0), data, settings)
    assert spilled.best_epoch < len(spilled.history)
    monkeypatch.setattr("recsys_core.training._snapshot.SPILL_BYTES", 1 << 40)
    in_memory = train_softmax(NCF(400, 80, 8, seed=0), data, settings)
    assert _equal(spilled.model, in_memory.model)
    # ... and those are the parameters after the best epoch (a run that stops there).
    stopped = train_softmax(NCF(400, 80, 8, seed=0), data, settings.replace(epochs=spilled.best_epoch))
    assert _equal(spilled.model, stopped.model)
