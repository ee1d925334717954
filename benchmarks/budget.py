"""The estimate of a run (``recsys_core.training.estimate_training``) next to the run itself.

For each ratings file: the estimate ``recsys train`` prints before starting (seconds per epoch,
peak memory), then ``recsys train FILE --epochs N`` as a whole process timed by ``/usr/bin/time
-v`` (peak resident memory) with its history's per-epoch seconds (training pass, validation,
rating head) and its CPU seconds. On a shared machine the wall clock of an epoch counts the
waits for a core; the estimate is for a machine to itself, so the CPU time of the whole process
is printed too.

Usage::

    .venv/bin/python benchmarks/budget.py FILE [FILE ...] [--epochs 2] [--recipe recommended]
    .venv/bin/python benchmarks/budget.py --measure     # the cost model measured here, now
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from recsys_core.config import TrainConfig
from recsys_core.data import load_ratings
from recsys_core.training import DataShape, estimate_training, measure_cost_model


def _shape(path: Path) -> DataShape:
    frame = load_ratings(path).frame
    counts = frame["rating"].value_counts()
    return DataShape(
        int(frame["user"].nunique()),
        int(frame["item"].nunique()),
        len(frame),
        {float(r): int(n) for r, n in counts.items()},
    )


def _measure(path: Path, recipe: str, epochs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        command = ["/usr/bin/time", "-v", sys.executable, "-m", "recsys_core.cli", "train", str(path)]
        command += ["--out", str(run), "--preset", recipe, "--epochs", str(epochs), "--quiet"]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        history = json.loads((run / "history.json").read_text())
    report = done.stderr
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1)) * 1024
    cpu = sum(
        float(re.search(rf"{k} time \(seconds\): ([\d.]+)", report).group(1)) for k in ("User", "System")
    )
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", report).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    mean = {
        k: sum(h[k] for h in history) / len(history)
        for k in ("seconds", "train_seconds", "validate_seconds", "head_seconds")
    }
    return {"peak": rss, "cpu": cpu, "wall": seconds, **mean}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--recipe", default="recommended")
    parser.add_argument("--measure", action="store_true", help="print the cost model measured now")
    args = parser.parse_args()
    if args.measure:
        print(measure_cost_model())
    for path in args.files:
        config = TrainConfig.preset(args.recipe, epochs=args.epochs)
        estimate = estimate_training(_shape(path), config)
        got = _measure(path, args.recipe, args.epochs)
        print(f"{path.name} ({args.recipe}, {args.epochs} epochs)")
        peak = estimate.peak_bytes / 1e9
        print(f"  estimate: {estimate.seconds_per_epoch:.2f} s per epoch, peak {peak:.2f} GB")
        print(
            f"  measured: {got['seconds']:.2f} s per epoch (train {got['train_seconds']:.2f}, validate "
            f"{got['validate_seconds']:.2f}, head {got['head_seconds']:.2f}), "
            f"peak {got['peak'] / 1e9:.2f} GB; "
            f"whole process {got['wall']:.1f} s wall, {got['cpu']:.1f} s CPU"
        )


if __name__ == "__main__":
    main()
