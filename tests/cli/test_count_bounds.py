"""Every count a person can type has an upper bound, checked before any work (issue 23, item 2).

Each command is given a run folder or ratings file that does not exist: when the bound is
checked first, the message names the bound; had the command loaded anything first, it would
name the missing file instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import CliRunner

from recsys_core import limits
from recsys_core.errors import RecsysError
from recsys_core.metrics import jaccard
from recsys_core.sweep import check_sweep_size

L = limits


def _over(bound: int) -> str:
    return str(bound + 1)


# (arguments, the bound the message must state)
CASES = [
    (["compare", "{x}", "{x}", "--k", "100000000"], L.MAX_LIST_LENGTH),
    (["compare", "{x}", "{x}", "--n-boot", "1000000000"], L.MAX_BOOTSTRAP),
    (["compare", "{x}", "{x}", "--n-boot", "-1"], L.MAX_BOOTSTRAP),
    (["compare", "{x}", "{x}", "--max-users", _over(L.MAX_RANKED_USERS)], L.MAX_RANKED_USERS),
    (["compare", "{x}", "{x}", "--seed", _over(L.MAX_RESAMPLE_SEED)], L.MAX_RESAMPLE_SEED),
    (["evaluate", "{x}", "--k", _over(L.MAX_LIST_LENGTH)], L.MAX_LIST_LENGTH),
    (["evaluate", "{x}", "--k", "1000", "--max-users", "10000000"], L.MAX_LIST_CELLS),
    (["compare", "{x}", "{x}", "--k", "1000", "--max-users", "10000000"], L.MAX_LIST_CELLS),
    (["evaluate", "{x}", "--max-users", _over(L.MAX_RANKED_USERS)], L.MAX_RANKED_USERS),
    (["recommend", "{x}", "--user", "u", "-n", _over(L.MAX_RECOMMENDATIONS)], L.MAX_RECOMMENDATIONS),
    (["recommend", "{x}", "--new-users", "{x}", "-n", _over(L.MAX_RECOMMENDATIONS)], L.MAX_RECOMMENDATIONS),
    (["similar", "{x}", "--item", "p", "-n", _over(L.MAX_RECOMMENDATIONS)], L.MAX_RECOMMENDATIONS),
    (
        ["recommend", "{x}", "--all-users", "--out", "{tmp}/o.parquet", "--block-users", "1000000000000"],
        L.MAX_BLOCK_USERS,
    ),
    (
        [
            "sweep",
            "{x}",
            "--runs-dir",
            "{tmp}/runs",
            "--class",
            "1",
            "--multipliers",
            "1,2",
            "--seeds",
            "30000000",
        ],
        L.MAX_SWEEP_SEEDS,
    ),
    (
        ["sweep", "{x}", "--runs-dir", "{tmp}/runs", "--class", "1", "--multipliers", ",".join(["2"] * 101)],
        L.MAX_SWEEP_SETTINGS,
    ),
    (
        [
            "sweep",
            "{x}",
            "--runs-dir",
            "{tmp}/runs",
            "--recipe",
            "notebook",
            "--scale",
            ",".join(["1"] * 100),
            "--seeds",
            "20",
        ],
        L.MAX_SWEEP_RUNS,
    ),
    (["train", "{x}", "--out", "{tmp}/run", "--epochs", _over(L.MAX_EPOCHS)], L.MAX_EPOCHS),
    (["train", "{x}", "--out", "{tmp}/run", "--dim", _over(L.MAX_EMBEDDING_DIM)], L.MAX_EMBEDDING_DIM),
    (["inspect", "{x}", "--min-user-ratings", _over(L.MAX_MIN_RATINGS)], L.MAX_MIN_RATINGS),
    (["demo-data", "--out", "{tmp}/d.csv", "--ratings", _over(L.MAX_DEMO_RATINGS)], L.MAX_DEMO_RATINGS),
    (["demo-data", "--out", "{tmp}/d.csv", "--users", _over(L.MAX_DEMO_USERS)], L.MAX_DEMO_USERS),
    (["demo-data", "--out", "{tmp}/d.csv", "--seed", _over(L.MAX_SEED)], L.MAX_SEED),
    (["train", "{x}", "--out", "{tmp}/run", "--batch-size", _over(L.MAX_BATCH_SIZE)], L.MAX_BATCH_SIZE),
    (["train", "{x}", "--out", "{tmp}/run", "--negatives", _over(L.MAX_NEGATIVES)], L.MAX_NEGATIVES),
    (["train", "{x}", "--out", "{tmp}/run", "--neighbours", _over(L.MAX_NEIGHBOURS)], L.MAX_NEIGHBOURS),
]


@pytest.mark.parametrize(("argv", "bound"), CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in CASES])
def test_a_count_over_its_bound_is_refused_before_any_work(
    argv: list[str], bound: int, tmp_path: Path, run_cli: CliRunner
) -> None:
    missing = tmp_path / "no-such-thing"
    args = [a.format(x=missing, tmp=tmp_path) for a in argv]
    code, out, err = run_cli(*args)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and out == ""
    assert f"{bound:,}" in err  # the message says the bound
    assert "no-such-thing" not in err  # ... and nothing was loaded before the check
    assert not list(tmp_path.glob("*.parquet")) and not (tmp_path / "runs").exists()


def test_every_bound_is_listed_and_positive() -> None:
    bounds = limits.bounds()
    assert {"MAX_LIST_LENGTH", "MAX_BOOTSTRAP", "MAX_SWEEP_SEEDS", "MAX_RECOMMENDATIONS"} <= set(bounds)
    assert all(value > 0 for value in bounds.values())


def test_the_library_refuses_the_same_sweep() -> None:
    with pytest.raises(RecsysError, match="1,000"):
        check_sweep_size(settings=100, seeds=20)
    with pytest.raises(RecsysError, match="at least one seed"):
        check_sweep_size(settings=1, seeds=0)
    check_sweep_size(settings=10, seeds=100)  # 1,000 runs: allowed


def test_jaccard_by_sorting_matches_every_pair_compared() -> None:
    rng = np.random.default_rng(3)
    users, k, catalogue = 200, 12, 30
    lists = [np.stack([rng.permutation(catalogue)[:k] for _ in range(users)]) for _ in range(2)]
    for items in lists:  # ragged lists, as -1 padding
        items[rng.random((users, k)) < 0.2] = -1
        items.sort(axis=1)
    a, b = lists
    valid_a, valid_b = a >= 0, b >= 0
    pairs = (a[:, :, None] == b[:, None, :]) & valid_a[:, :, None] & valid_b[:, None, :]
    common = pairs.any(axis=2).sum(axis=1)
    union = valid_a.sum(axis=1) + valid_b.sum(axis=1) - common
    expected = np.where(union > 0, common / np.maximum(union, 1), 1.0)
    np.testing.assert_allclose(jaccard(a, b), expected)
    assert jaccard(np.full((1, 3), -1), np.full((1, 3), -1))[0] == 1.0


def test_all_customers_times_k_is_bounded_once_the_run_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    from run_files_kit import make_run

    from recsys_core.metrics import _resample, compare_runs

    run = make_run(n_users=30, n_items=25, seed=1)
    monkeypatch.setattr(_resample, "MAX_LIST_CELLS", 50)
    with pytest.raises(RecsysError, match=r"top-5 lists would hold .* \(at most 50\); lower the list length"):
        compare_runs(run, run, k=5, n_boot=0, max_users=None)
    with pytest.raises(RecsysError, match=r"\(at most 50\)"):
        run.evaluate(k=5, max_users=None, baselines=False)
