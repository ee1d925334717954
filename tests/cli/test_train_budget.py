"""``recsys train`` says what a run will take before it starts, refuses one that would not fit in
memory (exit 2, naming the recipe that fits) unless ``--force``, and ``--dry-run`` stops there."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys_core.config import TrainConfig
from recsys_core.data import load_ratings, write_demo_csv
from recsys_core.training import DataShape, _machine, estimate_training

GB = 10**9


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    write_demo_csv(path, n_users=150, n_items=60, n_ratings=2000, seed=5)
    return path


def _squeeze_memory(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Make this machine's usable memory halfway between what the recommended recipe needs on
    ``path`` with a profile of 64 and with one of 4096: the first fits, the second does not."""
    frame = load_ratings(path).frame
    shape = DataShape(
        int(frame["user"].nunique()),
        int(frame["item"].nunique()),
        len(frame),
        {float(r): int(n) for r, n in frame["rating"].value_counts().items()},
    )
    small = estimate_training(shape, TrainConfig(embedding_dim=64), suggest=False).peak_bytes
    large = estimate_training(shape, TrainConfig(embedding_dim=4096), suggest=False).peak_bytes
    assert large > small
    monkeypatch.setattr(_machine, "memory_budget", lambda: (8 * GB, (small + large) // 2))


def test_dry_run_prints_the_estimate_and_trains_nothing(run_cli, small_csv: Path, tmp_path: Path) -> None:
    code, out, _ = run_cli("train", str(small_csv), "--dry-run")
    assert code == 0
    assert "estimate: about" in out and "per epoch, up to 40 epochs" in out and "GB of memory" in out
    assert out.rstrip().endswith("fits")
    assert not any(tmp_path.glob("*/model.safetensors"))


def test_a_recipe_that_does_not_fit_is_refused_with_the_one_that_fits(
    run_cli, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _squeeze_memory(monkeypatch, small_csv)
    out_dir = tmp_path / "run"
    code, _, err = run_cli("train", str(small_csv), "--out", str(out_dir), "--dim", "4096")
    assert code == 2
    assert err.startswith("error: This recipe would need")
    assert "--dim 64" in err and "--force" in err
    assert not out_dir.exists()
    code, out, _ = run_cli("train", str(small_csv), "--dim", "4096", "--dry-run")
    assert code == 0 and "does not fit" in out and "--dim 64" in out


def test_force_trains_anyway_and_the_estimate_goes_to_stderr(
    run_cli, small_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _squeeze_memory(monkeypatch, small_csv)
    out_dir = tmp_path / "run"
    args = ("train", str(small_csv), "--out", str(out_dir), "--dim", "4096", "--epochs", "1", "--force")
    code, out, err = run_cli(*args)
    assert code == 0, err
    assert "estimate: about" in err and "trying anyway" in err
    assert "estimate" not in out
    assert (out_dir / "model.safetensors").is_file()


def test_quiet_prints_no_estimate(run_cli, small_csv: Path, tmp_path: Path) -> None:
    args = ("train", str(small_csv), "--out", str(tmp_path / "run"), "--epochs", "1", "--dim", "8", "--quiet")
    code, _, err = run_cli(*args)
    assert code == 0
    assert "estimate" not in err
