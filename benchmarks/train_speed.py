"""Training speed at the reference notebook's scale: our fused trainer against plain PyTorch.

Synthetic ratings shaped like the notebook's rebalanced training split (1,149,545 rows, 90,050
users, 48,769 products, long-tail popularity on both sides, embedding 200) are trained by

* ours: :class:`recsys_core.optim.NumbaStepper` (hand-written gradients, lazy Adam on the touched
  rows, a numba kernel over many batches per call), at batch 64 (the notebook's) and 1024;
* PyTorch with sparse embeddings and ``torch.optim.SparseAdam`` (batch 1024);
* the naive reference: ``torch.utils.data.DataLoader`` over a per-sample ``Dataset`` with dense
  embeddings and ``torch.optim.Adam`` (batch 1024), the way the model is usually written.

Each contender trains for about ``--seconds`` after one warm-up call (which compiles or loads
numba's kernel) and the script prints samples per second and the ratio to ours at batch 1024;
no contender needs to finish an epoch, rates are measured over the batches done. Last, one full
epoch of :func:`recsys_core.training.train_model` at batch 64 (the notebook's recipe, validation
included) shows what a user waits per epoch.

Usage::

    .venv/bin/python benchmarks/train_speed.py                 # 20 s per contender
    .venv/bin/python benchmarks/train_speed.py --seconds 5 --dim 64
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recsys_core.config import TrainConfig  # noqa: E402
from recsys_core.model import NCF  # noqa: E402
from recsys_core.optim import NumbaStepper  # noqa: E402
from recsys_core.training import TrainingData, train_model  # noqa: E402

ROWS, USERS, ITEMS, DIM = 1_149_545, 90_050, 48_769, 200
#: Star shares after the notebook's oversampling (1★ ×2.5, 2★ ×3, 3★ ×2 of 5.8/4.7/8.5/21.2/59.8 %).
STAR_SHARES = np.array([0.145, 0.141, 0.170, 0.212, 0.598])


def synthetic(rows: int, users: int, items: int, seed: int = 0):
    """Codes and targets with long-tail activity: every user and product appears at least once,
    the rest follow Zipf-like weights. Exponent 0.65 for products gives the notebook's validation
    split's shape (top product 0.5 % of rows, top 1 % of products 17 % of rows); 0.5 for users."""
    rng = np.random.default_rng(seed)

    def long_tail(n: int, exponent: float) -> np.ndarray:
        weights = 1.0 / np.arange(1, n + 1) ** exponent
        draws = rng.choice(n, size=rows - n, p=weights / weights.sum())
        return rng.permutation(np.concatenate([np.arange(n), draws]))

    user_codes = long_tail(users, 0.5)
    item_codes = long_tail(items, 0.65)
    stars = rng.choice(5, size=rows, p=STAR_SHARES / STAR_SHARES.sum())
    return user_codes.astype(np.int64), item_codes.astype(np.int64), (stars / 4).astype(np.float32)


def time_ours(users, items, targets, shape, batch: int, seconds: float) -> float:
    model = NCF(*shape, seed=0)
    stepper = NumbaStepper(model, batch, 1e-3)
    order = np.random.default_rng(1).permutation(len(users))
    u, i, t = users[order], items[order], targets[order]
    weights = np.zeros(0, np.float32)
    total = -(-len(u) // batch)
    stepper.run(u, i, t, weights, 0, 2)  # warm-up: compiles or loads the kernel
    done, chunk, samples, start = 2, 16, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        if done >= total:
            done = 0  # another epoch in the same order: only the speed matters here
        last = min(total, done + chunk)
        t0 = time.perf_counter()
        stepper.run(u, i, t, weights, done, last)
        # Calls of about 0.1 s, as train_model makes them.
        chunk = max(1, int((last - done) * 0.1 / max(time.perf_counter() - t0, 1e-6)))
        samples += min(last * batch, len(u)) - done * batch
        done = last
    return samples / (time.perf_counter() - start)


def time_sparse_adam(users, items, targets, shape, batch: int, seconds: float) -> float:
    n_users, n_items, dim = shape
    torch.manual_seed(0)
    tables = nn.ModuleList(
        [
            nn.Embedding(n, d, sparse=True)
            for n, d in ((n_users, dim), (n_items, dim), (n_users, 1), (n_items, 1))
        ]
    )
    optimiser = torch.optim.SparseAdam(list(tables.parameters()), lr=1e-3)
    order = torch.as_tensor(np.random.default_rng(1).permutation(len(users)))
    u_all, i_all, t_all = (torch.as_tensor(a)[order] for a in (users, items, targets))

    def step(lo: int) -> None:
        u, i, t = u_all[lo : lo + batch], i_all[lo : lo + batch], t_all[lo : lo + batch]
        logits = (tables[0](u) * tables[1](i)).sum(1) + tables[2](u)[:, 0] + tables[3](i)[:, 0]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, t)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    step(0)
    batches, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(((batches + 1) * batch) % (len(users) - batch))
        batches += 1
    return batches * batch / (time.perf_counter() - start)


def time_train_model(users, items, targets, shape, batch: int, seconds: float) -> float:
    """One full epoch of :func:`train_model` (shuffle, kernel, validation on one pair per user)."""
    n_users, n_items, dim = shape
    rng = np.random.default_rng(2)
    val_users = np.arange(n_users)
    val_items = rng.integers(0, n_items, n_users)
    val_ratings = rng.integers(1, 6, n_users).astype(np.float64)
    data = TrainingData(users, items, targets, val_users, val_items, val_ratings, 1.0, 5.0)
    config = TrainConfig(embedding_dim=dim, batch_size=batch, epochs=1, multipliers={})
    # Warm-up on a slice so that compiling is not timed.
    train_model(
        NCF(*shape, seed=0),
        TrainingData(
            users[:5000], items[:5000], targets[:5000], val_users[:10], val_items[:10], val_ratings[:10], 1, 5
        ),
        config,
    )
    reports = []
    start = time.perf_counter()
    train_model(NCF(*shape, seed=0), data, config, on_epoch=reports.append)
    wall = time.perf_counter() - start
    print(
        f"  train_model, 1 epoch at batch {batch}: {wall:.1f} s in all, epoch {reports[0].seconds:.1f} s "
        f"(training at {reports[0].samples_per_second:,.0f} samples/s, then validation on "
        f"{n_users:,} pairs)"
    )
    return len(users) / wall


class _PerSample(torch.utils.data.Dataset):
    def __init__(self, users, items, targets):
        self.users, self.items, self.targets = users, items, targets

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, index: int):
        return (
            torch.tensor(self.users[index]),
            torch.tensor(self.items[index]),
            torch.tensor(self.targets[index]),
        )


def time_naive(users, items, targets, shape, batch: int, seconds: float) -> float:
    model = NCF(*shape, seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        _PerSample(users, items, targets), batch_size=batch, shuffle=True,
        generator=torch.Generator().manual_seed(1),
    )  # fmt: skip
    batches, start = 0, None
    for u, i, t in loader:
        loss = nn.functional.binary_cross_entropy_with_logits(model(u, i), t)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if start is None:  # the first batch is warm-up
            start = time.perf_counter()
            continue
        batches += 1
        if time.perf_counter() - start >= seconds:
            break
    return batches * batch / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds per contender")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--dim", type=int, default=DIM)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["ours64", "ours1024", "sparse", "naive", "epoch"]
    )
    args = parser.parse_args(argv)
    shape = (args.users, args.items, args.dim)

    users, items, targets = synthetic(args.rows, args.users, args.items)
    per_batch = np.bincount(items[:1024], minlength=args.items)
    print(
        f"{args.rows:,} rows, {args.users:,} users, {args.items:,} products, embedding {args.dim}; "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads; top product in "
        f"{per_batch.max()} of the first 1024 rows; {args.seconds:g} s per contender"
    )
    contenders = [
        ("ours64", "ours, batch 64", time_ours, 64),
        ("ours1024", "ours, batch 1024", time_ours, 1024),
        ("sparse", "torch sparse + SparseAdam, batch 1024", time_sparse_adam, 1024),
        ("naive", "DataLoader + dense Adam, batch 1024", time_naive, 1024),
    ]
    rates: dict[str, float] = {}
    for key, label, timer, batch in contenders:
        if key in args.skip:
            continue
        rates[key] = timer(users, items, targets, shape, batch, args.seconds)
        print(f"  {label:42s} {rates[key]:>12,.0f} samples/s", flush=True)
    if "epoch" not in args.skip:
        time_train_model(users, items, targets, shape, 64, args.seconds)
    if "ours1024" in rates:
        print("ratios (ours at batch 1024 / contender):")
        for key, label, _, _ in contenders:
            if key in rates and key != "ours1024":
                print(f"  {label:42s} {rates['ours1024'] / rates[key]:>8.1f}x")


if __name__ == "__main__":
    main()
