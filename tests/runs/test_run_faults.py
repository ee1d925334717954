"""Faults around saving and listing runs (issue 12, items 7, 8 and 9): a full disk, a kill between
the two renames of an overwrite, killed saves' staging folders, a corrupt or unusable index,
over-long names and out-of-range settings."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from run_files_kit import make_run
from safetensors import SafetensorError

from recsys_core.config import TrainConfig
from recsys_core.errors import RecsysError
from recsys_core.runs import MAX_RUN_NAME_BYTES, RunRegistry, check_run_destination, load_run, save_run
from recsys_core.runs import _folder as runs_module
from recsys_core.runs import _registry as registry_module
from recsys_core.runs import _staging as run_staging


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def staging_with(parent: Path, target: str, pid: int, name: str = ".tmp-0badcafe") -> Path:
    staging = parent / name
    staging.mkdir()
    (staging / "writer.json").write_text(json.dumps({"pid": pid, "started": None, "target": target}))
    return staging


# -- item 9: faults ---------------------------------------------------------------------------


def test_disk_full_in_safetensors_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args, **kwargs):
        raise SafetensorError("Error while serializing: IoError(Os { code: 28, kind: StorageFull })")

    monkeypatch.setattr(runs_module, "save_file", full)
    with pytest.raises(RecsysError, match=r"model\.safetensors.*disk full"):
        save_run(make_run(), tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_in_npz_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs_module.np, "savez_compressed", full)
    with pytest.raises(RecsysError, match=r"ids\.npz.*No space left on device"):
        save_run(make_run(), tmp_path / "run")


@pytest.mark.parametrize("new_complete", [True, False])
def test_kill_between_the_two_renames_is_recovered(tmp_path: Path, new_complete: bool) -> None:
    old = make_run()
    target = save_run(old, tmp_path / "run")
    new = make_run(seed=1)
    new.name = "replacement"
    staging = staging_with(tmp_path, "run", dead_pid())
    save_run(new, staging / "new")
    if not new_complete:
        (staging / "new" / "manifest.json").unlink()  # killed before the manifest was written
    os.replace(target, staging / "old")  # the state after the first rename
    assert not target.exists()
    run = load_run(target)
    assert run.name == ("replacement" if new_complete else "test run")
    assert not staging.exists()


def test_kill_between_the_renames_is_recovered_by_the_list(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path)
    record = registry.save(make_run())
    staging = staging_with(tmp_path, record.run_id, dead_pid())
    os.replace(record.path, staging / "old")
    assert [r.run_id for r in registry.list()] == [record.run_id]
    assert registry.load(record.run_id).name == "test run"


def test_killed_saves_staging_is_removed_at_once_live_ones_kept(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path)
    dead = staging_with(tmp_path, "x", dead_pid(), ".tmp-dead0001")
    (dead / "new" / "big.bin").parent.mkdir()
    (dead / "new" / "big.bin").write_bytes(b"\0" * 1000)
    alive = staging_with(tmp_path, "y", os.getpid(), ".tmp-live0001")
    trash = tmp_path / ".tmp-del-0000abcd"
    trash.mkdir()
    assert registry.list() == []
    assert not dead.exists(), "a staging folder whose writer is gone is removed without waiting an hour"
    assert alive.exists(), "a save in progress is left alone"
    assert not trash.exists()


def test_a_reused_pid_is_not_mistaken_for_the_writer(tmp_path: Path) -> None:
    staging = tmp_path / ".tmp-reused01"
    staging.mkdir()
    (staging / "writer.json").write_text(json.dumps({"pid": os.getpid(), "started": "1", "target": "x"}))
    run_staging.recover(tmp_path)
    if run_staging.process_start_time(os.getpid()) is not None:  # Linux: the start time tells them apart
        assert not staging.exists()


def test_corrupt_index_is_rebuilt_and_saves_still_succeed(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path)
    first = registry.save(make_run())
    registry.db_path.write_bytes(b"this is not a database" * 100)
    for extra in tmp_path.glob("registry.sqlite3-*"):
        extra.unlink()
    second = RunRegistry(tmp_path).save(make_run())  # never reports an error because of the index
    assert sorted(r.run_id for r in RunRegistry(tmp_path).list()) == sorted([first.run_id, second.run_id])
    with sqlite3.connect(registry.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2


def test_unusable_index_lists_from_the_folders(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path)
    record = registry.save(make_run())
    for path in tmp_path.glob("registry.sqlite3*"):
        path.unlink()
    (tmp_path / "registry.sqlite3").mkdir()  # cannot be opened at all
    registry = RunRegistry(tmp_path)
    assert [r.run_id for r in registry.list()] == [record.run_id]
    assert registry.save(make_run()).path.is_dir()
    assert len(registry.list()) == 2


def test_read_only_index_and_folder_still_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = RunRegistry(tmp_path).save(make_run())

    def read_only(*args, **kwargs):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(registry_module.sqlite3, "connect", read_only)
    registry = RunRegistry(tmp_path)
    assert [r.run_id for r in registry.list()] == [record.run_id]
    assert registry.load(record.run_id).name == "test run"


def test_runs_command_never_says_to_delete_the_index(tmp_path: Path, run_cli) -> None:
    RunRegistry(tmp_path).save(make_run())
    (tmp_path / "registry.sqlite3").write_bytes(b"garbage" * 1000)
    code, out, err = run_cli("runs", "--runs-dir", str(tmp_path))
    assert code == 0, err
    assert "delete" not in (out + err).lower()


# -- item 7: long names -----------------------------------------------------------------------


def test_a_run_with_a_255_byte_name_can_be_deleted(tmp_path: Path) -> None:
    registry = RunRegistry(tmp_path)
    record = registry.save(make_run())
    long_name = "r" * 250
    os.rename(record.path, tmp_path / long_name)
    assert [r.run_id for r in registry.list()] == [long_name]
    assert registry.delete([long_name]) == 1
    assert registry.list() == []
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("registry")] == []


def test_run_names_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(RecsysError, match="shorter name"):
        save_run(make_run(), tmp_path / ("x" * (MAX_RUN_NAME_BYTES + 1)))
    save_run(make_run(), tmp_path / ("é" * (MAX_RUN_NAME_BYTES // 2)))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# -- item 8: settings and --out checked before any work -----------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--seed", "-1"],
        ["--seed", str(2**32)],
        ["--oversample", "1=1e12"],
        ["--oversample", "1=inf"],
        ["--oversample", "1=nan"],
        ["--dim", "1000000000"],
        ["--dim", "1e9"],
        ["--negatives", "1000000000"],
        ["--batch-size", "100000000000000000000"],
        ["--batch-size", "1e20"],
        ["--epochs", "1000000000"],
        ["--lr", "inf"],
    ],
)
def test_out_of_range_numbers_exit_2_before_loading(argv: list[str], tmp_path: Path, run_cli) -> None:
    code, out, err = run_cli("train", str(tmp_path / "never-read.csv"), "--out", str(tmp_path / "r"), *argv)
    assert code == 2, err
    assert "never-read" not in err and out == ""


def test_out_naming_a_file_or_a_long_name_exits_2_before_loading(tmp_path: Path, run_cli) -> None:
    existing = tmp_path / "a-file"
    existing.write_text("x")
    for out_dir, message in ((existing, "it is a file"), (tmp_path / ("n" * 300), "shorter name")):
        code, out, err = run_cli("train", str(tmp_path / "never-read.csv"), "--out", str(out_dir))
        assert code == 2 and message in err and out == "", err


def test_config_bounds() -> None:
    for bad in (
        {"seed": -1},
        {"seed": 2**32},
        {"embedding_dim": 5000},
        {"batch_size": 10**7},
        {"negatives": 1001},
        {"epochs": 0},
        {"learning_rate": float("nan")},
        {"multipliers": {1.0: 1e12}},
        {"multipliers": {1.0: float("inf")}},
        {"seed": "42"},
    ):
        with pytest.raises(RecsysError, match="Invalid"):
            TrainConfig(**bad)
    TrainConfig(seed=2**32 - 1, multipliers={1.0: 1000.0})


def test_oversampled_rows_are_bounded() -> None:
    from recsys_core.data import oversampling_strategy

    with pytest.raises(RecsysError, match="training rows"):
        oversampling_strategy({1.0: 10**6, 5.0: 10}, {1.0: 1000.0})


def test_check_run_destination_accepts_new_and_empty_folders(tmp_path: Path) -> None:
    check_run_destination(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_run_destination(tmp_path / "empty")
    check_run_destination(None)
    shutil.rmtree(tmp_path / "empty")
