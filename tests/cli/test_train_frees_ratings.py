"""``recsys train`` lets go of the loaded ratings frame before the model trains."""

from __future__ import annotations

import gc
import re
import weakref
from pathlib import Path

from conftest import CliRunner

import recsys_core.pipeline as pipeline
from recsys_core.data import write_demo_csv


def test_the_ratings_frame_is_freed_before_training(tmp_path: Path, run_cli: CliRunner, monkeypatch) -> None:
    seen: dict[str, object] = {}
    prepare, train = pipeline.prepare_run, pipeline.train_prepared

    def watched_prepare(ratings, *args, **kwargs):
        seen["frame"] = weakref.ref(ratings.frame)
        return prepare(ratings, *args, **kwargs)

    def watched_train(job, **kwargs):
        gc.collect()
        seen["alive while training"] = seen["frame"]() is not None
        return train(job, **kwargs)

    monkeypatch.setattr(pipeline, "prepare_run", watched_prepare)
    monkeypatch.setattr(pipeline, "train_prepared", watched_train)
    data = tmp_path / "shop.csv"
    write_demo_csv(data, n_users=200, n_items=80, n_ratings=3000, seed=4)
    code, out, err = run_cli(
        "train", str(data), "--out", str(tmp_path / "run"), "--epochs", "1", "--dim", "8", "--quiet"
    )
    assert code == 0, err
    assert seen["alive while training"] is False
    assert "saved the run" in out
    # The memory and time check before training (counting the distinct ids) is a stage of its own.
    assert re.search(r"stages: load [\d.]+ s, check [\d.]+ s, split [\d.]+ s", out)
