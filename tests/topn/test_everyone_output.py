"""Everyone's lists never replace a file silently, have one writer per output, and a full disk
keeps the finished parts for the resume (issue 23, items 5, 6 and 10)."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import CliRunner
from run_files_kit import make_run

from recsys_core.errors import RecsysError
from recsys_core.files import Busy, exclusive
from recsys_core.runs import save_run
from recsys_core.topn import recommend_all_to_parquet, staging_folder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    return save_run(make_run(n_users=60, n_items=80, seed=5), tmp_path / "run")


def everyone(run_cli: CliRunner, run: Path, out: Path, *more: str) -> tuple[int, str, str]:
    return run_cli(
        "recommend", str(run), "--all-users", "--out", str(out), "-n", "3", "--block-users", "16", *more
    )


# -- item 5: an existing file is never replaced silently ----------------------------------------


def test_a_csv_name_is_refused_and_the_file_kept(saved_run: Path, tmp_path: Path, run_cli: CliRunner) -> None:
    victim = tmp_path / "victim.csv"
    victim.write_text("user,item,rating\nu,p,5\n")
    for extra in ((), ("--overwrite",)):
        code, _, err = everyone(run_cli, saved_run, victim, *extra)
        assert code == 2 and "must be a .parquet file" in err and err.count("\n") == 1
    assert victim.read_text() == "user,item,rating\nu,p,5\n"


def test_an_existing_parquet_needs_overwrite(saved_run: Path, tmp_path: Path, run_cli: CliRunner) -> None:
    out = tmp_path / "top.parquet"
    out.write_bytes(b"mine")
    code, _, err = everyone(run_cli, saved_run, out)
    assert code == 2 and "already exists" in err and "--overwrite" in err
    assert out.read_bytes() == b"mine" and not staging_folder(out).exists()
    code, _, err = everyone(run_cli, saved_run, out, "--overwrite")
    assert code == 0, err
    assert pd.read_parquet(out).groupby("user").size().max() == 3


def test_the_library_refuses_an_existing_output_too(tmp_path: Path) -> None:
    run = make_run(n_users=10, n_items=20, seed=1)
    out = tmp_path / "top.parquet"
    recommend_all_to_parquet(run, out, 2)
    with pytest.raises(RecsysError, match="already exists"):
        recommend_all_to_parquet(run, out, 2)
    with pytest.raises(RecsysError, match=r"\.parquet file"):
        recommend_all_to_parquet(run, tmp_path / "top.csv", 2, overwrite=True)
    assert recommend_all_to_parquet(run, out, 2, overwrite=True).rows == 20


# -- item 6: one writer per output ----------------------------------------------------------------


def lock_of(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def test_a_second_writer_is_told_who_holds_the_output(
    saved_run: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    out = tmp_path / "top.parquet"
    with exclusive(lock_of(out)):  # another open file description: flock refuses it like a process
        code, _, err = everyone(run_cli, saved_run, out)
        assert code == 2 and err.count("\n") == 1
        assert f"Process {os.getpid()} on {socket.gethostname()[:64]}, started " in err
        assert " UTC is already writing everyone's lists" in err
        assert not out.exists()
    assert not lock_of(out).exists()  # the holder removed its lock file
    code, _, err = everyone(run_cli, saved_run, out)
    assert code == 0, err
    assert not lock_of(out).exists()


def test_a_lock_file_left_by_a_killed_writer_does_not_block(
    saved_run: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    out = tmp_path / "top.parquet"
    lock_of(out).write_text(json.dumps({"pid": 999999, "started": 1.0}))  # nobody holds its flock
    code, _, err = everyone(run_cli, saved_run, out)
    assert code == 0, err


_HOLD = """
import sys, time
from recsys_core.files import exclusive
with exclusive(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.mark.slow  # a second Python process holds the lock
def test_another_process_holding_the_output_is_named(
    saved_run: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    out = tmp_path / "top.parquet"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(lock_of(out))],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Busy) as busy, exclusive(lock_of(out)):
            pass
        assert busy.value.holder["pid"] == holder.pid
        code, _, err = everyone(run_cli, saved_run, out)
        assert code == 2 and f"Process {holder.pid} on " in err and ", started " in err
        year = time.strftime("%Y", time.gmtime())
        assert year in err
    finally:
        holder.kill()
        holder.wait()
    code, _, err = everyone(run_cli, saved_run, out)  # the lock went with its process
    assert code == 0, err


# -- item 10: a full disk ------------------------------------------------------------------------


def test_a_full_disk_is_a_plain_message_and_keeps_the_parts(
    saved_run: Path, tmp_path: Path, run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "top.parquet"
    real_write = pq.write_table
    written: list[object] = []

    def fills_up(table, where, *args, **kwargs):
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(where))
        written.append(where)
        return real_write(table, where, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", fills_up)
    code, out_text, err = everyone(run_cli, saved_run, out, "--quiet")
    assert code == 2 and out_text == "" and err.count("\n") == 1
    assert "the disk is full (No space left on device)" in err
    assert "The 2 finished part(s) are kept in" in err and "rerun the same command" in err
    assert "internal error" not in err and not out.exists()
    staging = staging_folder(out)
    assert sorted(p.name for p in staging.glob("part-*.json")) == ["part-000000.json", "part-000001.json"]
    assert not list(tmp_path.glob(".*.tmp")) and not list(staging.glob(".*.tmp"))

    monkeypatch.setattr(pq, "write_table", real_write)
    code, out_text, err = everyone(run_cli, saved_run, out, "--quiet")
    assert code == 0, err
    assert "2 part(s) kept from an earlier run" in out_text
    assert len(pd.read_parquet(out)) == 60 * 3


def test_another_write_failure_names_its_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = make_run(n_users=10, n_items=20, seed=2)

    def refuses(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(pq, "write_table", refuses)
    with pytest.raises(RecsysError, match=r"could not be written \(Input/output error\)\. The 0 finished"):
        recommend_all_to_parquet(run, tmp_path / "top.parquet", 2)
