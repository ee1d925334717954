"""The ``recsys`` process's own collector settings: only for the process's command, never for a
caller that runs commands in its own long-lived process (tests, scripts, the app)."""

from __future__ import annotations

import gc
import sys

from recsys_core.cli import main


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
    try:
        assert main() == 0
        assert out.exists()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > thresholds[0]  # rarer passes while the command runs
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
