"""The default recipe against implicit's iALS, each as a whole process, on the same ratings file.

Each repeat runs, as separate processes timed by the wall clock (imports, loading and saving
included, as a user would wait for them):

* ``recsys train FILE --out DIR`` with the default recipe (``TrainConfig()``);
* an iALS script: ``implicit``'s ``AlternatingLeastSquares`` (64 factors, 15 iterations, its
  default regularisation), fitted on every rating of the file, then everyone's top 10 with the
  products they rated left out.

The two alternate their order from one repeat to the next (a busy machine slows both alike);
medians are reported. Quality: ``recsys evaluate RUN --json`` on the first run gives NDCG@10 of
the run's model and of the iALS rung of its own ladder (fitted on the run's training pairs, tuned
on its validation pairs, scored on its test pairs: the same leave-last-out split). The run's
history and ``stage_seconds`` then split the default recipe's time: per epoch the optimiser's
pass, the rating head, validation and the best-epoch snapshot; per run loading, training, the
blend, evaluation, and what is left of the process (imports, saving).

Usage::

    .venv/bin/python benchmarks/demo_loop.py                    # demo data (100k ratings)
    .venv/bin/python benchmarks/demo_loop.py --file ratings.csv --repeats 3
    .venv/bin/python benchmarks/demo_loop.py --seed-shape       # 90,050 x 48,769, ~1.09 M ratings
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The seed data's shape (customers, products, ratings) for ``--seed-shape``.
SEED_SHAPE = (90_050, 48_769, 1_090_000)
DEMO_SHAPE = (5_000, 2_000, 100_000)


def ials_main(path: str, out: str) -> None:
    """The iALS process: read, fit, everyone's top 10 (imports here so that they are timed)."""
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    frame = pd.read_csv(path)
    users, _ = pd.factorize(frame.iloc[:, 0])
    items, _ = pd.factorize(frame.iloc[:, 1])
    shape = (int(users.max()) + 1, int(items.max()) + 1)
    matrix = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=shape)
    matrix.data[:] = 1.0  # repeated pairs count once
    # implicit wants one BLAS thread (its many small solves); its own threads use every core.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=64, iterations=15, random_state=42)
        model.fit(matrix, show_progress=False)
        ids, _ = model.recommend(np.arange(shape[0]), matrix, N=10, filter_already_liked_items=True)
    np.save(out, ids)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _recsys(*args: str) -> list[str]:
    return [sys.executable, "-m", "recsys_core.cli", *args]


def _make_file(folder: Path, shape: tuple[int, int, int]) -> Path:
    from recsys_core.data import write_demo_csv

    n_users, n_items, n_ratings = shape
    path = folder / f"demo_{n_users}x{n_items}.csv"
    write_demo_csv(path, n_users=n_users, n_items=n_items, n_ratings=n_ratings, seed=42)
    return path


def _breakdown(run: Path) -> list[str]:
    """The default recipe's time, from the run's own history and stage times."""
    history = json.loads((run / "history.json").read_text())
    split = json.loads((run / "split.json").read_text())
    parts = ("train", "head", "validate", "snapshot")
    totals = {p: sum(e.get(f"{p}_seconds", 0.0) for e in history) for p in parts}
    stages = split["stage_seconds"]
    lines = [
        f"epochs run {len(history)}, best epoch {split['best_epoch']} "
        f"(epochs after the best: {len(history) - split['best_epoch']})",
        "per epoch (median s): "
        + ", ".join(
            f"{p} {statistics.median(e.get(f'{p}_seconds', 0.0) for e in history):.3f}" for p in parts
        ),
        "all epochs (s): " + ", ".join(f"{p} {totals[p]:.2f}" for p in parts),
        "stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()),
    ]
    blend = split.get("blend") or {}
    if blend:
        lines.append(f"blend: β={blend['weight']:g} of {len(blend['validation_ndcg'])} tried")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--file", type=Path, help="ratings file (default: the demo data, generated)")
    parser.add_argument("--seed-shape", action="store_true", help="generate a file of the seed's shape")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-evaluate", action="store_true", help="skip NDCG@10 (recsys evaluate)")
    parser.add_argument("--ials-process", nargs=2, metavar=("FILE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ials_process:
        ials_main(*args.ials_process)
        return 0
    with tempfile.TemporaryDirectory(prefix="demo_loop_") as tmp:
        folder = Path(tmp)
        path = args.file or _make_file(folder, SEED_SHAPE if args.seed_shape else DEMO_SHAPE)
        recipe: list[float] = []
        ials: list[float] = []
        for repeat in range(args.repeats):
            run = folder / f"run{repeat}"
            jobs = [
                (recipe, _recsys("train", str(path), "--out", str(run), "--quiet")),
                (ials, [sys.executable, __file__, "--ials-process", str(path), str(folder / "ials.npy")]),
            ]
            for times, command in jobs if repeat % 2 == 0 else jobs[::-1]:
                times.append(_timed(command))
            print(f"repeat {repeat + 1}: default {recipe[-1]:.1f} s, iALS {ials[-1]:.1f} s", file=sys.stderr)
        ndcg_model = ndcg_ials = float("nan")
        if not args.no_evaluate:
            out = subprocess.run(
                _recsys("evaluate", str(folder / "run0"), "--json"),
                check=True,
                env=_env(),
                capture_output=True,
            )
            ranking = json.loads(out.stdout)["ranking"]
            ndcg_model = ranking["model"]["ndcg_at_k"]
            ndcg_ials = ranking["baselines"]["ials"]["ndcg_at_k"]
        a, b = statistics.median(recipe), statistics.median(ials)
        print(f"file: {path.name}, repeats {args.repeats} (medians; all: default {recipe}, iALS {ials})")
        print("| process | wall s (median) | NDCG@10 |")
        print("|---|---|---|")
        print(f"| recsys train (default recipe) | {a:.1f} | {ndcg_model:.4f} |")
        print(f"| implicit iALS 64 f, 15 it + top 10 | {b:.1f} | {ndcg_ials:.4f} (ladder rung) |")
        print(f"ratio default / iALS: {a / b:.2f}x")
        for line in _breakdown(folder / "run0"):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
