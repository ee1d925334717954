"""The ladder once per split: a fingerprint of what its figures depend on, a shared cache in the
runs folder that every run of the same split reuses, and cache files that are checked, not trusted."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import recsys_core as rs
from recsys_core.baselines import (
    MAX_CACHE_BYTES,
    LadderSplit,
    LadderStopped,
    cache_path,
    fit_split_ladder,
    ladder_for,
    shared_ladder,
    split_fingerprint,
)
from recsys_core.config import TrainConfig
from recsys_core.data import DemoData, Ratings, generate_demo, prepare_data
from recsys_core.runs import Run, RunRegistry, shared_ladders

FIT = "recsys_core.baselines._ladder.fit_split_ladder"


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo(n_users=300, n_items=120, n_ratings=4500, seed=5)


@pytest.fixture(scope="module")
def two_runs(demo: DemoData, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunRegistry, Run, Run]:
    """Two recipes (fast, then a different size and objective) on the same data, split and seed."""
    ratings = Ratings.from_frame(demo.ratings, source="demo")
    registry = RunRegistry(tmp_path_factory.mktemp("runs"))
    first = rs.train(ratings, TrainConfig.preset("fast", epochs=1), products=demo.products)
    second = rs.train(
        ratings,
        TrainConfig.preset("fast", epochs=1, embedding_dim=8, objective="rating"),
        products=demo.products,
    )
    for run in (first, second):
        run.path = registry.save(run).path
    return registry, first, second


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[LadderSplit]:
    """A spy on the one fitting function: every split fitted (the real fit still runs)."""
    calls: list[LadderSplit] = []

    def spy(split: LadderSplit, **kwargs: Any) -> dict[str, dict[str, Any]]:
        calls.append(split)
        return fit_split_ladder(split, **kwargs)

    monkeypatch.setattr(FIT, spy)
    return calls


def test_a_second_run_on_the_same_split_reuses_the_ladder(
    two_runs: tuple[RunRegistry, Run, Run], fits: list[LadderSplit]
) -> None:
    registry, first, second = two_runs
    shared = shared_ladders(first.path)
    assert shared == registry.root / "ladders"
    fingerprint = split_fingerprint(LadderSplit.of_run(first), 10, 20_000)
    assert split_fingerprint(LadderSplit.of_run(second), 10, 20_000) == fingerprint
    assert first.config != second.config

    ladder = ladder_for(first, first.path, shared=shared)
    assert len(fits) == 1 and cache_path(shared, fingerprint).is_file()
    assert ladder_for(second, second.path, shared=shared) == ladder
    assert len(fits) == 1  # not refitted: the first run's ladder, same figures
    evaluated = second.evaluate()["ranking"]["baselines"]  # evaluate (and the CLI) reads it too
    assert evaluated == ladder and len(fits) == 1
    assert [r.run_id for r in registry.list(include_broken=True) if r.broken] == []


def test_the_split_of_prepared_data_has_the_saved_runs_fingerprint(
    demo: DemoData, two_runs: tuple[RunRegistry, Run, Run]
) -> None:
    _, first, _ = two_runs
    config = TrainConfig.preset("fast", epochs=1)
    prepared = LadderSplit.of_prepared(prepare_data(demo.ratings, config), config.seed, demo.products)
    assert split_fingerprint(prepared, 10, None) == split_fingerprint(LadderSplit.of_run(first), 10, None)


def test_another_seed_data_k_or_catalogue_is_another_fingerprint(
    demo: DemoData, two_runs: tuple[RunRegistry, Run, Run]
) -> None:
    _, first, _ = two_runs
    split = LadderSplit.of_run(first)
    base = split_fingerprint(split, 10, 20_000)
    other_seed = TrainConfig.preset("fast", seed=7)
    reseeded = LadderSplit.of_prepared(prepare_data(demo.ratings, other_seed), 7, demo.products)
    fewer = demo.ratings.iloc[:-50]
    config = TrainConfig.preset("fast")
    other_data = LadderSplit.of_prepared(prepare_data(fewer, config), config.seed, demo.products)
    no_products = LadderSplit.of_prepared(prepare_data(demo.ratings, config), config.seed, None)
    others = {
        split_fingerprint(reseeded, 10, 20_000),
        split_fingerprint(other_data, 10, 20_000),
        split_fingerprint(no_products, 10, 20_000),
        split_fingerprint(split, 5, 20_000),
        split_fingerprint(split, 10, None),
    }
    assert base not in others and len(others) == 5


def _forgeries(fingerprint: str, good: dict[str, Any]) -> dict[str, Callable[[Path], None]]:
    def write(value: object) -> Callable[[Path], None]:
        return lambda path: path.write_text(json.dumps(value))

    relabelled = json.loads(json.dumps(good))
    relabelled["ease"]["label"] = "=HYPERLINK(evil)"
    nested = json.loads(json.dumps(good))
    nested["ials"]["ndcg_at_k"] = {"deep": [1, 2]}
    missing = {name: entry for name, entry in good.items() if name != "ials"}
    figure = json.loads(json.dumps(good))
    figure["ease"]["ndcg_at_k"] = 0.99  # under its true label: only the seal tells
    return {
        "forged figure": write({"fingerprint": fingerprint, "ladder": figure}),
        "unsealed (hand-written)": write({"fingerprint": fingerprint, "ladder": good}),
        "sealed by another key": write({"fingerprint": fingerprint, "ladder": good, "seal": "0" * 64}),
        "not json": lambda path: path.write_text("{not json"),
        "oversized": lambda path: path.write_text(
            json.dumps({"fingerprint": fingerprint, "ladder": good}) + " " * MAX_CACHE_BYTES
        ),
        "deeply nested": lambda path: path.write_text("[" * 100_000 + "]" * 100_000),
        "huge number": lambda path: path.write_text('{"fingerprint": ' + "9" * 5000 + "}"),
        "NaN": lambda path: path.write_text(
            json.dumps({"fingerprint": fingerprint, "ladder": good}).replace("0.", "NaN", 1)
        ),
        "another split's": write({"fingerprint": "0" * 64, "ladder": good}),
        "forged label": write({"fingerprint": fingerprint, "ladder": relabelled}),
        "nested figure": write({"fingerprint": fingerprint, "ladder": nested}),
        "missing rung": write({"fingerprint": fingerprint, "ladder": missing}),
        "a list": write([fingerprint, good]),
    }


def test_a_damaged_forged_or_oversized_cache_is_refitted_not_trusted(
    two_runs: tuple[RunRegistry, Run, Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first, _ = two_runs
    split = LadderSplit.of_run(first)
    good = shared_ladder(split, tmp_path)  # the real fit once; the refits below return it
    fingerprint = split_fingerprint(split, 10, 20_000)
    path = cache_path(tmp_path, fingerprint)
    refits: list[str] = []
    monkeypatch.setattr(FIT, lambda split, **kwargs: refits.append("fit") or good)
    for why, forge in _forgeries(fingerprint, good).items():
        forge(path)
        assert shared_ladder(split, tmp_path) == good, why
        assert len(refits) == 1, why  # refitted, and the file replaced by a good one
        assert json.loads(path.read_text())["ladder"] == good, why
        assert shared_ladder(split, tmp_path) == good and len(refits) == 1, why
        refits.clear()


def test_a_stopped_fit_caches_nothing(two_runs: tuple[RunRegistry, Run, Run], tmp_path: Path) -> None:
    _, first, _ = two_runs
    split = LadderSplit.of_run(first)
    asked: list[bool] = []

    def stop_on_third() -> bool:
        asked.append(True)
        return len(asked) >= 3

    with pytest.raises(LadderStopped):
        shared_ladder(split, tmp_path, should_stop=stop_on_third)
    assert len(asked) == 3 and not list(tmp_path.iterdir())
