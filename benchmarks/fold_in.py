"""How fast is fold-in for one visitor, and how good are its lists?

Latency (default): a random NCF of the size of the Amazon Electronics catalogue (48,769 products,
20,000 customers, embedding 200; no training needed: fold-in's cost does not depend on the
weights) saved as a ``hybrid`` run, the costliest objective (it folds in the sampled negatives).
For ~50 visitors with 5–50 ratings each it times :func:`recsys_core.topn.recommend_visitors`
(fold-in, rank the catalogue, top 10 with explanations) against a peer measured in the same
process: :func:`recsys_core.topn.recommend` for a trained customer (rank only, no profile
to compute). The first call on a run also builds the run's prior (mean and covariance of the
customers' profiles, negatives linearised around it); it is reported on its own line. Target:
median ≤ 50 ms.

Quality (``--quality``): trains the ``fast`` preset on the demo data and on
``../shared/data/amazon_electronics_dense.csv``, folds in every test customer's training
ratings and compares top-10 hit rates and list overlap with the trained profiles.

Usage::

    .venv/bin/python benchmarks/fold_in.py
    .venv/bin/python benchmarks/fold_in.py --visitors 100 --quality
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from model_runs import model_run  # noqa: E402

from recsys_core.config import TrainConfig  # noqa: E402
from recsys_core.model import NCF  # noqa: E402
from recsys_core.runs import Run  # noqa: E402
from recsys_core.topn import (  # noqa: E402
    fold_in,
    profile_logits,
    recommend,
    recommend_visitors,
    top_unseen,
)

N_ITEMS, N_USERS, DIM = 48_769, 20_000, 200
DENSE = ROOT.parent / "shared" / "data" / "amazon_electronics_dense.csv"


def random_run(seed: int = 0) -> Run:
    """A ``hybrid`` run with random weights of the full catalogue's size."""
    rng = np.random.default_rng(seed)
    model = NCF(N_USERS, N_ITEMS, DIM, seed=seed)
    seen_users = np.repeat(np.arange(N_USERS), 5)
    seen_items = rng.integers(0, N_ITEMS, len(seen_users))
    users = [f"U{i}" for i in range(N_USERS)]
    items = [f"P{i}" for i in range(N_ITEMS)]
    return model_run(model, users, items, seen_users, seen_items, name="random")


def _ms(times: list[float]) -> tuple[float, float]:
    arr = np.asarray(times) * 1000
    return float(np.median(arr)), float(np.percentile(arr, 95))


def latency(visitors: int) -> None:
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    run = random_run()
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    recommend_visitors(run, pd.DataFrame({"user": ["warm"], "item": ["P1"], "rating": [5.0]}), 10)
    prior_s = time.perf_counter() - start
    fold, peer, sizes = [], [], []
    for v in range(visitors):
        n = int(rng.integers(5, 51))
        sizes.append(n)
        frame = pd.DataFrame(
            {
                "user": f"V{v}",
                "item": [f"P{i}" for i in rng.choice(N_ITEMS, n, replace=False)],
                "rating": rng.integers(1, 6, n).astype(float),
            }
        )
        start = time.perf_counter()
        recommend_visitors(run, frame, 10, explain=True)
        fold.append(time.perf_counter() - start)
        start = time.perf_counter()
        recommend(run, f"U{v}", 10)
        peer.append(time.perf_counter() - start)
    print(
        f"model: {N_ITEMS:,} products x {N_USERS:,} customers x embedding {DIM}, hybrid; "
        f"{visitors} visitors with {min(sizes)}-{max(sizes)} ratings; torch threads {torch.get_num_threads()}"
    )
    print(f"first call on the run (builds its prior, once): {prior_s * 1000:.0f} ms")
    print(f"{'method':<52} {'median ms':>10} {'p95 ms':>8}")
    for label, times in (
        ("fold-in visitor: profile + rank + top 10 + because", fold),
        ("peer: recommend() for a trained customer (rank only)", peer),
    ):
        median, p95 = _ms(times)
        print(f"{label:<52} {median:>10.1f} {p95:>8.1f}")


def quality() -> None:
    import recsys_core as rs
    from recsys_core.data import demo_ratings, load_ratings, split_ratings

    print(
        f"{'data':<8} {'test users':>10} {'hit@10 trained':>15} {'hit@10 fold-in':>15} "
        f"{'ratio':>6} {'overlap':>8}"
    )
    for label, ratings in (("demo", demo_ratings()), ("dense", load_ratings(DENSE))):
        config = TrainConfig.preset("fast")
        run = rs.train(ratings, config)
        split = split_ratings(ratings.frame, method=config.split, seed=config.seed)
        trained, folded, overlap = foldin_hits(run, split.train)
        print(
            f"{label:<8} {len(run.test_users):>10,} {trained:>15.4f} {folded:>15.4f} "
            f"{folded / max(trained, 1e-12):>6.2f} {overlap:>8.3f}"
        )


def foldin_hits(run: Run, train: pd.DataFrame, k: int = 10) -> tuple[float, float, float]:
    """Hit rate@k of the trained profiles and of the folded-in training ratings, and the mean
    share of the trained top-k that the folded-in top-k keeps, over the run's test users."""
    users = np.asarray(run.id_map.users[run.test_users], dtype=object)
    profiles = fold_in(run, train[train["user"].isin(set(users))][["user", "item", "rating"]])
    rows = pd.Index(profiles.users).get_indexer(users)
    seen = run.seen_matrix()
    logits = profile_logits(run, profiles)[torch.from_numpy(rows)]
    excluded = seen[run.test_users].tocoo()
    logits[torch.from_numpy(excluded.row).long(), torch.from_numpy(excluded.col).long()] = -torch.inf
    folded = torch.topk(logits, k).indices.numpy()
    trained, _ = top_unseen(run.model, run.test_users, seen, k)
    target = run.test_items[:, None]
    overlap = np.mean([len(set(a) & set(b)) / k for a, b in zip(folded, trained, strict=True)])
    return float((trained == target).any(1).mean()), float((folded == target).any(1).mean()), float(overlap)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--quality", action="store_true", help="also measure hit rates (trains two runs)")
    args = parser.parse_args()
    latency(args.visitors)
    if args.quality:
        quality()


if __name__ == "__main__":
    main()
