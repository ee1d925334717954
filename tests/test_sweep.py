"""Multiplier sweeps: one saved run per (setting, seed), counts that scale, Stop between runs."""

from __future__ import annotations

import json

import pytest
from whatif_runs import small_ratings

from recsys_core.config import NOTEBOOK_MULTIPLIERS, TrainConfig
from recsys_core.data import write_demo_csv
from recsys_core.errors import RecsysError
from recsys_core.runs import RunRegistry
from recsys_core.sweep import class_points, scale_multipliers, sweep_class, sweep_recipe

# A tiny, quick recipe: the sweep's bookkeeping is under test, not the model.
CONFIG = TrainConfig.preset("fast", epochs=1, embedding_dim=8)


def test_scale_multipliers() -> None:
    assert scale_multipliers({1: 2.5, 2: 3.0}, 0) == {1.0: 1.0, 2.0: 1.0}
    assert scale_multipliers({1: 2.5, 2: 3.0}, 0.5) == {1.0: 1.75, 2.0: 2.0}
    assert scale_multipliers({1: 2.5, 2: 3.0}, 2) == {1.0: 4.0, 2.0: 5.0}
    with pytest.raises(RecsysError, match="0 or more"):
        scale_multipliers({1: 2.5}, -1)


def test_class_points_keep_the_other_classes_and_vary_the_seed() -> None:
    config = TrainConfig.preset("notebook")
    points = class_points(config, 1, [1, 4], [5, 6])
    assert [(p.label["multiplier"], p.label["seed"]) for p in points] == [(1, 5), (1, 6), (4, 5), (4, 6)]
    assert points[2].config.multipliers == {**NOTEBOOK_MULTIPLIERS, 1.0: 4.0}
    assert points[3].config.seed == 6 and config.seed == 42  # the base config is untouched


def test_class_sweep_counts_scale_with_the_multiplier(tmp_path) -> None:
    ratings = small_ratings()
    registry = RunRegistry(tmp_path / "runs")
    seen = []
    records = sweep_class(ratings, CONFIG, 1, [1, 2, 2.5], [3], registry, on_run=seen.append)
    assert seen == records and len(records) == 3
    before = records[0]["train_counts"]
    for record in records:
        m = record["multiplier"]
        assert record["class"] == 1.0 and record["seed"] == 3
        assert record["train_counts"]["1"] == round(before["1"] * m)
        assert {k: v for k, v in record["train_counts"].items() if k != "1"} == {
            k: v for k, v in before.items() if k != "1"
        }
        assert {"precision", "recall", "roc_auc", "ranking"} <= set(record["metrics"])
    assert {r.run_id for r in registry.list()} == {r["run"] for r in records}


def test_stop_keeps_the_finished_runs(tmp_path) -> None:
    registry = RunRegistry(tmp_path / "runs")
    done = []
    records = sweep_recipe(
        small_ratings(),
        CONFIG,
        NOTEBOOK_MULTIPLIERS,
        [0, 1, 2],
        [1],
        registry,
        on_run=done.append,
        should_stop=lambda: bool(done),
    )
    assert len(records) == 1 and records[0]["scale"] == 0
    assert records[0]["multipliers"] == {"1": 1.0, "2": 1.0, "3": 1.0}
    assert [r.run_id for r in registry.list()] == [records[0]["run"]]


def test_an_absent_class_is_refused_before_training(tmp_path) -> None:
    with pytest.raises(RecsysError, match="Cannot sweep 7★"):
        sweep_class(small_ratings(), CONFIG, 7, [2], [1], RunRegistry(tmp_path / "runs"))


def test_cli_sweep_recipe_json(run_cli, tmp_path) -> None:
    data = tmp_path / "demo.csv"
    write_demo_csv(data, n_users=400, n_items=150, n_ratings=5000, seed=2)
    runs = tmp_path / "runs"
    code, out, err = run_cli(
        "sweep", str(data), "--recipe", "notebook", "--scale", "0,1", "--seeds", "2",
        "--preset", "fast", "--epochs", "1", "--dim", "8", "--runs-dir", str(runs), "--json",
    )  # fmt: skip
    assert code == 0, err
    records = json.loads(out)
    assert [(r["scale"], r["seed"]) for r in records] == [(0, 42), (0, 43), (1, 42), (1, 43)]
    base, scaled = records[0]["train_counts"], records[2]["train_counts"]
    for rating, factor in NOTEBOOK_MULTIPLIERS.items():
        assert scaled[f"{rating:g}"] == round(base[f"{rating:g}"] * factor)
    assert len(RunRegistry(runs).list()) == 4
    # Each record carries the hit rate on liked and on disliked held-out products.
    assert {"hit_rate_liked_at_k", "hit_rate_disliked_at_k"} <= set(records[0]["metrics"]["ranking"]["model"])
    from recsys_core.cli._main import build_parser

    assert (
        build_parser().parse_args(["sweep", str(data), "--runs-dir", str(runs)]).seeds == 3
    )  # three seeds unless told otherwise
    code, _, err = run_cli(
        "sweep", str(data), "--class", "1", "--recipe", "notebook", "--runs-dir", str(runs)
    )
    assert code == 2 and "either --class" in err
    code, _, err = run_cli(
        "sweep", str(data), "--class", "1", "--multipliers", "1,x", "--runs-dir", str(runs)
    )
    assert code == 2 and "--multipliers" in err


@pytest.mark.slow  # trains two small models through the CLI
def test_cli_sweep_takes_weights_below_one_for_the_default_recipe(run_cli, tmp_path) -> None:
    # The recommended recipe (softmax) weighs each rating by its class's multiplier: 0 leaves
    # the class out. The other recipes copy rows and refuse factors below 1 before training.
    data = tmp_path / "demo.csv"
    write_demo_csv(data, n_users=400, n_items=150, n_ratings=5000, seed=2)
    runs = tmp_path / "runs"
    code, out, err = run_cli(
        "sweep", str(data), "--class", "1", "--multipliers", "0,0.5", "--epochs", "1", "--dim", "8",
        "--seeds", "1", "--runs-dir", str(runs), "--json", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    records = json.loads(out)
    assert [r["multiplier"] for r in records] == [0.0, 0.5]
    left_out, halved = records[0]["train_counts"], records[1]["train_counts"]
    assert left_out["1"] == 0 and halved["1"] > 0
    assert {k: v for k, v in left_out.items() if k != "1"} == {k: v for k, v in halved.items() if k != "1"}
    assert len(RunRegistry(runs).list()) == 2
    code, _, err = run_cli(
        "sweep", str(data), "--class", "1", "--multipliers", "1,0.5", "--preset", "fast",
        "--runs-dir", str(tmp_path / "other"),
    )  # fmt: skip
    assert code == 2 and "Invalid multiplier 0.5 for 1★" in err and "only the recommended recipe" in err
    assert not RunRegistry(tmp_path / "other").list()
