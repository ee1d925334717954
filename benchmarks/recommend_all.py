"""Everyone's top-N at full Amazon size: ours vs ``implicit`` vs a plain numpy loop.

The model is full size (4.2 M customers, 476 k products, embedding 16, random factors and
biases) with a seen matrix of ~7.8 M random pairs. Each contender runs in its own child process
(so peak memory, ``ru_maxrss``, is its own) on the same factors, with the biases folded into two
extra dimensions (``[p_u, b_u, 1] . [q_i, 1, b_i]``), excluding seen products:

* ``ours``: :func:`recsys_core.topn.recommend_all_to_parquet`, end to end (Parquet
  file with string ids included);
* ``implicit``: ``AlternatingLeastSquares.recommend(userids, user_items, N,
  filter_already_liked_items=True)`` with the factors set, in batches of 100 k customers;
* ``numpy``: a loop of ``matmul`` + ``argpartition`` over blocks of customers.

``--users N`` times the first N customers and extrapolates to all; ``--all`` does everyone.

Usage::

    .venv/bin/python benchmarks/recommend_all.py --users 20000
    .venv/bin/python benchmarks/recommend_all.py --all             # ~35 min per contender
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # model_runs

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

USERS, ITEMS, PAIRS, DIM = 4_200_000, 476_000, 7_800_000, 16
CONTENDERS = ("ours", "implicit", "numpy")


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def factors(users: int, items: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Random factors and biases, and the seen pairs (codes), the same in every child."""
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 0.1, (users, DIM)).astype(np.float32)
    q = rng.normal(0, 0.1, (items, DIM)).astype(np.float32)
    bu = rng.normal(0, 0.1, users).astype(np.float32)
    bi = rng.normal(0, 0.1, items).astype(np.float32)
    pairs = round(PAIRS * users / USERS)
    seen_u = rng.integers(0, users, pairs)
    seen_i = rng.integers(0, items, pairs)
    return p, q, bu, bi, seen_u, seen_i


def folded(p: np.ndarray, q: np.ndarray, bu: np.ndarray, bi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ones_u, ones_i = np.ones((len(p), 1), np.float32), np.ones((len(q), 1), np.float32)
    return np.hstack([p, bu[:, None], ones_u]), np.hstack([q, ones_i, bi[:, None]])


def seen_matrix(seen_u: np.ndarray, seen_i: np.ndarray, users: int, items: int) -> sp.csr_matrix:
    from recsys_core.topn import build_seen_matrix

    return build_seen_matrix(seen_u, seen_i, users, items)


def run_ours(data: tuple[np.ndarray, ...], sample: int, n: int) -> None:
    import torch
    from model_runs import model_run

    from recsys_core.config import TrainConfig
    from recsys_core.model import NCF
    from recsys_core.topn import recommend_all_to_parquet

    p, q, bu, bi, seen_u, seen_i = data
    model = NCF(1, 1, DIM)
    for name, values in (("user_embedding", p), ("item_embedding", q), ("user_bias", bu), ("item_bias", bi)):
        setattr(
            model, name, torch.nn.Embedding.from_pretrained(torch.from_numpy(values.reshape(len(values), -1)))
        )
    model.n_users, model.n_items = len(p), len(q)
    width_u, width_i = len(str(len(p))), len(str(len(q)))
    users = [f"A{i:0{width_u}d}" for i in range(len(p))]
    items = [f"B{i:0{width_i}d}" for i in range(len(q))]
    run = model_run(model, users, items, seen_u, seen_i, name="bench", config=TrainConfig())
    run.seen_matrix()
    base = rss_mb()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = recommend_all_to_parquet(
            run, Path(folder) / "top.parquet", n, threads=os.cpu_count(), max_users=sample
        )
        report(start, sample, base, rows=result.rows)


def run_implicit(data: tuple[np.ndarray, ...], sample: int, n: int) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    p, q, bu, bi, seen_u, seen_i = data
    users_f, items_f = folded(p, q, bu, bi)
    seen = seen_matrix(seen_u, seen_i, len(p), len(q)).astype(np.float32)
    model = AlternatingLeastSquares(factors=DIM + 2)
    model.user_factors, model.item_factors = users_f, items_f
    base = rss_mb()
    start = time.perf_counter()
    rows = 0
    for lo in range(0, sample, 100_000):
        ids = np.arange(lo, min(lo + 100_000, sample))
        items, _ = model.recommend(ids, seen[ids], N=n, filter_already_liked_items=True)
        rows += int((items >= 0).sum())
    report(start, sample, base, rows=rows)


def run_numpy(data: tuple[np.ndarray, ...], sample: int, n: int, block: int = 64) -> None:
    p, q, bu, bi, seen_u, seen_i = data
    users_f, items_f = folded(p, q, bu, bi)
    seen = seen_matrix(seen_u, seen_i, len(p), len(q))
    base = rss_mb()
    start = time.perf_counter()
    rows = 0
    for lo in range(0, sample, block):
        hi = min(lo + block, sample)
        scores = users_f[lo:hi] @ items_f.T
        part = seen[lo:hi]
        scores[np.repeat(np.arange(hi - lo), np.diff(part.indptr)), part.indices] = -np.inf
        top = np.argpartition(-scores, n, axis=1)[:, :n]
        order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1)
        rows += np.take_along_axis(top, order, 1).size
    report(start, sample, base, rows=rows)


def report(start: float, users: int, base: float, rows: int) -> None:
    seconds = time.perf_counter() - start
    print(
        json.dumps({"users": users, "seconds": seconds, "rows": rows, "base_mb": base, "peak_mb": peak_mb()})
    )


def child(args: argparse.Namespace) -> None:
    data = factors(USERS, ITEMS)
    sample = USERS if args.all else min(args.users, USERS)
    {"ours": run_ours, "implicit": run_implicit, "numpy": run_numpy}[args.contender](data, sample, args.n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000, help="time the first N customers")
    parser.add_argument("--all", action="store_true", help="every customer (4.2 M)")
    parser.add_argument("-n", "--n", type=int, default=10)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:
        child(args)
        return
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{USERS:,} customers x {ITEMS:,} products, dim {DIM}, {PAIRS:,} seen pairs, top-{args.n}; "
          f"{os.cpu_count()} cores; load average {load}")  # fmt: skip
    print(f"{'contender':<10} {'users':>10} {'seconds':>9} {'users/s':>9} {'all 4.2 M':>10} "
          f"{'model MB':>9} {'peak MB':>9} {'beyond':>8}")  # fmt: skip
    for name in args.contenders.split(","):
        command = [
            sys.executable,
            __file__,
            "--contender",
            name,
            "--users",
            str(args.users),
            "--n",
            str(args.n),
        ]
        command += ["--all"] if args.all else []
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{name:<10} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        rate = r["users"] / r["seconds"]
        print(
            f"{name:<10} {r['users']:>10,} {r['seconds']:>9.1f} {rate:>9,.0f} {USERS / rate / 60:>8.1f} m "
            f"{r['base_mb']:>9,.0f} {r['peak_mb']:>9,.0f} {r['peak_mb'] - r['base_mb']:>8,.0f}"
        )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
