"""The baseline ladder: fitted on the run's own split, scored with the model's metric code, cached."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import CliRunner

import recsys_core as rs
from recsys_core.baselines import (
    EASE,
    LADDER_FILE,
    MostPopular,
    fit_ladder,
    ladder_for,
    run_holdouts,
    score_holdout,
)
from recsys_core.config import TrainConfig
from recsys_core.data import demo_ratings
from recsys_core.metrics import CLASS_HIT_METRICS, PER_USER_METRICS, per_user_topk_metrics, topk_metrics
from recsys_core.runs import Run, save_run
from recsys_core.topn import build_seen_matrix

MODEL_KEYS = {"ndcg_at_k", "hit_rate_at_k", "precision_at_k", "recall_at_k", "coverage"}


@pytest.fixture(scope="module")
def small_run() -> Run:
    ratings = demo_ratings(n_users=400, n_items=150, n_ratings=6000, seed=3)
    return rs.train(ratings, TrainConfig.preset("fast", epochs=2))


def test_standard_errors_are_the_spread_of_per_user_values() -> None:
    relevant = build_seen_matrix(np.arange(4), np.array([0, 1, 2, 3]), 4, 5)
    lists = np.array([[0, 4], [4, 3], [1, 0], [2, 3]])  # hits: user 0 first place, user 3 second

    def top(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return lists[rows], np.zeros(lists[rows].shape)

    users = np.arange(4)
    result = topk_metrics(top, users, relevant, 5, 2)
    per_user, got_lists = per_user_topk_metrics(top, users, relevant, 5, 2)
    assert np.array_equal(got_lists, lists)
    assert per_user["hit_rate_at_k"].tolist() == [1, 0, 0, 1]
    assert per_user["ndcg_at_k"].tolist() == pytest.approx([1, 0, 0, 1 / math.log2(3)])
    for key in PER_USER_METRICS:
        values = per_user[key]
        assert result[key] == pytest.approx(values.mean())
        assert result[f"{key}_se"] == pytest.approx(values.std(ddof=1) / 2)
    assert result["coverage"] == 1.0 and result["coverage_se"] >= 0
    assert topk_metrics(top, users, relevant, 5, 2) == result  # the coverage bootstrap is seeded


def test_validation_and_training_pairs_are_the_seen_pairs_split_as_the_pipeline_stored_them(
    small_run: Run,
) -> None:
    val_users, val_items = small_run.validation_pairs()
    train_users, train_items = small_run.training_pairs()
    assert len(val_users) == small_run.summary.validation > 0
    assert len(train_users) == small_run.summary.train
    assert np.array_equal(np.concatenate([train_users, val_users]), small_run.seen_users)
    train, validation, test = run_holdouts(small_run, None, 0)
    # Validation excludes only training pairs: a user's validation product is still a candidate.
    assert not validation.excluded[val_users, val_items].any()
    assert test.excluded[val_users, val_items].all()
    assert train.nnz == len(np.unique(train_users * small_run.n_items + train_items))


def test_ladder_scores_each_baseline_like_the_model(small_run: Run) -> None:
    ladder = fit_ladder(small_run, names=("most_popular", "ease"))
    popular = ladder["most_popular"]
    # Most popular through the ladder equals the evaluation's own most-popular baseline.
    for key in MODEL_KEYS:
        assert popular[key] == pytest.approx(small_run.metrics["ranking"]["popularity"][key])
    ease = ladder["ease"]
    assert set(MODEL_KEYS) <= set(ease) and {"params", "fit_seconds", "tune_seconds"} <= set(ease)
    assert {f"{key}_se" for key in MODEL_KEYS} <= set(ease)
    # The chosen l2 refitted by hand scores exactly what the ladder reported.
    train, _, test = run_holdouts(small_run, None, small_run.config.seed)
    by_hand = score_holdout(EASE(**ease["params"]).fit(train), test, 10)
    assert by_hand["ndcg_at_k"] == pytest.approx(ease["ndcg_at_k"])
    # EASE is fitted on training interactions only: it beats the best-seller list here.
    assert ease["ndcg_at_k"] > score_holdout(MostPopular().fit(train), test, 10)["ndcg_at_k"]


def test_a_catalogue_too_large_for_ease_is_skipped_with_the_memory_it_needs(
    small_run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsys_core.baselines import RUNGS, Rung

    monkeypatch.setitem(RUNGS, "ease", Rung("EASE", lambda p: EASE(**p, max_bytes=1000), RUNGS["ease"].grid))
    result = fit_ladder(small_run, names=("ease",))["ease"]
    assert "skipped" in result and "memory" in result["skipped"].lower()


def test_ladder_is_cached_beside_the_run_and_refitted_when_stale(small_run: Run, tmp_path: Path) -> None:
    folder = save_run(small_run, tmp_path / "run")
    calls: list[str] = []
    first = ladder_for(small_run, folder, on_rung=calls.append)
    assert calls and (folder / LADDER_FILE).is_file()
    calls.clear()
    assert ladder_for(small_run, folder, on_rung=calls.append) == first and calls == []
    ladder_for(small_run, folder, k=5, on_rung=calls.append)  # another list length: refitted
    assert calls
    (folder / LADDER_FILE).write_text("{not json")
    calls.clear()
    ladder_for(small_run, folder, on_rung=calls.append)  # damaged cache: refitted, no error
    assert calls


def test_evaluate_json_has_the_ladder_with_standard_errors(
    small_run: Run, tmp_path: Path, run_cli: CliRunner
) -> None:
    folder = save_run(small_run, tmp_path / "run")
    code, out, err = run_cli("evaluate", str(folder), "--json")
    assert code == 0, err
    ranking = json.loads(out)["ranking"]
    assert set(ranking["baselines"]) == {"most_popular", "item_knn", "ease", "ials"}
    # Scored like the model (the hit rates on liked and disliked products are the model's and
    # most popular's only: the ladder's split keeps no ratings).
    split_by_rating = {f"{key}{end}" for key in CLASS_HIT_METRICS for end in ("", "_se", "_users")}
    for name, entry in ranking["baselines"].items():
        assert set(ranking["model"]) - split_by_rating <= set(entry), name
        assert entry["params"] is not None and entry["fit_seconds"] >= 0
    for key in MODEL_KEYS:
        assert f"{key}_se" in ranking["model"] and f"{key}_se" in ranking["popularity"]
    code, out, _ = run_cli("evaluate", str(folder), "--json", "--no-baselines")
    assert code == 0 and "baselines" not in json.loads(out)["ranking"]
    code, out, _ = run_cli("evaluate", str(folder))
    assert code == 0 and "EASE" in out and "iALS" in out and "±" in out
    # One line says how the model compares, by the rule of the error bars.
    verdict = next(line for line in out.splitlines() if "the model finds the held-out product" in line)
    assert "most popular" in verdict and "EASE" in verdict and "often" in verdict


def test_ladder_needs_validation_pairs(small_run: Run) -> None:
    from dataclasses import replace

    from recsys_core.errors import RecsysError

    no_validation = replace(small_run, summary=replace(small_run.summary, validation=0))
    with pytest.raises(RecsysError, match="no validation ratings"):
        fit_ladder(no_validation)
    assert sp.issparse(small_run.seen_matrix())


@pytest.mark.parametrize(
    "forge",
    [
        lambda data: data["ladder"]["ease"].update(ndcg_at_k=0.99, label="EASE (forged)"),  # a label not ours
        lambda data: data["ladder"]["ease"].update(ndcg_at_k=float("nan")),  # written as NaN
        lambda data: data["ladder"].pop("ials"),  # a rung missing
        lambda data: data.update(extra=[[[[[[[[[1]]]]]]]]]),  # more than the cache holds, nested deep
        lambda data: data["ladder"]["ease"].update(padding="x" * 400_000),  # oversized
    ],
)
def test_a_forged_cache_beside_the_run_is_refitted_not_trusted(small_run: Run, tmp_path: Path, forge) -> None:
    folder = save_run(small_run, tmp_path / "run")
    first = ladder_for(small_run, folder)
    data = json.loads((folder / LADDER_FILE).read_text())
    forge(data)
    (folder / LADDER_FILE).write_text(json.dumps(data))
    calls: list[str] = []
    again = ladder_for(small_run, folder, on_rung=calls.append)
    assert calls  # refitted: the forged file was not read as measured
    untimed = [
        {n: {k: v for k, v in e.items() if not k.endswith("_seconds")} for n, e in x.items()}
        for x in (first, again)
    ]
    assert untimed[0] == untimed[1]


# -- issue 23, item 7: the cache is sealed and bound to its run; bad entries are refitted -----


def _refitted(run: Run, folder: Path) -> bool:
    calls: list[str] = []
    ladder_for(run, folder, on_rung=calls.append)
    return bool(calls)


@pytest.mark.slow  # evaluate fits the ladder twice
def test_a_forged_figure_under_the_true_label_is_not_printed_as_measured(
    small_run: Run, tmp_path: Path, run_cli: CliRunner
) -> None:
    folder = save_run(small_run, tmp_path / "run")
    ladder_for(small_run, folder)
    data = json.loads((folder / LADDER_FILE).read_text())
    data["ladder"]["ease"]["ndcg_at_k"] = 0.987654  # label, key and shape untouched
    (folder / LADDER_FILE).write_text(json.dumps(data))
    code, out, err = run_cli("evaluate", str(folder))
    assert code == 0, err
    assert "0.9877" not in out and "EASE" in out
    assert json.loads((folder / LADDER_FILE).read_text())["ladder"]["ease"]["ndcg_at_k"] != 0.987654


@pytest.mark.slow  # two ladder fits
def test_a_cache_copied_from_another_run_is_refused(small_run: Run, tmp_path: Path) -> None:
    from dataclasses import replace

    first = save_run(small_run, tmp_path / "first")
    ladder_for(small_run, first)
    other = replace(small_run, name="another run")
    second = save_run(other, tmp_path / "second")
    (second / LADDER_FILE).write_bytes((first / LADDER_FILE).read_bytes())  # sealed, but for run 1
    assert _refitted(other, second)


@pytest.mark.slow  # two ladder fits
def test_a_cache_sealed_under_another_key_is_refitted(
    small_run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recsys_core.baselines import _ladder_cache

    folder = save_run(small_run, tmp_path / "run")
    monkeypatch.setattr(_ladder_cache, "_secret", [b"k" * 32])  # another machine's key
    ladder_for(small_run, folder)
    monkeypatch.setattr(_ladder_cache, "_secret", [b"m" * 32])
    assert _refitted(small_run, folder)
    assert not _refitted(small_run, folder)  # resealed under this key: trusted from now on


MALFORMED = {
    "rung a list": lambda d: d["ladder"].update(ease=["EASE", 0.5]),
    "rung a string": lambda d: d["ladder"].update(ease="EASE"),
    "no label": lambda d: d["ladder"]["ease"].pop("label"),
    "params a list": lambda d: d["ladder"]["ease"].update(params=[1, 2]),
    "no figure": lambda d: d["ladder"]["ease"].pop("ndcg_at_k"),
    "figure a string": lambda d: d["ladder"]["ease"].update(ndcg_at_k="0.99"),
    "skipped not text": lambda d: d["ladder"]["ials"].update(skipped=3) or d["ladder"]["ials"].pop("params"),
    "ladder a list": lambda d: d.update(ladder=[1, 2]),
    "no key": lambda d: d.pop("key"),
    "long param text": lambda d: d["ladder"]["ease"]["params"].update(note="x" * 1000),
    "bad param name": lambda d: d["ladder"]["ease"]["params"].update({"Bad Name": 1}),
}


@pytest.fixture(scope="module")
def sealed_ladder(small_run: Run, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A run's cache as written (seal removed), to break one entry at a time."""
    folder = save_run(small_run, tmp_path_factory.mktemp("sealed") / "run")
    ladder_for(small_run, folder)
    data = json.loads((folder / LADDER_FILE).read_text())
    data.pop("seal")
    return data


@pytest.mark.parametrize("why", sorted(MALFORMED))
def test_a_malformed_entry_under_a_valid_seal_is_discarded(
    sealed_ladder: dict, tmp_path: Path, why: str
) -> None:
    """Resealed with the real key: the structure check itself must refuse it (no AttributeError,
    no KeyError), so the ladder is refitted."""
    from recsys_core.baselines import RUNGS, _ladder_cache

    keys, labels = {"key", "ladder"}, {name: rung.label for name, rung in RUNGS.items()}
    path = tmp_path / LADDER_FILE
    _ladder_cache.write_cache(path, sealed_ladder)
    assert _ladder_cache.read_cache(path, keys, labels) is not None  # the unbroken one is trusted
    data = json.loads(json.dumps(sealed_ladder))
    MALFORMED[why](data)
    _ladder_cache.write_cache(path, data)
    assert _ladder_cache.read_cache(path, keys, labels) is None


@pytest.mark.slow  # evaluate fits the ladder twice
def test_evaluate_refits_a_malformed_cache_without_an_internal_error(
    small_run: Run, sealed_ladder: dict, tmp_path: Path, run_cli: CliRunner
) -> None:
    from recsys_core.baselines import _ladder_cache

    folder = save_run(small_run, tmp_path / "run")
    ladder_for(small_run, folder)
    data = json.loads((folder / LADDER_FILE).read_text())
    data.pop("seal")
    data["ladder"]["ease"] = ["EASE", 0.99]
    _ladder_cache.write_cache(folder / LADDER_FILE, data)
    code, out, err = run_cli("evaluate", str(folder))
    assert code == 0 and "internal error" not in err, err
    assert "EASE" in out and "0.99" not in out
    assert not _refitted(small_run, folder)  # the refit replaced the malformed file


def test_a_400_mb_cache_is_not_read_whole(small_run: Run, tmp_path: Path) -> None:
    import tracemalloc

    from recsys_core.baselines import _ladder_cache

    folder = save_run(small_run, tmp_path / "run")
    with (folder / LADDER_FILE).open("wb") as handle:
        handle.truncate(400 << 20)  # sparse: 400 MB of NUL bytes, no disk used
    tracemalloc.start()
    try:
        assert _ladder_cache.read_cache(folder / LADDER_FILE, {"key", "ladder"}, {}) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * _ladder_cache.MAX_CACHE_BYTES
    assert _refitted(small_run, folder)
    assert (folder / LADDER_FILE).stat().st_size < _ladder_cache.MAX_CACHE_BYTES
