"""Balance's sweep panel with class weights (AppTest): the recommended recipe weighs each rating
by its class's multiplier, so a sweep may go below 1; an oversampling recipe refuses that."""

from __future__ import annotations

from pathlib import Path

import pytest
from apptest import goto, open_app, upload
from streamlit.testing.v1 import AppTest

from recsys_core.runs import RunRegistry

TIMEOUT = 180
TINY = {"epochs": 1, "embedding_dim": 8, "batch_size": 256}


def _balance(small_csv: bytes, recipe: str | None = None) -> AppTest:
    """The app on the small upload, on Balance (after picking ``recipe`` on Train), tiny runs."""
    at = upload(open_app(timeout=TIMEOUT), "small.csv", small_csv)
    if recipe is not None:
        goto(at, "train")
        next(r for r in at.radio if r.label == "Recipe").set_value(recipe).run()
    goto(at, "balance")
    kept = at.session_state["kept"]
    kept.update(TINY)
    kept["sweep_seeds"] = 1  # one run per setting (the panel's default is 3 seeds)
    at.session_state["kept"] = kept
    at.session_state["sync_training"] = True  # sweep in the script thread: AppTest cannot poll
    return at


def _sweep(at: AppTest, multipliers: str) -> AppTest:
    next(t for t in at.text_input if t.label == "Its multipliers").set_value(multipliers).run()
    next(b for b in at.button if b.label == "Sweep this class").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow  # trains two small models through the page
def test_a_sweep_of_the_default_recipe_takes_weight_0(runs_dir: Path, small_csv: bytes) -> None:
    at = _sweep(_balance(small_csv), "0, 0.5")
    assert not at.error, [e.value for e in at.error]
    records = RunRegistry(runs_dir).list()
    assert sorted(r.config["multipliers"]["1"] for r in records) == [0.0, 0.5]
    assert all(r.config["objective"] == "softmax" for r in records)


def test_a_sweep_of_an_oversampling_recipe_refuses_below_1(runs_dir: Path, small_csv: bytes) -> None:
    at = _sweep(_balance(small_csv, "fast"), "1, 0.5")
    errors = [e.value.replace("\\", "") for e in at.error]  # shown escaped (layout.plain)
    assert any("Invalid multiplier 0.5 for 1★" in e and "only the recommended recipe" in e for e in errors), (
        errors
    )
    assert not RunRegistry(runs_dir).list()  # refused before any training
