"""Everyone's top-N at full Amazon size: ours (with the item-kNN blend and without) vs
``implicit`` vs a plain numpy loop.

The model is full size (4.2 M customers, 476 k products, embedding 64 as the default recipe's,
random factors and biases) with a seen matrix of ~7.8 M random pairs, and the default recipe's
blend: ``S = item_similarity(seen, 200 neighbours, shrink 20)`` built from those pairs (once,
timed on its own) and a weight ``β``. ``--similarity full`` replaces it by 200 random neighbours
for every product (95 M entries), the most the recipe keeps: random pairs give each product only
the few neighbours its ~16 customers co-rated, real data with popular products gives more. The
data is made once and handed to every contender, each in its own child process (so peak memory,
``VmHWM``, and CPU time are its own), on the same factors, with the biases folded into two extra
dimensions (``[p_u, b_u, 1] . [q_i, 1, b_i]``), excluding seen products:

* ``ours+blend``: :func:`recsys_core.topn.recommend_all_to_parquet` of the run with its blend
  (``logit + β · (X_u @ S)``), end to end (fingerprint, Parquet file with string ids included);
* ``ours``: the same without the blend;
* ``implicit``: ``AlternatingLeastSquares.recommend(userids, user_items, N,
  filter_already_liked_items=True)`` with the factors set, in batches of 100 k customers;
* ``numpy``: a loop of ``matmul`` + ``argpartition`` over blocks of customers.

Neither peer has a blend (implicit has none): ``implicit`` on the same factors is the peer to
beat. Customers per CPU-second (all threads) is the figure a loaded machine blurs least.
``--users N`` times the first N customers and extrapolates to all (ours: its fixed cost,
the fingerprint of the 4.2 M-customer model, once plus the steady rate of its blocks); ``--all``
does everyone.

Usage::

    .venv/bin/python benchmarks/recommend_all.py --users 20000
    .venv/bin/python benchmarks/recommend_all.py --users 20000 --similarity full
    .venv/bin/python benchmarks/recommend_all.py --all             # an hour or more per contender
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

USERS, ITEMS, PAIRS, DIM = 4_200_000, 476_000, 7_800_000, 64
NEIGHBOURS, SHRINK, BETA = 200, 20.0, 0.3  # the default recipe's blend; β: any, the cost is the same
CONTENDERS = ("ours+blend", "ours", "implicit", "numpy")


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_mb() -> float:
    """This process's peak resident memory since it started (``VmHWM``: unlike ``ru_maxrss``, it
    does not carry the parent's resident memory over ``fork`` + ``exec``)."""
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024 / 1e6


def clock() -> tuple[float, float]:
    """(wall, CPU) seconds: CPU time of every thread, the measure a loaded machine blurs least."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime


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


def prepare(folder: Path, similarity: str) -> dict:
    """Make the data once into ``folder`` (``.npy`` files and ``S.npz``); returns what it took."""
    start = time.perf_counter()
    data = factors(USERS, ITEMS)
    for name, values in zip(NAMES, data, strict=True):
        np.save(folder / f"{name}.npy", values)
    made = time.perf_counter() - start
    seen = seen_matrix(data[4], data[5], USERS, ITEMS)
    del data
    start = time.perf_counter()
    if similarity == "real":
        from recsys_core.baselines import item_similarity

        s = item_similarity(seen, NEIGHBOURS, SHRINK)
    else:  # 200 random neighbours for every product, the most the recipe keeps
        rng = np.random.default_rng(1)
        rows = rng.integers(0, ITEMS, ITEMS * NEIGHBOURS)
        cols = np.repeat(np.arange(ITEMS), NEIGHBOURS)
        s = sp.csr_matrix((rng.random(len(rows), dtype=np.float32), (rows, cols)), shape=(ITEMS, ITEMS))
        s.sum_duplicates()
        s.sort_indices()
    built = time.perf_counter() - start
    sp.save_npz(folder / "S.npz", s.astype(np.float32), compressed=False)
    return {"made": made, "similarity": built, "nnz": s.nnz, "peak": peak_mb()}


NAMES = ("p", "q", "bu", "bi", "seen_u", "seen_i")


def load(folder: Path) -> tuple[np.ndarray, ...]:
    return tuple(np.load(folder / f"{name}.npy") for name in NAMES)


def folded(p: np.ndarray, q: np.ndarray, bu: np.ndarray, bi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ones_u, ones_i = np.ones((len(p), 1), np.float32), np.ones((len(q), 1), np.float32)
    return np.hstack([p, bu[:, None], ones_u]), np.hstack([q, ones_i, bi[:, None]])


def seen_matrix(seen_u: np.ndarray, seen_i: np.ndarray, users: int, items: int) -> sp.csr_matrix:
    from recsys_core.topn import build_seen_matrix

    return build_seen_matrix(seen_u, seen_i, users, items)


def run_ours(data: tuple[np.ndarray, ...], sample: int, n: int, blend: sp.csr_matrix | None = None) -> None:
    import torch
    from model_runs import model_run

    from recsys_core.config import TrainConfig
    from recsys_core.model import NCF, Blend
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
    if blend is not None:
        run.blend = Blend(blend, BETA)
    run.seen_matrix()
    base = rss_mb()
    ticks: list[tuple[float, int]] = []  # (time, customers done) after every block

    def progress(done: int, total: int) -> None:
        ticks.append((time.perf_counter(), done))

    with tempfile.TemporaryDirectory() as folder:
        start = clock()
        result = recommend_all_to_parquet(
            run, Path(folder) / "top.parquet", n, threads=os.cpu_count(), max_users=sample, progress=progress
        )
        # Steady rate: from the first block's end to the last's; the rest is the fixed cost.
        (t0, d0), (t1, d1) = ticks[0], ticks[-1]
        rate = (d1 - d0) / (t1 - t0) if d1 > d0 and t1 > t0 else None
        report(start, sample, base, rows=result.rows, rate=rate)


def run_implicit(data: tuple[np.ndarray, ...], sample: int, n: int) -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    p, q, bu, bi, seen_u, seen_i = data
    users_f, items_f = folded(p, q, bu, bi)
    seen = seen_matrix(seen_u, seen_i, len(p), len(q)).astype(np.float32)
    model = AlternatingLeastSquares(factors=DIM + 2)
    model.user_factors, model.item_factors = users_f, items_f
    base = rss_mb()
    start = clock()
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
    start = clock()
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


def report(start: tuple[float, float], users: int, base: float, rows: int, rate: float | None = None) -> None:
    wall, cpu = clock()
    seconds, cpu = wall - start[0], cpu - start[1]
    # All customers: a fixed cost once (what the steady rate does not explain) plus the steady rate.
    rate = rate or users / seconds
    fixed = max(0.0, seconds - users / rate)
    record = {
        "users": users,
        "seconds": seconds,
        "cpu": cpu,
        "rows": rows,
        "base_mb": base,
        "peak_mb": peak_mb(),
    }
    print(json.dumps(record | {"all_seconds": fixed + USERS / rate, "fixed": fixed}))


def child(args: argparse.Namespace) -> None:
    folder = Path(args.data)
    data = load(folder)
    sample = USERS if args.all else min(args.users, USERS)
    if args.contender == "ours+blend":
        run_ours(data, sample, args.n, sp.load_npz(folder / "S.npz").tocsr())
        return
    {"ours": run_ours, "implicit": run_implicit, "numpy": run_numpy}[args.contender](data, sample, args.n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000, help="time the first N customers")
    parser.add_argument("--all", action="store_true", help="every customer (4.2 M)")
    parser.add_argument("-n", "--n", type=int, default=10)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument(
        "--similarity",
        choices=("real", "full"),
        default="real",
        help="the blend's S: item_similarity of the seen pairs, or 200 random neighbours per product",
    )
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.contender:
        child(args)
        return
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{USERS:,} customers x {ITEMS:,} products, dim {DIM}, {PAIRS:,} seen pairs, top-{args.n}; "
          f"{os.cpu_count()} cores; load average {load_avg}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="recommend_all.") as folder:
        made = prepare(Path(folder), args.similarity)
        print(f"data made in {made['made']:.1f} s; S ({args.similarity}, {NEIGHBOURS} neighbours, "
              f"shrink {SHRINK:g}): {made['nnz']:,} entries ({made['nnz'] / ITEMS:.1f} per product) "
              f"built in {made['similarity']:.1f} s (peak {made['peak']:,.0f} MB, with the data); "
              f"blend weight {BETA}")  # fmt: skip
        print(f"{'contender':<11} {'users':>8} {'seconds':>8} {'users/s':>8} {'CPU s':>7} "
              f"{'users/CPU s':>11} {'fixed s':>7} {'all 4.2 M':>10} {'model MB':>9} {'peak MB':>8} "
              f"{'beyond':>7}")  # fmt: skip
        for name in args.contenders.split(","):
            command = [sys.executable, __file__, "--contender", name, "--data", folder]
            command += ["--users", str(args.users), "--n", str(args.n)] + (["--all"] if args.all else [])
            proc = subprocess.run(command, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{name:<11} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rate = r["users"] / r["seconds"]
            print(
                f"{name:<11} {r['users']:>8,} {r['seconds']:>8.1f} {rate:>8,.0f} {r['cpu']:>7.1f} "
                f"{r['users'] / r['cpu']:>11,.0f} {r['fixed']:>7.1f} {r['all_seconds'] / 60:>8.1f} m "
                f"{r['base_mb']:>9,.0f} {r['peak_mb']:>8,.0f} {r['peak_mb'] - r['base_mb']:>7,.0f}",
                flush=True,
            )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
