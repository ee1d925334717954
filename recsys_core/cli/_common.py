"""What the ``recsys`` commands share: the argparse error contract, JSON and number output,
the progress bar, column mappings, the training options of ``train`` and ``sweep``, and run loading.

Imported by the argument parser, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from recsys_core.errors import RecsysError
from recsys_core.limits import MAX_LIST_CELLS

if TYPE_CHECKING:
    from tqdm import tqdm

    from recsys_core.config import TrainConfig
    from recsys_core.data import ColumnMap
    from recsys_core.runs import Run


class Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes through the same one-line contract."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise RecsysError(f"{message} (see `{self.prog} --help`)")


def parse_columns(text: str | None) -> ColumnMap | None:
    """The ``--columns`` mapping, or ``None`` to let the loader detect the columns."""
    from recsys_core.data import ColumnMap

    return ColumnMap.parse(text) if text else None


def fmt(value: float | None, digits: int = 4) -> str:
    """A metric for humans: ``n/a`` when undefined (e.g. AUC with one class in the test split)."""
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


class ProgressBar:
    """tqdm bars for ``(label, done, total)`` reports: a fresh bar whenever the label changes (one
    per epoch), none at all when ``enabled`` is false or ``stream`` is not a terminal (tqdm's own
    test), so piped and captured output stays clean.

    Parameters
    ----------
    stream
        Where the bar is drawn (``sys.stderr``).
    enabled
        ``False`` for ``--quiet`` and for the ranks of a distributed job that do not print.
    unit
        What ``done`` counts, shown in the rate (``batches/s``, ``users/s``).
    """

    def __init__(self, stream: TextIO, *, enabled: bool = True, unit: str = "batches") -> None:
        self.stream = stream
        self.enabled = enabled
        self.unit = unit
        self._bar: tqdm | None = None
        self._label: str | None = None

    def update(self, label: str, done: int, total: int) -> None:
        """Show ``done`` of ``total`` under ``label`` (tqdm throttles the redraws)."""
        if not self.enabled:
            return
        if self._bar is None or label != self._label:
            from tqdm import tqdm

            self.clear()
            # leave=False: a finished bar is erased, so the epoch's summary line takes its place.
            self._bar = tqdm(
                total=total, initial=done, desc=label, unit=self.unit, file=self.stream, leave=False,
                disable=None, mininterval=0.2, dynamic_ncols=True,
            )  # fmt: skip
            self._label = label
        self._bar.update(done - self._bar.n)

    def clear(self) -> None:
        """Erase the bar (before printing a line of results, and at the end)."""
        if self._bar is not None:
            self._bar.close()
        self._bar, self._label = None, None


def check_cells(max_users: int, k: int) -> None:
    """``--max-users`` x ``--k`` within :data:`~recsys_core.limits.MAX_LIST_CELLS` (known before
    loading when a sample is asked for; all users are checked once the run is loaded)."""
    if max_users and max_users * k > MAX_LIST_CELLS:
        raise RecsysError(
            f"--max-users {max_users:,} x --k {k:,} would hold {max_users * k:,} products at once (at most "
            f"{MAX_LIST_CELLS:,}); lower one of them."
        )


def print_json(obj: Any, out: TextIO) -> None:
    """``obj`` as indented JSON, numpy scalars and arrays included."""
    out.write(json.dumps(obj, indent=2, default=json_default) + "\n")


def json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def add_date_format_option(parser: argparse.ArgumentParser) -> None:
    """``--date-format``, for every command that loads a ratings file."""
    parser.add_argument(
        "--date-format",
        metavar="FORMAT",
        help="how the file writes its dates, in strftime codes, e.g. %%d/%%m/%%Y (needed when "
        "day and month cannot be told apart)",
    )


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """The recipe options of ``train`` (and ``sweep``), read back by :func:`config_from_args`."""
    parser.add_argument(
        "--preset",
        default="recommended",
        help="recommended (default): the best top-N lists of the project; fast: a quicker hybrid; "
        "notebook: the reference recipe exactly, which learns only from the ratings given and so "
        "ranks unseen products below 'most popular'",
    )
    parser.add_argument(
        "--oversample",
        help="per-class multipliers, e.g. 1=2.5,2=3,3=2 (1 = untouched); with the default softmax "
        "recipe they weigh each rating and may be below 1 (0 leaves the class out), otherwise they copy rows",
    )
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--dim", type=int, help="embedding size")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float, help="Adam learning rate")
    parser.add_argument("--threshold", type=float, help="score at or above it predicts 'likes it'")
    parser.add_argument("--split", help="auto, leave-last-out, random or temporal")
    parser.add_argument("--objective", help="rating, ranking, hybrid or softmax")
    parser.add_argument("--negatives", type=int, help="sampled unrated products per rating (ranking)")
    parser.add_argument("--device", help="auto, cpu or cuda")
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--neighbours",
        type=int,
        metavar="K",
        help="item-kNN blend: similar products kept per product, its weight chosen on validation "
        "(0 = no blend; recommended preset: 200)",
    )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` the options of :func:`add_train_options` describe."""
    from recsys_core.config import TrainConfig, parse_multipliers

    overrides = {
        "epochs": args.epochs,
        "embedding_dim": args.dim,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "split": args.split,
        "seed": args.seed,
        "threshold": args.threshold,
        "objective": args.objective,
        "negatives": args.negatives,
        "device": args.device,
        "neighbours": args.neighbours,
    }
    if args.oversample is not None:
        overrides["multipliers"] = parse_multipliers(args.oversample)
    return TrainConfig.preset(args.preset, **overrides)


def load_run_arg(text: str, runs_dir: str | None) -> Run:
    """A run folder, or with ``--runs-dir`` a run id in that runs folder."""
    from recsys_core.runs import RunRegistry, load_run

    return RunRegistry(runs_dir).load(text) if runs_dir else load_run(Path(text))
