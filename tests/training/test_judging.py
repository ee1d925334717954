"""Judging an epoch on the other core while the next trains gives the sequential trainer's run."""

from __future__ import annotations

import math
import threading
import time

import pytest
import torch

import recsys_core.training._judging as judging
from recsys_core.model import NCF, second_core
from recsys_core.training import train_softmax
from tests.training.test_softmax_trainer import config, picked

LIMIT = judging.BACKGROUND_MAX_BYTES
FIGURES = ("epoch", "train_loss", "val_loss", "val_precision", "val_recall", "val_auc")


def _train(monkeypatch: pytest.MonkeyPatch, background: bool, slow_judge: bool = False, **overrides):
    monkeypatch.setattr(judging, "BACKGROUND_MAX_BYTES", LIMIT if background else -1)
    monkeypatch.setattr(judging, "cpu_count", lambda: 2)  # a one-core machine would judge at once
    calls = []
    original = judging.EpochJudging.hand_in

    def hand_in(self, trained):
        calls.append(self.background)
        return original(self, trained)

    monkeypatch.setattr(judging.EpochJudging, "hand_in", hand_in)
    if slow_judge:  # judgements lag: the trainer runs two epochs ahead of the one recorded
        measure = judging.EpochJudging._measure

        def slow(self, shadow, previous):
            time.sleep(0.05)
            return measure(self, shadow, previous)

        monkeypatch.setattr(judging.EpochJudging, "_measure", slow)
    should_stop = overrides.pop("should_stop", None)
    reports = []
    result = train_softmax(
        NCF(300, 80, 8, seed=0),
        picked(),
        config(**overrides),
        on_epoch=reports.append,
        should_stop=should_stop,
    )
    assert calls and all(flag == background for flag in calls)
    return result, reports


def _same(a, b) -> None:
    assert a.best_epoch == b.best_epoch and a.stopped_early == b.stopped_early
    assert a.message == b.message
    rows = [[getattr(r, f) for f in FIGURES] for r in a.history]
    assert rows == [[getattr(r, f) for f in FIGURES] for r in b.history]
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("slow_judge", [False, True])
@pytest.mark.parametrize("overrides", [{"epochs": 12}, {"epochs": 3}, {"epochs": 12, "learning_rate": 0.2}])
def test_the_background_judge_gives_the_sequential_run_to_the_bit(monkeypatch, overrides, slow_judge) -> None:
    # Runs that end by patience or a clear drop (the epochs trained past them are dropped), by
    # the epoch limit, and with a large step that overfits at once; with judgements that keep
    # up and with judgements that lag two epochs behind.
    before, before_reports = _train(monkeypatch, False, **overrides)
    after, after_reports = _train(monkeypatch, True, slow_judge, **overrides)
    _same(before, after)
    assert [r.epoch for r in after_reports] == [r.epoch for r in before_reports]
    assert after.model.has_rating_head and math.isfinite(after.history[-1].val_auc)


@pytest.mark.parametrize("release_after", [None, 1, 3])
def test_judgements_the_busy_second_core_has_not_started_are_taken_over(monkeypatch, release_after) -> None:
    """The second core busy (as with the blend's similarity): the trainer runs the waiting
    judgements itself, in order, and the run is still the sequential one; once the core is
    free again (after ``release_after`` judgements) it takes its share back."""
    before, _ = _train(monkeypatch, False, epochs=12)
    gate = threading.Event()
    blocker = second_core().submit(gate.wait)
    on_trainer = []
    measure = judging.EpochJudging._measure

    def spy(self, shadow, previous):
        on_trainer.append(threading.current_thread() is threading.main_thread())
        if release_after is not None and len(on_trainer) >= release_after:
            gate.set()
        return measure(self, shadow, previous)

    monkeypatch.setattr(judging.EpochJudging, "_measure", spy)
    try:
        after, _ = _train(monkeypatch, True, epochs=12)
    finally:
        gate.set()
        blocker.result(timeout=60)
    _same(before, after)
    assert len(on_trainer) >= len(after.history) and on_trainer[0]
    if release_after is None:
        assert all(on_trainer)


def test_stop_during_an_epoch_keeps_the_epochs_judged_before_it(monkeypatch) -> None:
    def stopper(after: int):
        calls = iter(range(10**6))
        return lambda: next(calls) >= after

    # 300 users in batches of 128: 3 steps an epoch; stop in the third epoch.
    before, _ = _train(monkeypatch, False, epochs=12, should_stop=stopper(8))
    after, _ = _train(monkeypatch, True, epochs=12, should_stop=stopper(8))
    _same(before, after)
    assert after.stopped_early and "Stopped during epoch 3" in after.message
    assert [r.epoch for r in after.history] == [1, 2]


def test_the_judge_reads_a_copy_and_writes_only_its_rating_head() -> None:
    model = NCF(30, 20, 4, seed=1, rating_head=True)
    shadow = judging.shadow_of(model)
    with torch.no_grad():
        model.item_embedding.weight.add_(1.0)
        shadow.rating_scale.fill_(7.0)
    assert not torch.equal(shadow.item_embedding.weight, model.item_embedding.weight)
    judging.copy_tables(model, shadow)
    for name in judging.TABLES:
        assert torch.equal(getattr(shadow, name).weight, getattr(model, name).weight)
    assert float(shadow.rating_scale[0]) == 7.0  # the head's warm start stays the judge's
    assert float(model.rating_scale[0]) != 7.0


def test_only_small_cpu_models_are_judged_in_the_background(monkeypatch) -> None:
    small = NCF(100, 50, 8, seed=0)
    monkeypatch.setattr(judging, "cpu_count", lambda: 2)
    assert judging.judge_in_background(small)
    monkeypatch.setattr(judging, "BACKGROUND_MAX_BYTES", judging.model_bytes(small) - 1)
    assert not judging.judge_in_background(small)
    monkeypatch.setattr(judging, "BACKGROUND_MAX_BYTES", 1 << 40)
    monkeypatch.setattr(judging, "cpu_count", lambda: 1)
    assert not judging.judge_in_background(small)


def test_one_second_core_for_the_whole_process() -> None:
    lane = second_core()
    assert second_core() is lane
    # Its torch work runs on one thread, whatever the caller's setting.
    assert lane.submit(torch.get_num_threads).result() == 1
