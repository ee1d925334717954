"""Run diffs: paired bootstrap intervals, overlap, exposure, segments, and refusing other splits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from whatif_runs import fast_run, notebook_run, small_ratings

from recsys_core.errors import RecsysError
from recsys_core.metrics import (
    compare_runs,
    jaccard,
    overlap_summary,
    paired_bootstrap,
    weighted_auc,
)
from recsys_core.runs import save_run


def test_weighted_auc_with_unit_weights_is_sklearns() -> None:
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(300), 2)  # ties on purpose
    positive = rng.random(300) < scores
    auc = weighted_auc(scores, positive)(np.ones((1, 300)))[0]
    assert auc == pytest.approx(roc_auc_score(positive, scores))
    # weight 2 on a row = the row twice
    weights = np.ones((1, 300))
    weights[0, :10] = 2
    doubled = np.concatenate([np.arange(300), np.arange(10)])
    assert weighted_auc(scores, positive)(weights)[0] == pytest.approx(
        roc_auc_score(positive[doubled], scores[doubled])
    )


def test_paired_bootstrap_of_identical_values_has_zero_width() -> None:
    values = np.random.default_rng(1).random(50)
    stat = lambda w: w @ values / len(values)  # noqa: E731
    result = paired_bootstrap({"m": (stat, stat)}, 50, 200, seed=0)["m"]
    assert result["delta"] == 0.0 and result["ci95"] == [0.0, 0.0]
    assert result["a"] == pytest.approx(values.mean())


def test_jaccard_and_overlap_by_hand() -> None:
    a = np.array([[1, 2, 3], [1, 2, -1], [-1, -1, -1]])
    b = np.array([[3, 2, 1], [2, 5, 6], [-1, -1, -1]])
    # same set; {1,2} vs {2,5,6}: 1/4; two empty lists: identical
    assert jaccard(a, b).tolist() == pytest.approx([1.0, 0.25, 1.0])
    summary = overlap_summary(jaccard(a, b))
    assert summary["mean_jaccard"] == pytest.approx(0.75)
    assert summary["share_changed"] == pytest.approx(1 / 3)
    assert sum(summary["histogram"]["counts"]) == 3


@pytest.fixture(scope="module")
def runs():
    ratings = small_ratings()
    return notebook_run(ratings), fast_run(ratings)


def test_a_run_against_itself_changes_nothing(runs) -> None:
    run = runs[0]
    diff = compare_runs(run, run, n_boot=300)
    for name, m in diff["metrics"].items():
        assert m["delta"] == 0.0, name
        assert m["ci95"][0] == m["ci95"][1] == 0.0, name
        assert m["verdict"] == "same", name
    assert {"hit_rate_liked_at_k", "hit_rate_disliked_at_k"} <= set(diff["metrics"])
    assert diff["metrics"]["hit_rate_liked_at_k"]["a"] == pytest.approx(
        run.metrics["ranking"]["model"]["hit_rate_liked_at_k"]
    )
    assert diff["overlap"]["mean_jaccard"] == 1.0 and diff["overlap"]["share_changed"] == 0.0
    assert diff["exposure"] == {"gained": [], "lost": []}
    # the means over the evaluated users are evaluate's numbers
    assert diff["metrics"]["ndcg_at_k"]["a"] == pytest.approx(run.metrics["ranking"]["model"]["ndcg_at_k"])
    assert diff["metrics"]["roc_auc"]["a"] == pytest.approx(run.metrics["roc_auc"])


def test_clearly_different_runs_have_intervals_that_exclude_zero(runs) -> None:
    notebook, fast = runs
    diff = compare_runs(notebook, fast, n_boot=500, seed=1)
    for name in ("ndcg_at_k", "hit_rate_at_k", "roc_auc"):
        m = diff["metrics"][name]
        assert m["delta"] == pytest.approx(m["b"] - m["a"])
        assert m["ci95"][0] > 0, (name, m)
        assert m["verdict"] == "higher", name
        assert m["ci95"][0] <= m["delta"] <= m["ci95"][1]
    assert diff["overlap"]["mean_jaccard"] < 0.5
    assert diff["exposure"]["gained"] and diff["exposure"]["lost"]
    gained = diff["exposure"]["gained"]
    assert [row["delta"] for row in gained] == sorted((row["delta"] for row in gained), reverse=True)
    kinds = {s["kind"] for s in diff["segments"]}
    assert kinds == {"history", "held_out_rating"}
    history = [s for s in diff["segments"] if s["kind"] == "history"]
    assert sum(s["users"] for s in history) == diff["users"]
    # seeded: the same call gives the same intervals
    assert compare_runs(notebook, fast, n_boot=500, seed=1)["metrics"] == diff["metrics"]


def test_runs_on_different_splits_are_refused(runs) -> None:
    other = fast_run(small_ratings(), split="random", epochs=1)
    with pytest.raises(RecsysError, match="different splits"):
        compare_runs(runs[0], other)


def test_cli_compare_json(runs, run_cli, tmp_path) -> None:
    a, b = save_run(runs[0], tmp_path / "a"), save_run(runs[1], tmp_path / "b")
    code, out, err = run_cli("compare", str(a), str(b), "--json", "--n-boot", "200")
    assert code == 0, err
    diff = json.loads(out)
    assert set(diff["metrics"]["ndcg_at_k"]) == {"a", "b", "delta", "ci95", "verdict"}
    code, out, err = run_cli("compare", str(a), str(b), "--n-boot", "50")
    assert code == 0 and "95 % interval" in out and "verdict" in out
    code, _, err = run_cli("compare", str(a), str(tmp_path / "missing"))
    assert code == 2 and err.startswith("error:")
