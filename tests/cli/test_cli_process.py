"""The ``recsys`` process's own collector settings and quick exit: only for the process's
command, never for a caller that runs commands in its own long-lived process (tests, scripts,
the app)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

from recsys_core.cli import _main, main

ROOT = Path(__file__).resolve().parents[2]


def test_a_command_run_from_python_leaves_the_collector_alone(tmp_path) -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert main(["demo-data", "--out", str(tmp_path / "demo.csv"), "--ratings", "500"]) == 0
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen


def test_the_process_command_skips_the_last_collection(tmp_path, monkeypatch) -> None:
    """As ``recsys …`` (argv from the command line), what is left is frozen for the exit: the
    interpreter's last collection would walk it for nothing."""
    thresholds = gc.get_threshold()
    out = tmp_path / "demo.csv"
    monkeypatch.setattr(sys, "argv", ["recsys", "demo-data", "--out", str(out), "--ratings", "500"])
    left = []
    monkeypatch.setattr(_main, "_leave", left.append)  # the real one would end pytest's process
    try:
        assert main() == 0
        assert left == [0]
        assert out.exists()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > thresholds[0]  # rarer passes while the command runs
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_the_process_ends_without_teardown_with_its_output_whole(tmp_path) -> None:
    """``python -m recsys_core.cli``: every line printed and every file written, the exit status
    kept, the exit handlers run (a registered one prints), the interpreter's teardown skipped."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('handler ran', flush=True))\n"
        "from recsys_core.cli import main\n"
        "sys.argv = ['recsys'] + sys.argv[1:]\n"
        "sys.exit(main())\n"
        "print('never here')\n"
    )
    out = tmp_path / "demo.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", script, "demo-data", "--out", str(out), "--ratings", "2000"],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "handler ran" in run.stdout and "never here" not in run.stdout
    assert len(out.read_text().splitlines()) == 2001  # the header and every rating
    bad = subprocess.run(
        [sys.executable, "-c", script, "inspect", str(tmp_path / "missing.csv")],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and "error:" in bad.stderr and "handler ran" in bad.stdout


def test_no_quick_exit_while_another_thread_may_write(monkeypatch) -> None:
    ended = []
    monkeypatch.setattr(_main.os, "_exit", ended.append)
    release = threading.Event()
    writer = threading.Thread(target=release.wait)  # not a daemon: it might still be writing
    writer.start()
    try:
        _main._leave(0)
        assert ended == []
    finally:
        release.set()
        writer.join()
    monkeypatch.setattr(_main.atexit, "_run_exitfuncs", lambda: None)
    _main._leave(3)
    assert ended == [3]
