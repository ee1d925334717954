"""Model variants next to the classical baseline ladder, on the shared Amazon file and the demo data.

For each data set, every model variant is trained through :func:`recsys_core.train`
exactly as ``recsys train`` trains it (the preset's split, seed 42) and scored on its test split
by :func:`recsys_core.metrics.evaluate_run`; the ladder (most popular, item-kNN, EASE, iALS) is
fitted on the same run's training pairs, tuned on its validation pairs and scored on its test
pairs by :func:`recsys_core.baselines.fit_ladder` (the ``evaluate`` code). Variants:

* ``notebook``: the reference recipe (``--preset notebook``);
* ``fast``: the hybrid preset;
* ``recommended, no blend``: the softmax preset with ``--neighbours 0``;
* ``recommended``: the default (softmax + item-kNN blend, its weight chosen on validation).

Each row: NDCG@10 ± SE, HR@10 ± SE, fit seconds (train + blend for a model, the chosen
parameters' fit for a baseline) and the ratio of NDCG@10 to the best of EASE and iALS.

Data sets: ``dense`` = ../shared/data/amazon_electronics_dense.csv (random split: no times);
``head`` = ../shared/data/amazon_electronics_head.csv (real, with times: leave-last-out);
``demo30k``, ``demo100k``, ``demo300k`` = :func:`recsys_core.data.generate_demo` with 5,000 users,
2,000 products, seed 42 (leave-last-out by time); ``wide`` (20,000 x 12,000, 200k ratings: the
sampled softmax) and ``sparse`` (30,000 x 5,000, 90k ratings) are other shapes of it.

Usage::

    .venv/bin/python benchmarks/quality.py
    .venv/bin/python benchmarks/quality.py --datasets dense --json quality.json
    .venv/bin/python benchmarks/quality.py --variants recommended --datasets dense,head,demo100k,wide
    .venv/bin/python benchmarks/quality.py --dense /work/shared/data/amazon_electronics_dense.csv
    .venv/bin/python benchmarks/quality.py --variants recommended --learning-rates 0.01 --datasets demo100k
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import recsys_core as rs  # noqa: E402
from recsys_core.baselines import fit_ladder  # noqa: E402
from recsys_core.config import TrainConfig  # noqa: E402
from recsys_core.data import (  # noqa: E402
    Ratings,
    demo_ratings,
    load_ratings,
)

DENSE = ROOT.parent / "shared" / "data" / "amazon_electronics_dense.csv"
HEAD = ROOT.parent / "shared" / "data" / "amazon_electronics_head.csv"
DEMO_SIZES = {"demo30k": 30_000, "demo100k": 100_000, "demo300k": 300_000}
#: Other shapes of the demo generator: (customers, products, ratings). ``wide`` has more products
#: than the exact softmax takes (the sampled softmax trains it); ``sparse`` few ratings each.
DEMO_SHAPES = {"wide": (20_000, 12_000, 200_000), "sparse": (30_000, 5_000, 90_000)}
VARIANTS: dict[str, tuple[str, dict[str, float]]] = {
    "notebook": ("notebook", {}),
    "fast": ("fast", {}),
    "recommended, no blend": ("recommended", {"neighbours": 0}),
    "recommended": ("recommended", {}),
}
K = 10


def load(name: str, dense: Path) -> Ratings:
    if name == "dense":
        return load_ratings(dense)
    if name == "head":  # real ratings with times: the leave-last-out split
        return load_ratings(HEAD)
    if name in DEMO_SHAPES:
        users, items, ratings = DEMO_SHAPES[name]
        return demo_ratings(n_users=users, n_items=items, n_ratings=ratings, seed=42)
    return demo_ratings(n_users=5000, n_items=2000, n_ratings=DEMO_SIZES[name], seed=42)


def _row(data: str, who: str, metrics: dict, seconds: float, note: str = "") -> dict[str, object]:
    return {
        "data": data,
        "who": who,
        "ndcg": metrics["ndcg_at_k"],
        "ndcg_se": metrics["ndcg_at_k_se"],
        "hr": metrics["hit_rate_at_k"],
        "hr_se": metrics["hit_rate_at_k_se"],
        "seconds": seconds,
        "note": note,
    }


def run_dataset(name: str, dense: Path, variants: list[str]) -> list[dict[str, object]]:
    ratings = load(name, dense)
    rows, last = [], None
    for label in variants:
        preset, overrides = VARIANTS[label]
        started = time.perf_counter()
        run = rs.train(ratings, TrainConfig.preset(preset, **overrides))
        stages = run.summary.stage_seconds
        blend = run.summary.blend
        epochs = f"{len(run.history)} epochs (best {run.summary.best_epoch})"
        note = f"β={blend.weight:g}, {epochs}" if blend else epochs
        seconds = stages["train"] + stages.get("similarity", 0.0) + stages.get("blend", 0.0)
        rows.append(_row(name, label, run.metrics["ranking"]["model"], seconds, note))
        print(f"  {name} {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        last = run
    for entry in fit_ladder(last, k=K).values():
        if "skipped" in entry:
            # Said, not hidden: a rung the ladder's time budget skipped leaves the ratio without it.
            print(f"  {name} {entry['label']} skipped: {entry['skipped']}", file=sys.stderr, flush=True)
            continue
        rows.append(_row(name, entry["label"], entry, entry["fit_seconds"], json.dumps(entry["params"])))
    classics = [r["ndcg"] for r in rows if r["who"] in ("EASE", "iALS")]
    best = max(classics) if classics else 0.0
    for row in rows:
        row["ratio"] = row["ndcg"] / best if best else float("nan")
    print(markdown(rows), flush=True)  # each data set as it is done: a long run keeps what it has
    return rows


def markdown(rows: list[dict[str, object]]) -> str:
    lines = [
        "| data | recommender | NDCG@10 ± SE | HR@10 ± SE | fit s | × best(EASE, iALS) | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['who']} | {r['ndcg']:.4f} ± {r['ndcg_se']:.4f} | "
            f"{r['hr']:.4f} ± {r['hr_se']:.4f} | {r['seconds']:.1f} | {r['ratio']:.3f} | {r['note']} |"
        )
    return "\n".join(lines)


def summary(rows: list[dict[str, object]]) -> str:
    """Mean and minimum ratio of each model variant over the data sets."""
    lines = ["| variant | mean ratio | min ratio |", "|---|---|---|"]
    for label in VARIANTS:
        ratios = [float(r["ratio"]) for r in rows if r["who"] == label]
        if ratios:
            lines.append(f"| {label} | {sum(ratios) / len(ratios):.3f} | {min(ratios):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--datasets", default="dense," + ",".join(DEMO_SIZES))
    parser.add_argument("--dense", type=Path, default=DENSE, help="path of amazon_electronics_dense.csv")
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"which of: {', '.join(VARIANTS)} (comma-separated)"
    )
    parser.add_argument(
        "--learning-rates",
        default="",
        help="also the recommended recipe at each of these Adam steps, e.g. 0.01,0.02,0.03",
    )
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for rate in filter(None, (r.strip() for r in args.learning_rates.split(","))):
        label = f"recommended, lr {float(rate):g}"
        VARIANTS[label] = ("recommended", {"learning_rate": float(rate)})
        variants.append(label)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}: choose from {', '.join(VARIANTS)}")
    rows: list[dict[str, object]] = []
    with threadpool_limits(args.blas_threads, "blas"):
        for name in filter(None, args.datasets.split(",")):
            rows += run_dataset(name, args.dense, variants)
    print(markdown(rows))
    print()
    print(summary(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
