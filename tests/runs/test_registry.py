"""The runs registry: SQLite index + atomic run folders, under crashes and concurrent writers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import recsys_core as rs
from recsys_core.config import TrainConfig
from recsys_core.data import demo_ratings
from recsys_core.errors import RecsysError
from recsys_core.runs import TEMP_PREFIX, RunRegistry, load_run

SMALL_TRAIN = ["--preset", "fast", "--epochs", "1", "--dim", "8", "--quiet"]


@pytest.fixture(scope="module")
def small_run():
    ratings = demo_ratings(n_users=200, n_items=120, n_ratings=3000, seed=3)
    return rs.train(ratings, TrainConfig.preset("fast", epochs=1, embedding_dim=8))


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recsys_core.data import write_demo_csv

    path = tmp_path_factory.mktemp("reg") / "demo.csv"
    write_demo_csv(path, n_users=300, n_items=150, n_ratings=6000, seed=5)
    return path


def test_save_list_load_delete(tmp_path: Path, small_run) -> None:
    registry = RunRegistry(tmp_path)
    first = registry.save(small_run)
    # The list is newest first and created_at has second resolution: an explicit later stamp
    # orders the two saves without sleeping (run ids carry a random suffix, so they never clash).
    small_run.created_at = "2099-01-01T00:00:00+00:00"
    second = registry.save(small_run)
    records = registry.list()
    assert [r.run_id for r in records] == [second.run_id, first.run_id]
    assert records[0].metrics["roc_auc"] == pytest.approx(small_run.metrics["roc_auc"])
    assert records[0].config["embedding_dim"] == 8
    loaded = registry.load(first.run_id)
    assert loaded.id_map.n_items == small_run.id_map.n_items
    assert registry.delete([first.run_id]) == 1
    assert not first.path.exists()
    assert [r.run_id for r in registry.list()] == [second.run_id]


def test_reconcile_follows_the_folders(tmp_path: Path, small_run) -> None:
    registry = RunRegistry(tmp_path)
    record = registry.save(small_run)
    # A colleague copies a run in; another is removed by hand; a crashed save left a temp folder.
    shutil.copytree(record.path, tmp_path / "copied-in")
    shutil.rmtree(record.path)
    stale = tmp_path / f"{TEMP_PREFIX}crashed"
    stale.mkdir()
    old = time.time() - 10 * 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / f"{TEMP_PREFIX}in-progress"
    fresh.mkdir()
    assert [r.run_id for r in registry.list()] == ["copied-in"]
    assert not stale.exists(), "a stale temporary folder from a dead process is cleaned up"
    assert fresh.exists(), "a temporary folder another process may still be writing is left alone"


def test_a_damaged_run_folder_is_not_listed(tmp_path: Path, small_run) -> None:
    registry = RunRegistry(tmp_path)
    record = registry.save(small_run)
    with open(record.path / "metrics.json", "a") as fh:
        fh.write(" ")
    with pytest.raises(RecsysError, match=r"metrics\.json"):
        registry.load(record.run_id)
    # Rebuilding the index from the folders (e.g. after deleting a corrupt database) skips it.
    registry.db_path.unlink()
    for extra in registry.root.glob("registry.sqlite3-*"):
        extra.unlink()
    assert RunRegistry(tmp_path).list() == []


def test_run_ids_cannot_escape_the_runs_folder(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path / "runs")
    for bad in ("../x", "..", "a/b", ".tmp-x"):
        with pytest.raises(RecsysError):
            registry.load(bad)
        with pytest.raises(RecsysError):
            registry.delete([bad])


def _train_cmd(data: Path, runs: Path, seed: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "recsys_core.cli",
        "train",
        str(data),
        "--runs-dir",
        str(runs),
        "--seed",
        str(seed),
        *SMALL_TRAIN,
    ]


@pytest.mark.slow  # over ~5 s: three CLI processes train at once
def test_two_processes_training_at_once_both_land(tmp_path: Path, demo_csv: Path) -> None:
    runs = tmp_path / "runs"
    procs = [
        subprocess.Popen(
            _train_cmd(demo_csv, runs, seed), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for seed in (1, 2, 3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    records = RunRegistry(runs).list()
    assert len(records) == 3
    assert sorted(r.config["seed"] for r in records) == [1, 2, 3]
    for record in records:
        load_run(record.path)


@pytest.mark.slow  # over ~5 s: eight CLI processes, each SIGKILLed or left to finish
def test_sigkill_mid_training_or_mid_save_leaves_a_consistent_registry(
    tmp_path: Path, demo_csv: Path
) -> None:
    runs = tmp_path / "runs"
    RunRegistry(runs)
    # Kill at spread-out moments: during start-up, training and saving. Some runs complete.
    delays = [0.5, 2.0, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0]
    finished = 0
    for seed, delay in enumerate(delays):
        proc = subprocess.Popen(
            _train_cmd(demo_csv, runs, seed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            proc.wait(timeout=delay)
            finished += proc.returncode == 0
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    registry = RunRegistry(runs)
    records = registry.list()
    visible = sorted(p.name for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))
    # Every visible folder is a complete run that loads, and is indexed; nothing else is.
    assert sorted(r.run_id for r in records) == visible
    assert len(records) >= finished
    for record in records:
        run = load_run(record.path)
        assert run.config.seed == record.config["seed"]
    # The registry still takes new runs after the crashes.
    proc = subprocess.run(_train_cmd(demo_csv, runs, 99), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert len(RunRegistry(runs).list()) == len(records) + 1
