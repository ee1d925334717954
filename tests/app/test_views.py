"""The app's view helpers (recsys_core.app.views), its background job and the small seams it uses.

Plain data in, plain data out: no Streamlit, no training (the split in one test is the real one).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from recsys_core.app import Job, views
from recsys_core.data import IdMap, split_ratings, train_class_counts
from recsys_core.runs import RunRecord
from recsys_core.settings import RUNS_DIR_ENV, runs_dir
from recsys_core.training import EpochReport


def test_text_helpers() -> None:
    assert views.percent(0.8612) == "86 %"
    assert views.percent(0.8612, 1) == "86.1 %"
    assert views.percent(None) == "n/a" and views.percent(float("nan")) == "n/a"
    assert views.stars(4.0) == "4★" and views.stars(3.5) == "3.5★"
    assert views.multipliers_text({2: 3, 1: 2.5, 5: 1}) == "1★ ×2.5, 2★ ×3"
    assert views.multipliers_text({5: 1.0}) == "none (every class untouched)"


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user": ["a", "a", "b", "c"],
            "item": ["x", "y", "x", "x"],
            "rating": [5.0, 4.0, 5.0, 1.0],
            "timestamp": pd.to_datetime(["2020-01-01", "2021-06-01", "2022-01-01", "2020-03-01"]),
        }
    )


def test_dataset_overview_and_rating_distribution() -> None:
    info = views.dataset_overview(_frame())
    assert (info["rows"], info["users"], info["items"]) == (4, 3, 2)
    assert info["sparsity"] == pytest.approx(1 - 4 / 6)
    assert info["ratings_per_user"] == pytest.approx(4 / 3)
    assert info["time_min"] == pd.Timestamp("2020-01-01") and info["time_max"] == pd.Timestamp("2022-01-01")
    no_time = views.dataset_overview(_frame().drop(columns="timestamp"))
    assert no_time["time_min"] is None and no_time["time_max"] is None

    dist = views.rating_distribution(_frame())
    assert dist["label"].tolist() == ["1★", "4★", "5★"]
    assert dist["count"].tolist() == [1, 1, 2]
    assert dist["share"].sum() == pytest.approx(1.0)


def test_confusion_and_threshold_frames() -> None:
    cells = views.confusion_frame({"tp": 6, "fp": 2, "fn": 1, "tn": 1}, positive_rating=4.0)
    assert cells["count"].tolist() == [6, 1, 2, 1]
    assert cells["actual"].iloc[0] == "liked it (4★ or more)"
    assert cells["text"].iloc[0] == "6 (60 %)"
    curve = pd.DataFrame({"threshold": [0.2, 0.8], "precision": [0.5, np.nan], "recall": [0.9, 0.1]})
    long = views.threshold_chart_data(curve)
    assert len(long) == 3 and set(long["measure"]) == {"precision", "recall"}


def test_history_frames_take_reports_and_dicts() -> None:
    report = EpochReport(1, 0.6, 0.7, 0.8, 0.5, 0.65, 2.0, 1000.0)
    saved = {"epoch": 2, "train_loss": 0.5, "val_loss": 0.6, "val_auc": 0.7}
    frame = views.history_frame([report, saved])
    assert frame["epoch"].tolist() == [1.0, 2.0]
    assert np.isnan(frame.loc[1, "val_precision"])  # missing in the dict: NaN, not an error
    curves = views.learning_curve_data([report, saved], "hybrid")
    assert set(curves["curve"]) == {"train_loss", "val_loss", "val_auc"} and len(curves) == 6
    assert curves[curves["chosen"]]["epoch"].unique().tolist() == [2.0]  # the lower validation loss


def _record(run_id: str, precision: float | None) -> RunRecord:
    metrics = {} if precision is None else {"precision": precision, "recall": 0.5, "roc_auc": 0.6}
    return RunRecord(
        run_id,
        f"run {run_id}",
        "2024-05-01T10:30:00+00:00",
        {"epochs": 3, "multipliers": {"1": 2.5}},
        metrics,
        {"best_epoch": 2},
        Path(run_id),
    )


def test_runs_table_and_compare_chart_data() -> None:
    table = views.runs_table([_record("r1", 0.8), _record("r2", None)])
    first = table.iloc[0]
    assert first["run"] == "run r1" and first["oversampling"] == "1★ ×2.5"
    assert first["created"] == pd.Timestamp("2024-05-01 10:30:00")
    assert first["epochs"] == 3 and first["best epoch"] == 2
    long = views.compare_chart_data(table)
    # Undefined figures (the second run's, and hit rates without ranking) are left out.
    assert set(long["id"]) == {"r1"} and set(long["measure"]) == {"precision", "recall", "AUC"}


def _run() -> SimpleNamespace:
    """The parts of a Run that the customer helpers read."""
    train = pd.DataFrame({"user": ["a", "a", "b"], "item": ["x", "y", "z"], "rating": [5.0, 4.0, 3.0]})
    id_map = IdMap.fit(train)
    users, items = id_map.encode(pd.DataFrame({"user": ["a", "a", "b", "a"], "item": ["x", "y", "z", "z"]}))
    return SimpleNamespace(
        id_map=id_map,
        n_users=id_map.n_users,
        seen_users=users[:3],
        seen_items=items[:3],
        test_users=users[3:],
        test_items=items[3:],
        test_ratings=np.array([2.0]),
        product_columns=lambda: None,  # no product table
    )


def test_run_user_counts_and_user_history() -> None:
    run = _run()
    counts = views.run_user_counts(run)
    assert counts.to_dict() == {"a": 3, "b": 1}
    dataset = pd.DataFrame(
        {
            "user": ["a", "a", "a", "b"],
            "item": ["x", "y", "z", "z"],
            "rating": [5.0, 4.0, 2.0, 3.0],
            "timestamp": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01", "2020-01-01"]),
        }
    )
    history = views.user_history(run, "a", dataset)
    assert history.columns[:2].tolist() == ["item", "rating"]
    assert history["item"].tolist() == ["z", "y", "x"]  # newest first
    assert history["held back"].tolist() == [True, False, False]
    assert history["rating"].tolist() == [2.0, 4.0, 5.0]  # the stars of seen pairs come from the data
    assert views.user_history(run, "nobody").empty


def test_train_class_counts_match_the_split() -> None:
    frame = pd.DataFrame(
        {
            "user": [f"u{i % 10}" for i in range(120)],
            "item": [f"p{(i * 7) % 12}" for i in range(120)],
            "rating": [float(1 + i % 5) for i in range(120)],
        }
    )
    counts = train_class_counts(frame, "random", 3)
    train = split_ratings(frame, method="random", seed=3).train
    assert counts == {float(r): int(c) for r, c in train["rating"].value_counts().items()}
    assert list(counts) == sorted(counts)


def test_runs_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RUNS_DIR_ENV, raising=False)
    assert runs_dir() == Path("runs")
    monkeypatch.setenv(RUNS_DIR_ENV, "/tmp/elsewhere")
    assert runs_dir() == Path("/tmp/elsewhere")


def test_a_job_runs_any_work_with_the_trainer_hooks() -> None:
    def work(job: Job[int]) -> int:
        for epoch in (1, 2):
            job.on_progress(epoch, 1, 1)
            job.on_epoch(EpochReport(epoch, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0))
        return 42

    job = Job(work=work).start()
    job.join(5)
    assert job.status == "done" and job.result == 42
    assert [r.epoch for r in job.history] == [1, 2] and job.progress == (2, 1, 1)
    idle = Job[int]().start(background=False)
    assert idle.status == "failed" and idle.error == "This job has nothing to do."
