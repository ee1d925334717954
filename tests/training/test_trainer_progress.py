"""Honest progress: every objective reports its batches within an epoch, so a bar moves while it
trains (the softmax trainer used to report once per epoch: "1 / 1 batches")."""

from __future__ import annotations

import pytest
from training_sets import random_data

from recsys_core.config import TrainConfig
from recsys_core.model import NCF
from recsys_core.training import _softmax, _trainer, trainer_for


@pytest.mark.parametrize("objective", ["rating", "ranking", "hybrid", "softmax"])
def test_every_objective_reports_each_batch_when_not_throttled(
    objective: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Throttling off: a report after every batch (or every one-batch kernel call).
    monkeypatch.setattr(_softmax, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(_trainer, "CHUNK_SECONDS", 1e-12)
    data = random_data(n_users=120, n_items=50, per_user=8)
    batch = 16 if objective == "softmax" else 64
    config = TrainConfig.preset("fast", objective=objective, epochs=2, batch_size=batch, negatives=2)
    reports: list[tuple[int, int, int]] = []
    model = NCF(120, 50, 8, seed=0)
    trainer_for(config)(model, data, config, on_progress=lambda *report: reports.append(report))
    for epoch in (1, 2):
        mine = [(done, total) for e, done, total in reports if e == epoch]
        total = mine[-1][1]
        assert total > 2 and all(t == total for _, t in mine)
        assert [done for done, _ in mine] == list(range(1, total + 1)), objective


def test_the_softmax_trainer_ends_each_epochs_reports_on_its_last_batch() -> None:
    data = random_data(n_users=120, n_items=50, per_user=8)
    config = TrainConfig.preset("recommended", epochs=2, batch_size=8)
    reports: list[tuple[int, int, int]] = []
    trainer_for(config)(NCF(120, 50, 8, seed=0), data, config, on_progress=lambda *r: reports.append(r))
    for epoch in (1, 2):
        mine = [(done, total) for e, done, total in reports if e == epoch]
        assert mine and mine[-1][0] == mine[-1][1] == -(-120 // 8)
        assert [done for done, _ in mine] == sorted({done for done, _ in mine})
