"""The ladder fitted in the background: while a model trains, and for data before any training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recsys_core.app import TrainingJob, warm_ladder
from recsys_core.baselines import LADDERS_DIR, LadderSplit, cache_path, fit_split_ladder, split_fingerprint
from recsys_core.config import TrainConfig
from recsys_core.data import DemoData, Ratings, generate_demo
from recsys_core.metrics import RANKING_MAX_USERS
from recsys_core.runs import shared_ladders

FIT = "recsys_core.baselines._ladder.fit_split_ladder"


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo(n_users=250, n_items=100, n_ratings=3500, seed=11)


def _count_fits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def spy(split: LadderSplit, **kwargs: Any) -> dict[str, dict[str, Any]]:
        calls.append(split_fingerprint(split, kwargs["k"], kwargs["max_users"]))
        return fit_split_ladder(split, **kwargs)

    monkeypatch.setattr(FIT, spy)
    return calls


def test_a_training_job_fits_its_splits_ladder_in_the_background(
    demo: DemoData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits = _count_fits(monkeypatch)
    ratings = Ratings.from_frame(demo.ratings, source="demo")
    config = TrainConfig.preset("fast", epochs=1)
    job = TrainingJob(ratings, config, products=demo.products, directory=tmp_path)
    job.start(background=False)
    assert job.status == "done", job.error
    assert job.ladder_thread is not None
    job.ladder_thread.join(120)
    run = job.run
    assert run is not None and job.run_path is not None
    fingerprint = split_fingerprint(LadderSplit.of_run(run), 10, RANKING_MAX_USERS)
    assert fits == [fingerprint]
    assert cache_path(tmp_path / LADDERS_DIR, fingerprint).is_file()
    # The results page (and evaluate) then read it: no second fit.
    run.path = job.run_path
    assert shared_ladders(job.run_path) == tmp_path / LADDERS_DIR
    assert set(run.evaluate()["ranking"]["baselines"]) == {"most_popular", "item_knn", "ease", "ials"}
    assert fits == [fingerprint]


def test_a_stand_in_trainer_or_ladder_off_starts_no_background_fit(tmp_path: Path) -> None:
    job = TrainingJob(None, None, directory=tmp_path, ladder=False)  # type: ignore[arg-type]
    assert job.ladder_thread is None and not job.ladder


def test_warm_ladder_fits_the_default_split_once_per_server(
    demo: DemoData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fits = _count_fits(monkeypatch)
    ratings = Ratings.from_frame(demo.ratings, source="demo")
    config = TrainConfig()
    thread = warm_ladder(ratings, demo.products, config, tmp_path, key="warm-test")
    assert thread is not None
    thread.join(120)
    assert len(fits) == 1 and cache_path(tmp_path / LADDERS_DIR, fits[0]).is_file()
    assert warm_ladder(ratings, demo.products, config, tmp_path, key="warm-test") is None
    # A training of that data with the default split and seed then finds it: no second fit.
    job = TrainingJob(ratings, TrainConfig(epochs=1), products=demo.products, directory=tmp_path)
    job.start(background=False)
    assert job.status == "done", job.error
    assert job.ladder_thread is not None
    job.ladder_thread.join(120)
    assert len(fits) == 1
