"""The Train page's bar says how long the epoch still takes, at the pace measured in this epoch."""

from __future__ import annotations

import pytest

from recsys_core.app import _jobs
from recsys_core.app._jobs import Job, seconds_left


def test_seconds_left_at_the_measured_pace() -> None:
    assert seconds_left(10.0, 5, 15) == pytest.approx(30.0)
    assert seconds_left(0.0, 0, 3) is None and seconds_left(2.0, 0, 3) is None


def test_a_job_measures_each_epoch_from_its_first_report(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 108.0, 110.0, 111.0])
    monkeypatch.setattr(_jobs.time, "perf_counter", lambda: next(clock))
    job = Job()
    job.on_progress(1, 2, 10)  # t = 100: the epoch's first report
    job.on_progress(1, 6, 10)  # 4 more batches
    # Asked at t = 108: 4 batches in 8 s, 4 batches left.
    assert job.epoch_seconds_left == pytest.approx(8.0)
    job.on_progress(2, 1, 10)  # t = 110: a new epoch has no pace yet
    assert job.epoch_seconds_left is None
