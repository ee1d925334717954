"""The CLI's progress bars (tqdm): drawn on a terminal, one per label, never into pipes or captures."""

from __future__ import annotations

import io
from pathlib import Path

from conftest import CliRunner

from recsys_core.cli._common import ProgressBar


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_its_unit_and_label() -> None:
    stream = Terminal()
    bar = ProgressBar(stream, unit="users")
    bar.update("top-N", 0, 1000)
    bar.update("top-N", 500, 1000)
    bar.clear()
    text = stream.getvalue()
    assert "top-N" in text and "users/s" in text and "/1000" in text


def test_a_new_label_starts_a_new_bar_and_clear_erases_it() -> None:
    stream = Terminal()
    bar = ProgressBar(stream)
    bar.update("epoch 1", 5, 10)
    first = bar._bar
    bar.update("epoch 2", 1, 10)
    assert bar._bar is not first and first.disable and bar._bar.n == 1  # the first one is closed
    assert "epoch 2" in stream.getvalue() and "batches/s" in stream.getvalue()
    bar.clear()
    assert bar._bar is None and stream.getvalue().endswith("\r")  # leave=False: the line is erased


def test_nothing_is_written_off_a_terminal_or_when_quiet() -> None:
    piped = io.StringIO()
    bar = ProgressBar(piped)
    bar.update("epoch 1", 1, 2)
    bar.update("epoch 2", 2, 2)
    bar.clear()
    quiet = Terminal()
    silent = ProgressBar(quiet, enabled=False)
    silent.update("epoch 1", 1, 2)
    silent.clear()
    assert piped.getvalue() == "" and quiet.getvalue() == ""


def test_training_through_the_cli_writes_no_progress_into_captured_stderr(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    from recsys_core.data import write_demo_csv

    data = tmp_path / "ratings.csv"
    write_demo_csv(data, n_users=60, n_items=30, n_ratings=900, seed=1)
    code, out, err = run_cli(
        "train", str(data), "--out", str(tmp_path / "run"), "--preset", "fast", "--epochs", "2"
    )
    assert code == 0 and "epoch   2" in out
    # The estimate before training is the one line there: no bar, no carriage returns.
    assert [line for line in err.splitlines() if not line.startswith("estimate: about")] == []
    assert "\r" not in err
