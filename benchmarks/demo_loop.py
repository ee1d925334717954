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
    .venv/bin/python benchmarks/demo_loop.py --both --before 4135e0c   # both files, with the old code
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


def _env(root: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
    return env


def _timed(command: list[str], root: Path = ROOT) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=_env(root), cwd=root, stdout=subprocess.DEVNULL)
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
        lines.append(
            f"blend: β={blend['weight']:g} of {len(blend['validation_ndcg'])} tried, "
            f"{blend.get('seconds', 0.0):.2f} s after training; similarity "
            f"{blend.get('similarity_seconds', 0.0):.2f} s (during training; before it, as its own "
            "stage, for tables of 256 MB or more)"
        )
    return lines


def _ndcg(run: Path, root: Path) -> tuple[float, float]:
    """NDCG@10 of the run's model and of the iALS rung of its own ladder (``recsys evaluate``)."""
    out = subprocess.run(
        _recsys("evaluate", str(run), "--json"), check=True, env=_env(root), cwd=root, capture_output=True
    )
    ranking = json.loads(out.stdout)["ranking"]
    ials = ranking["baselines"].get("ials", {})
    return ranking["model"]["ndcg_at_k"], ials.get("ndcg_at_k", float("nan"))


def _one_file(path: Path, folder: Path, args: argparse.Namespace, before: Path | None) -> None:
    """Every contender on ``path``, ``args.repeats`` times in turns; medians side by side."""
    contenders: dict[str, tuple[Path | None, list[float]]] = {"default recipe (now)": (ROOT, [])}
    if before is not None:
        contenders[f"default recipe ({args.before})"] = (before, [])
    contenders["implicit iALS 64 f, 15 it + top 10"] = (None, [])
    names = list(contenders)
    for repeat in range(args.repeats):
        # Turns rotate, so that a busy spell does not always fall on the same contender.
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            root, times = contenders[name]
            if root is None:
                command = [sys.executable, __file__, "--ials-process", str(path), str(folder / "ials.npy")]
                times.append(_timed(command))
            else:
                run = folder / f"{'now' if root == ROOT else 'before'}{repeat}"
                times.append(_timed(_recsys("train", str(path), "--out", str(run), "--quiet"), root))
        done = ", ".join(f"{n} {t[-1]:.1f} s" for n, (_, t) in contenders.items())
        print(f"{path.name} repeat {repeat + 1}: {done}", file=sys.stderr)
    ials_seconds = statistics.median(contenders[names[-1]][1])
    load = os.getloadavg()[0]
    print(f"\n## {path.name} (repeats {args.repeats}, medians; load average {load:.2f} at the end)")
    print("| process | wall s (median) | all | × iALS | NDCG@10 | iALS rung of its ladder |")
    print("|---|---|---|---|---|---|")
    for name, (root, times) in contenders.items():
        ndcg = rung = float("nan")
        if root is not None and not args.no_evaluate:
            ndcg, rung = _ndcg(folder / f"{'now' if root == ROOT else 'before'}0", root)
        wall = statistics.median(times)
        shown = " ".join(f"{t:.1f}" for t in times)
        print(f"| {name} | {wall:.1f} | {shown} | {wall / ials_seconds:.2f}× | {ndcg:.4f} | {rung:.4f} |")
    for label, run in (("now", folder / "now0"), (args.before, folder / "before0")):
        if run.exists():
            print(f"\nbreakdown ({label}):")
            for line in _breakdown(run):
                print("  " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--file", type=Path, help="ratings file (default: the demo data, generated)")
    parser.add_argument("--seed-shape", action="store_true", help="generate a file of the seed's shape")
    parser.add_argument("--both", action="store_true", help="the demo data and the seed-shaped file")
    parser.add_argument("--before", metavar="REV", help="also run the default recipe of this git revision")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-evaluate", action="store_true", help="skip NDCG@10 (recsys evaluate)")
    parser.add_argument("--ials-process", nargs=2, metavar=("FILE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ials_process:
        ials_main(*args.ials_process)
        return 0
    with tempfile.TemporaryDirectory(prefix="demo_loop_") as tmp:
        folder = Path(tmp)
        before = None
        if args.before:
            before = folder / "before_tree"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(before), args.before], cwd=ROOT, check=True
            )
        try:
            if args.file:
                files = [args.file]
            else:
                shapes = (
                    [DEMO_SHAPE, SEED_SHAPE] if args.both else [SEED_SHAPE if args.seed_shape else DEMO_SHAPE]
                )
                files = [_make_file(folder, shape) for shape in shapes]
            for i, path in enumerate(files):
                sub = folder / f"file{i}"
                sub.mkdir()
                _one_file(path, sub, args, before)
        finally:
            if before is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
