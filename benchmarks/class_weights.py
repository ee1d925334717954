"""What the class multipliers cost with the recommended recipe (softmax): they are per-rating weights.

For each data set, setting and seed, :func:`recsys_core.train` (the code path of the CLI and the
app) trains the recommended recipe (``TrainConfig()``, item-kNN blend included) with the class
multipliers as weights of each rated product's term in the softmax:

* ``all 1``: every rating counts once (the default);
* ``1★, 2★ ×0``: the 1★ and 2★ ratings left out of training;
* ``notebook as weights``: the reference notebook's factors (1★ ×2.5, 2★ ×3, 3★ ×2) as weights;

and reports, on the held-out test split (every product the customer has not rated is a
candidate): hit rate and NDCG at 10 over all test customers, and the hit rate at 10 of the
held-out products the customer rated as liked (4★ or more) and as disliked (2★ or less). A good
recommender finds the liked ones and misses the disliked ones.

Data sets:

* ``demo``: :func:`recsys_core.data.demo_ratings` (5,000 customers, 2,000 products, 100,000
  ratings, synthetic; what ``recsys demo-data`` writes), split ``auto`` = leave-last-out by time;
* ``dense``: ../shared/data/amazon_electronics_dense.csv (1,540 customers, 5,689 products, no
  timestamps), split ``auto`` = random (one test and one validation rating per customer);
* ``demo30k``: the demo generator with 30,000 ratings (``recsys demo-data --ratings 30000``).

The table gives means over the seeds with their standard errors (sample standard deviation over
the seeds / sqrt(seeds)); with one seed, the standard error of the mean over customers.

Usage::

    .venv/bin/python benchmarks/class_weights.py                        # demo + dense, seed 42
    .venv/bin/python benchmarks/class_weights.py --datasets demo --seeds 42 1 2
    .venv/bin/python benchmarks/class_weights.py --neighbours 0               # without the blend
    .venv/bin/python benchmarks/class_weights.py --json class_weights.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import recsys_core as rs  # noqa: E402
from recsys_core.config import NOTEBOOK_MULTIPLIERS, TrainConfig  # noqa: E402
from recsys_core.data import Ratings, demo_ratings, load_ratings  # noqa: E402
from recsys_core.model import Blended, unwrap  # noqa: E402
from recsys_core.runs import Run  # noqa: E402
from recsys_core.topn import top_unseen  # noqa: E402

DENSE = ROOT.parent / "shared" / "data" / "amazon_electronics_dense.csv"
DATASETS = ("demo", "dense", "demo30k")
SETTINGS: dict[str, dict[float, float]] = {
    "all 1": {},
    "1★, 2★ ×0": {1.0: 0.0, 2.0: 0.0},
    "notebook as weights": dict(NOTEBOOK_MULTIPLIERS),
}
MEASURES = ("hit", "ndcg", "hit_liked", "hit_disliked")
K, LIKED, DISLIKED, CHUNK = 10, 4.0, 2.0, 1024


def load(name: str) -> Ratings:
    if name == "dense":
        return load_ratings(DENSE)
    if name == "demo30k":
        return demo_ratings(n_ratings=30_000)
    return demo_ratings()


def pair_hits(run: Run, k: int = K) -> np.ndarray:
    """1.0 where a test pair's product is in its customer's top-``k`` unseen list, else 0.0."""
    model, blend = unwrap(Blended(run.model, run.blend))
    seen = run.seen_matrix()
    users, items = np.asarray(run.test_users), np.asarray(run.test_items)
    distinct, row_of = np.unique(users, return_inverse=True)
    lists = np.concatenate(
        [
            top_unseen(model, distinct[i : i + CHUNK], seen, k, blend)[0]
            for i in range(0, len(distinct), CHUNK)
        ]
    )
    return (lists[row_of] == items[:, None]).any(axis=1).astype(np.float64)


def train_once(ratings: Ratings, multipliers: dict[float, float], seed: int, neighbours: int | None) -> dict:
    """One run's measures (means over test customers) and their standard errors over customers."""
    config = TrainConfig(multipliers=multipliers, seed=seed)
    if neighbours is not None:
        config = config.replace(neighbours=neighbours)
    started = time.perf_counter()
    run = rs.train(ratings, config)
    seconds = time.perf_counter() - started
    hits = pair_hits(run)
    stars = np.asarray(run.test_ratings)
    model = run.metrics["ranking"]["model"]
    out = {"hit": model["hit_rate_at_k"], "ndcg": model["ndcg_at_k"], "seconds": seconds}
    out["hit_se"], out["ndcg_se"] = model.get("hit_rate_at_k_se"), model.get("ndcg_at_k_se")
    for name, mask in (("hit_liked", stars >= LIKED), ("hit_disliked", stars <= DISLIKED)):
        chosen = hits[mask]
        out[name] = float(chosen.mean()) if len(chosen) else math.nan
        out[f"{name}_se"] = float(chosen.std(ddof=1) / math.sqrt(len(chosen))) if len(chosen) > 1 else None
        out[f"{name}_n"] = int(mask.sum())
    out["split"], out["test_customers"] = run.summary.method, model_users(run)
    # The item-kNN blend's weight, chosen on validation: a large one leaves little to the model.
    out["blend"] = None if run.blend is None else float(run.blend.weight)
    return out


def model_users(run: Run) -> int:
    return int(run.metrics["ranking"]["users"])


def cell(runs: list[dict], key: str) -> str:
    values = [r[key] for r in runs]
    mean = statistics.fmean(values)
    # Over seeds when there are several, else over the one run's customers.
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else runs[0].get(f"{key}_se")
    return f"{mean:.3f}" + (f" ± {se:.3f}" if se is not None else "")


def blends(runs: list[dict]) -> str:
    """The blend weights of the runs, one per seed (``–``: no blend)."""
    return "/".join("–" if r.get("blend") is None else f"{r['blend']:g}" for r in runs)


def table(name: str, results: dict[str, list[dict]], seeds: list[int]) -> str:
    first = next(iter(results.values()))[0]
    error = "standard error over seeds" if len(seeds) > 1 else "standard error over customers"
    lines = [
        f"**{name}** (split {first['split']}, {first['test_customers']:,} test customers, of whom "
        f"{first['hit_liked_n']:,} held out a liked product (4★+) and {first['hit_disliked_n']:,} a "
        f"disliked one (≤2★); seeds {', '.join(map(str, seeds))}; mean ± {error})",
        "",
        "| multipliers (weights) | hit@10 | NDCG@10 | hit@10, liked | hit@10, disliked | blend β | train s |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, runs in results.items():
        lines.append(
            f"| {label} | "
            + " | ".join(cell(runs, key) for key in MEASURES)
            + f" | {blends(runs)}"
            + f" | {statistics.fmean(r['seconds'] for r in runs):.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=["demo", "dense"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument(
        "--neighbours",
        type=int,
        help="the recipe's item-kNN blend neighbours (0: no blend; default: the recipe's)",
    )
    parser.add_argument("--json", help="also write every run's figures here")
    args = parser.parse_args(argv)
    everything: dict[str, dict[str, list[dict]]] = {}
    for name in args.datasets:
        ratings = load(name)
        results: dict[str, list[dict]] = {label: [] for label in SETTINGS}
        for seed in args.seeds:
            for label, multipliers in SETTINGS.items():
                figures = train_once(ratings, multipliers, seed, args.neighbours)
                results[label].append(figures)
                print(
                    f"{name} · {label} · seed {seed}: "
                    + ", ".join(f"{key} {figures[key]:.4f}" for key in MEASURES)
                    + f", blend {figures['blend']} ({figures['seconds']:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
        everything[name] = results
        blend = "" if args.neighbours is None else f", neighbours {args.neighbours}"
        print(table(name + blend, results, args.seeds) + "\n", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
