"""The training objectives side by side: top-10 ranking against "most popular", and rating quality.

For each data set and seed, :func:`recsys_core.train` (the code path of the CLI and
the app) trains

* ``notebook · rating``: the reference notebook's recipe (embedding 200, batch 64, 7 epochs,
  oversampling 1★ x2.5, 2★ x3, 3★ x2);
* ``fast · rating``, ``fast · ranking``, ``fast · hybrid``: the ``fast`` preset with only the
  objective swapped (same embedding size, epochs, learning rate, 8 negatives per rating);

and reports the held-out test split's metrics: hit rate, NDCG, precision and recall at 10 over
*every* product the user has not rated, catalogue coverage of the top-10 lists, and ROC AUC and
precision of "score >= 0.625 means 4★ or more" on the test ratings next to the trivial
precision (share of 4★+). ``most popular`` is the baseline that recommends the most-rated
products to everyone (same candidates, same test pairs).

Data sets:

* ``dense``: ../shared/data/amazon_electronics_dense.csv (1,540 users, 5,689 products, no
  timestamps), split ``random``: one random rating per user for test, one for validation;
* ``demo``: :func:`recsys_core.data.demo_ratings` (5,000 users, 2,000 products, 100,000 ratings,
  synthetic), split ``auto``, i.e. leave-last-out by time: each user's last rating is the test.

The script prints one markdown table per data set (means over the seeds) and checks the goal:
the best objective's hit rate and NDCG at 10 at least 1.5x the baseline's, with ROC AUC within
0.01 of the ``rating`` objective's at the same settings.

``--sweep`` instead varies the hybrid's settings one at a time around the fast preset (and the
ranking objective's negatives) on one data set: how the preset's values were chosen.

Usage::

    .venv/bin/python benchmarks/objectives.py                    # both data sets, seeds 42, 1, 2
    .venv/bin/python benchmarks/objectives.py --datasets demo --seeds 42
    .venv/bin/python benchmarks/objectives.py --sweep --datasets dense
    .venv/bin/python benchmarks/objectives.py --json objectives.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The sweep varies the hybrid weight where epoch_samples reads it.
import recsys_core as rs  # noqa: E402
import recsys_core.training._sampling as training  # noqa: E402
from recsys_core.config import TrainConfig  # noqa: E402
from recsys_core.data import (  # noqa: E402
    Ratings,
    demo_ratings,
    load_ratings,
)

DENSE = ROOT.parent / "shared" / "data" / "amazon_electronics_dense.csv"
SPLITS = {"dense": "random", "demo": "auto"}
CONTENDERS = [
    ("notebook · rating", "notebook", {"objective": "rating"}),
    ("fast · rating", "fast", {"objective": "rating"}),
    ("fast · ranking", "fast", {"objective": "ranking"}),
    ("fast · hybrid", "fast", {"objective": "hybrid"}),
]
RANKING = ("hit_rate_at_k", "ndcg_at_k", "precision_at_k", "recall_at_k", "coverage")
GOAL_RATIO, AUC_SLACK = 1.5, 0.01


def load(name: str) -> Ratings:
    if name == "dense":
        return load_ratings(DENSE)
    return demo_ratings()


def train_once(ratings: Ratings, preset: str, overrides: dict[str, Any], split: str, seed: int) -> dict:
    """One run's figures: the model's and the baseline's ranking metrics, AUC, precision, time."""
    config = TrainConfig.preset(preset, split=split, seed=seed, **overrides)
    seconds: list[float] = []
    run = rs.train(ratings, config, on_epoch=lambda report: seconds.append(report.seconds))
    m = run.metrics
    return {
        "model": {key: m["ranking"]["model"][key] for key in RANKING},
        "popularity": {key: m["ranking"]["popularity"][key] for key in RANKING},
        "roc_auc": m["roc_auc"],
        "precision": m["precision"],
        "trivial_precision": m["trivial_precision"],
        "train_seconds": sum(seconds),
        "best_epoch": run.summary.best_epoch,
        "users": m["ranking"]["users"],
        "split": run.summary.method,
    }


def mean(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else float("nan")


def spread(values, digits: int = 3) -> str:
    return f" ±{statistics.stdev(values):.{digits}f}" if len(values) > 1 else ""


def table(name: str, results: dict[str, list[dict]], seeds: list[int]) -> str:
    """Markdown table of the means over seeds (± sample standard deviation for hit rate and AUC)."""
    first = next(iter(results.values()))
    pop = {key: mean(r["popularity"][key] for r in first) for key in RANKING}
    lines = [
        f"**{name}** (split {first[0]['split']}, {first[0]['users']:,} test users, "
        f"seeds {', '.join(map(str, seeds))}; means, ± standard deviation over seeds)",
        "",
        "| objective | hit@10 | × pop | NDCG@10 | × pop | P@10 | R@10 | coverage | ROC AUC (4★+) "
        "| precision | trivial | train s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| most popular | {pop['hit_rate_at_k']:.4f} | 1.00 | {pop['ndcg_at_k']:.4f} | 1.00 | "
        f"{pop['precision_at_k']:.4f} | {pop['recall_at_k']:.4f} | {pop['coverage']:.3f} | | | | |",
    ]
    for label, runs in results.items():
        hit = [r["model"]["hit_rate_at_k"] for r in runs]
        auc = [r["roc_auc"] for r in runs]
        row = {key: mean(r["model"][key] for r in runs) for key in RANKING}
        hit_x, ndcg_x = row["hit_rate_at_k"] / pop["hit_rate_at_k"], row["ndcg_at_k"] / pop["ndcg_at_k"]
        lines.append(
            f"| {label} | {row['hit_rate_at_k']:.4f}{spread(hit, 4)} | {hit_x:.2f} "
            f"| {row['ndcg_at_k']:.4f} | {ndcg_x:.2f} | {row['precision_at_k']:.4f} "
            f"| {row['recall_at_k']:.4f} | {row['coverage']:.3f} | {mean(auc):.4f}{spread(auc)} "
            f"| {mean(r['precision'] for r in runs):.3f} | {mean(r['trivial_precision'] for r in runs):.3f} "
            f"| {mean(r['train_seconds'] for r in runs):.1f} |"
        )
    return "\n".join(lines)


def goal(results: dict[str, list[dict]]) -> list[str]:
    """The issue's goal, checked for every fast objective, on the means and seed by seed."""
    reference = results["fast · rating"]
    ref_auc = mean(r["roc_auc"] for r in reference)
    out = []
    for label in ("fast · ranking", "fast · hybrid"):
        runs = results[label]

        def ratio(key: str, runs=runs) -> float:
            return mean(r["model"][key] for r in runs) / mean(r["popularity"][key] for r in runs)

        hit, ndcg = ratio("hit_rate_at_k"), ratio("ndcg_at_k")
        auc_gap = mean(r["roc_auc"] for r in runs) - ref_auc
        per_seed = [
            r["model"]["hit_rate_at_k"] >= GOAL_RATIO * r["popularity"]["hit_rate_at_k"]
            and r["model"]["ndcg_at_k"] >= GOAL_RATIO * r["popularity"]["ndcg_at_k"]
            and r["roc_auc"] >= ref["roc_auc"] - AUC_SLACK
            for r, ref in zip(runs, reference, strict=True)
        ]
        met = hit >= GOAL_RATIO and ndcg >= GOAL_RATIO and auc_gap >= -AUC_SLACK
        out.append(
            f"{label}: hit@10 {hit:.2f}x and NDCG@10 {ndcg:.2f}x most popular (goal >= {GOAL_RATIO}), "
            f"ROC AUC {auc_gap:+.4f} vs fast · rating (goal >= -{AUC_SLACK}): "
            f"{'MET' if met else 'not met'} on the means, on {sum(per_seed)} of {len(per_seed)} seeds"
        )
    return out


SWEEP = [
    ("hybrid, fast preset", {}, None),
    ("hybrid, negatives 4", {"negatives": 4}, None),
    ("hybrid, negatives 16", {"negatives": 16}, None),
    ("hybrid, negative weight 0.5", {}, 0.5),
    ("hybrid, negative weight 4", {}, 4.0),
    ("hybrid, lr 1e-3, 30 epochs", {"learning_rate": 1e-3, "epochs": 30}, None),
    ("hybrid, lr 1e-2", {"learning_rate": 1e-2}, None),
    ("hybrid, 20 epochs", {"epochs": 20}, None),
    ("hybrid, embedding 32", {"embedding_dim": 32}, None),
    ("hybrid, embedding 64", {"embedding_dim": 64}, None),
    ("hybrid, batch 256", {"batch_size": 256}, None),
    ("ranking, negatives 4", {"objective": "ranking", "negatives": 4}, None),
    ("ranking, fast preset", {"objective": "ranking"}, None),
]


def sweep(name: str, ratings: Ratings, seeds: list[int]) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {}
    default_weight = training.HYBRID_NEGATIVE_WEIGHT
    print(f"\nsweep on {name} (means over seeds {', '.join(map(str, seeds))})")
    print("| settings | hit@10 × pop | NDCG@10 × pop | coverage | ROC AUC | train s | best epoch |")
    print("|---|---|---|---|---|---|---|")
    for label, overrides, weight in SWEEP:
        training.HYBRID_NEGATIVE_WEIGHT = default_weight if weight is None else weight
        try:
            runs = [train_once(ratings, "fast", overrides, SPLITS[name], seed) for seed in seeds]
        finally:
            training.HYBRID_NEGATIVE_WEIGHT = default_weight
        results[label] = runs

        def ratio(key: str, runs=runs) -> float:
            return mean(r["model"][key] for r in runs) / mean(r["popularity"][key] for r in runs)

        print(
            f"| {label} | {ratio('hit_rate_at_k'):.2f} | {ratio('ndcg_at_k'):.2f} "
            f"| {mean(r['model']['coverage'] for r in runs):.3f} | {mean(r['roc_auc'] for r in runs):.4f} "
            f"| {mean(r['train_seconds'] for r in runs):.1f} | {mean(r['best_epoch'] for r in runs):.1f} |",
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="dense,demo", help="comma-separated: dense, demo")
    parser.add_argument("--seeds", default="42,1,2", help="comma-separated seeds (split, init, sampling)")
    parser.add_argument("--sweep", action="store_true", help="vary the hybrid's settings instead")
    parser.add_argument("--json", help="also write every run's figures to this file")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = set(names) - set(SPLITS)
    if unknown:
        parser.error(f"unknown data set(s) {', '.join(sorted(unknown))}: choose dense and/or demo")
    started = time.perf_counter()
    everything: dict[str, dict[str, list[dict]]] = {}
    for name in names:
        ratings = load(name)
        if args.sweep:
            everything[name] = sweep(name, ratings, seeds)
            continue
        results: dict[str, list[dict]] = {}
        for label, preset, overrides in CONTENDERS:
            results[label] = [train_once(ratings, preset, overrides, SPLITS[name], s) for s in seeds]
            print(f"  {name}: {label} done", file=sys.stderr, flush=True)
        everything[name] = results
        print()
        print(table(name, results, seeds))
        print()
        for line in goal(results):
            print(f"- {line}")
    print(f"\n({time.perf_counter() - started:.0f} s in all)")
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
