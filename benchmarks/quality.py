"""The classical baseline ladder: most popular, item-kNN, EASE and iALS on the run's split.

For each data set the ratings are split as a training run splits them
(:func:`recsys_core.split.split_ratings` with ``TrainConfig()``'s method and seed), every
baseline is fitted on the TRAINING pairs as binary implicit feedback, its few hyper-parameters
(the default grids of :mod:`recsys_core.baselines`) are chosen by NDCG@10 on the VALIDATION pairs
(seen = train), and the chosen one is scored on the TEST pairs (seen = train + validation), with
the ranking-metric code that evaluates the model (``recsys_core.evaluation``). Standard errors
are ``std / sqrt(n)`` of the per-user values.

Data sets:

* ``dense``: ../shared/data/amazon_electronics_dense.csv (1,540 users, 5,689 products, no
  timestamps, so the ``random`` split);
* ``demo30k``, ``demo100k``, ``demo300k``: :func:`recsys_core.demo.generate_demo` with 5,000
  users, 2,000 products and that many ratings (leave-last-out by time).

BLAS runs on one thread (``--blas-threads``): on a shared machine a threaded BLAS mostly waits,
and one thread makes the fit times comparable (``implicit`` asks for it anyway).

Usage::

    .venv/bin/python benchmarks/quality.py
    .venv/bin/python benchmarks/quality.py --datasets dense --json quality.json
    .venv/bin/python benchmarks/quality.py --dense /work/shared/data/amazon_electronics_dense.csv  # worktree
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recsys_core.baselines import (  # noqa: E402
    EASE,
    IALS,
    IALS_GRID,
    ITEM_KNN_GRID,
    ItemKNN,
    MostPopular,
    Params,
    Scorer,
    ease_grid,
    per_user_hits_ndcg,
    top_k_scored,
    tune,
)
from recsys_core.config import TrainConfig  # noqa: E402
from recsys_core.demo import generate_demo  # noqa: E402
from recsys_core.encoding import IdMap  # noqa: E402
from recsys_core.errors import RecsysError  # noqa: E402
from recsys_core.evaluation import build_seen_matrix, topk_metrics  # noqa: E402
from recsys_core.ratings import load_ratings  # noqa: E402
from recsys_core.split import split_ratings  # noqa: E402

DENSE = ROOT.parent / "shared" / "data" / "amazon_electronics_dense.csv"
DEMO_SIZES = {"demo30k": 30_000, "demo100k": 100_000, "demo300k": 300_000}
K = 10


@dataclass
class Holdout:
    """Users of one held-out part, their relevant items and what is excluded from their lists."""

    users: np.ndarray
    relevant: sp.csr_matrix
    seen: sp.csr_matrix


@dataclass
class Prepared:
    name: str
    train: sp.csr_matrix
    validation: Holdout
    test: Holdout
    method: str


def load_frame(name: str, dense: Path) -> pd.DataFrame:
    if name == "dense":
        return load_ratings(dense).frame
    return generate_demo(n_users=5000, n_items=2000, n_ratings=DEMO_SIZES[name], seed=42).ratings


def prepare(name: str, dense: Path) -> Prepared:
    config = TrainConfig()
    split = split_ratings(load_frame(name, dense), method=config.split, seed=config.seed)
    id_map = IdMap.fit(split.train)
    shape = (id_map.n_users, id_map.n_items)
    train_users, train_items = id_map.encode(split.train)
    val_users, val_items = id_map.encode(split.validation)
    test_users, test_items = id_map.encode(split.test)
    train = build_seen_matrix(train_users, train_items, *shape)
    seen_test = build_seen_matrix(
        np.concatenate([train_users, val_users]), np.concatenate([train_items, val_items]), *shape
    )

    def holdout(users: np.ndarray, items: np.ndarray, seen: sp.csr_matrix) -> Holdout:
        distinct = np.unique(users)
        return Holdout(distinct, build_seen_matrix(users, items, *shape)[distinct], seen)

    return Prepared(
        name,
        train,
        holdout(val_users, val_items, train),
        holdout(test_users, test_items, seen_test),
        split.method,
    )


def evaluate(scorer: Scorer, part: Holdout, n_items: int) -> dict[str, float]:
    """Mean metrics through the model's metric code, plus per-user standard errors."""
    items, _ = top_k_scored(scorer, part.users, part.seen, K)

    def precomputed(rows: np.ndarray) -> tuple[np.ndarray, None]:
        return items[np.searchsorted(part.users, rows)], None

    result = topk_metrics(precomputed, part.users, part.relevant, n_items, K, 1024)
    hits, ndcg = per_user_hits_ndcg(items, part.relevant, K)
    # The per-user values must average to what the shared metric code reports.
    assert math.isclose(ndcg.mean(), result["ndcg_at_k"], rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(hits.mean(), result["hit_rate_at_k"], rel_tol=1e-9, abs_tol=1e-12)
    root_n = math.sqrt(max(len(hits), 1))
    result["ndcg_se"] = float(ndcg.std() / root_n)
    result["hit_rate_se"] = float(hits.std() / root_n)
    return result


def ladder(train: sp.csr_matrix, seed: int) -> list[tuple[str, Callable[[Params], Scorer], list[Params]]]:
    return [
        ("most popular", lambda p: MostPopular().fit(train), [{}]),
        ("item-kNN", lambda p: ItemKNN(**p).fit(train), ITEM_KNN_GRID),
        ("EASE", lambda p: EASE(**p).fit(train), ease_grid(train)),
        ("iALS", lambda p: IALS(**p, seed=seed).fit(train), IALS_GRID),
    ]


def run_dataset(name: str, dense: Path) -> list[dict[str, object]]:
    data = prepare(name, dense)
    n_users, n_items = data.train.shape
    rows: list[dict[str, object]] = []
    for baseline, make, grid in ladder(data.train, TrainConfig().seed):
        row: dict[str, object] = {
            "dataset": name,
            "shape": f"{n_users}x{n_items}, {data.train.nnz} train ({data.method})",
            "baseline": baseline,
        }
        start = time.perf_counter()
        try:
            best, params, table = tune(
                make, grid, lambda s: evaluate(s, data.validation, n_items)["ndcg_at_k"]
            )
        except RecsysError as exc:
            rows.append({**row, "refused": str(exc)})
            continue
        test = evaluate(best, data.test, n_items)
        row.update(
            ndcg=test["ndcg_at_k"],
            ndcg_se=test["ndcg_se"],
            hit_rate=test["hit_rate_at_k"],
            hit_rate_se=test["hit_rate_se"],
            coverage=test["coverage"],
            test_users=len(data.test.users),
            grid_points=len(table),
            grid_fit_seconds=sum(r["fit_seconds"] for r in table),
            tune_seconds=time.perf_counter() - start,
            best_fit_seconds=next(
                r["fit_seconds"] for r in table if all(r[k] == v for k, v in params.items())
            ),
            val_ndcg=max(r["objective"] for r in table),
            params=params,
        )
        rows.append(row)
        print(f"  {name} {baseline}: {row['ndcg']:.4f} ({row['tune_seconds']:.1f} s)", file=sys.stderr)
    return rows


def markdown(rows: list[dict[str, object]]) -> str:
    lines = [
        "| data set | baseline | NDCG@10 ± SE | hit rate@10 ± SE | val NDCG | fit s (best / grid) | params |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "refused" in row:
            lines.append(f"| {row['dataset']} | {row['baseline']} | refused: {row['refused']} | | | | |")
            continue
        lines.append(
            f"| {row['dataset']} | {row['baseline']} | {row['ndcg']:.4f} ± {row['ndcg_se']:.4f} "
            f"| {row['hit_rate']:.4f} ± {row['hit_rate_se']:.4f} | {row['val_ndcg']:.4f} "
            f"| {row['best_fit_seconds']:.2f} / {row['grid_fit_seconds']:.1f} ({row['grid_points']}) "
            f"| {json.dumps(row['params'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--datasets", default="dense," + ",".join(DEMO_SIZES))
    parser.add_argument("--dense", type=Path, default=DENSE, help="path of amazon_electronics_dense.csv")
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    rows: list[dict[str, object]] = []
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        for name in args.datasets.split(","):
            data_rows = run_dataset(name, args.dense)
            rows.extend(data_rows)
            print(f"{name}: {data_rows[0]['shape']}, {data_rows[0].get('test_users')} test users")
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
