"""The ladder's time budget (issue 23, item 4): EASE on 43,327 products ran for more than five
minutes with no progress. Each rung's time is estimated before it starts; what would not finish
in the budget is skipped, saying why, in evaluate --json, the CLI text and the app's caption."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import CliRunner

import recsys_core as rs
from recsys_core.app import views
from recsys_core.baselines import (
    EASE,
    RUNGS,
    LadderSplit,
    MostPopular,
    Rung,
    _cost,
    _ladder,
    estimate_seconds,
    fit_split_ladder,
    split_holdouts,
)
from recsys_core.config import TrainConfig
from recsys_core.data import demo_ratings
from recsys_core.errors import RecsysError
from recsys_core.runs import Run, save_run


@pytest.fixture(scope="module")
def run() -> Run:
    ratings = demo_ratings(n_users=300, n_items=120, n_ratings=4000, seed=5)
    return rs.train(ratings, TrainConfig.preset("fast", epochs=1))


@pytest.fixture
def slow_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine of 1,000 operations a second: every estimate is long, and the same each time."""
    monkeypatch.setattr(_cost, "machine_flops", lambda: 1e3)
    monkeypatch.setattr(_cost, "_MIN_FLOPS", 0.0)


def test_the_cost_of_ease_grows_with_the_cube_of_its_solve() -> None:
    def train(n_users: int, n_items: int) -> sp.csr_matrix:
        rng = np.random.default_rng(0)
        return sp.random(n_users, n_items, density=0.01, format="csr", random_state=rng)

    grid = [{"l2": 1.0}]
    narrow, wide = (
        estimate_seconds("ease", train(5000, 500), grid, 0, 0),
        estimate_seconds("ease", train(5000, 1000), grid, 0, 0),
    )
    assert 7 < wide / narrow < 9  # the item-side n³ solve dominates
    assert estimate_seconds("ease", train(200, 40_000), grid, 200, 0) > estimate_seconds(
        "ease", train(200, 20_000), grid, 200, 0
    )  # the user side: scoring a user over the catalogue


def test_what_would_not_finish_is_skipped_before_it_starts(run: Run, slow_machine, monkeypatch) -> None:
    def never(self, train):
        raise AssertionError("EASE was fitted although it could not finish in the budget")

    monkeypatch.setattr(EASE, "fit", never)
    labels: list[str] = []
    ladder = fit_split_ladder(LadderSplit.of_run(run), names=("ease",), time_budget=60, on_rung=labels.append)
    assert labels == ["EASE"]
    reason = ladder["ease"]["skipped"]
    assert "on this machine" in reason and "ladder's time budget" in reason and "would take about" in reason
    assert any(reason in sentence for sentence in views.skipped_sentences(ladder))  # the app's caption


def test_a_rung_that_runs_out_of_time_between_settings_is_stopped(run: Run, monkeypatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(_ladder.time, "perf_counter", lambda: clock[0])

    class Slow(MostPopular):
        def fit(self, train):
            clock[0] += 1000.0  # each setting "takes" 1,000 s
            return super().fit(train)

    monkeypatch.setitem(RUNGS, "most_popular", Rung("most popular", lambda p: Slow(), lambda t: [{}, {}]))
    ladder = fit_split_ladder(LadderSplit.of_run(run), names=("most_popular",), time_budget=500)
    assert ladder["most_popular"]["skipped"].startswith(
        "it was stopped when the ladder's time budget ran out"
    )
    assert (
        fit_split_ladder(LadderSplit.of_run(run), names=("most_popular",), time_budget=5000)["most_popular"][
            "hit_rate_at_k"
        ]
        is not None
    )
    with pytest.raises(RecsysError, match="time budget must be a positive number of seconds, not 0"):
        fit_split_ladder(LadderSplit.of_run(run), time_budget=0)


def test_cli_shows_the_reason_and_fits_the_rest(
    run: Run, slow_machine, tmp_path: Path, run_cli: CliRunner, monkeypatch
) -> None:
    """With the default budget (600 s) on a machine where most popular takes an estimated 300 s,
    the other rungs (4 to 6 settings each) are skipped, each saying why."""
    train, validation, test = split_holdouts(LadderSplit.of_run(run), 20_000, 0)
    seconds = estimate_seconds("most_popular", train, [{}], len(validation.users), len(test.users))
    monkeypatch.setattr(_cost, "machine_flops", lambda: 1e3 * seconds / 300)
    folder = save_run(run, tmp_path / "run")
    code, out, err = run_cli("evaluate", str(folder), "--json")
    assert code == 0, err
    baselines = json.loads(out)["ranking"]["baselines"]
    assert "skipped" not in baselines["most_popular"]
    for name in ("item_knn", "ease", "ials"):
        assert "ladder's time budget" in baselines[name]["skipped"], baselines[name]
    (folder / "baselines.json").unlink()
    code, out, _ = run_cli("evaluate", str(folder))
    assert code == 0 and "EASE skipped: it would take about" in out
