"""Training speed at the reference notebook's scale: our fused trainer against PyTorch and Surprise.

Synthetic ratings shaped like the notebook's rebalanced training split (1,149,545 rows, 90,050
users, 48,769 products, long-tail popularity on both sides, embedding 200) are trained by

* ours: :class:`recsys_core.training.NumbaStepper` (hand-written gradients, lazy Adam on the touched
  rows, a numba kernel over many batches per call, its own choice of thread count), at batch 64
  (the notebook's) and 1024;
* ours, torch ops: :class:`recsys_core.training.TorchStepper` (the same maths as torch tensor ops,
  the path the trainer takes on CUDA), here on the CPU, batch 1024;
* PyTorch with sparse embeddings and ``torch.optim.SparseAdam`` (batch 1024), written as well as
  we know how: each side's bias is the last column of its embedding row (one sparse table per
  side instead of two: half the optimiser calls, the same maths, since Adam is elementwise);
* the naive reference: ``torch.utils.data.DataLoader`` over a per-sample ``Dataset`` with dense
  embeddings and ``torch.optim.Adam`` (batch 1024), the way the model is usually written;
* Surprise's ``SVD`` (``n_factors=200, n_epochs=1``: plain per-sample SGD, no Adam) fitted on a
  Surprise ``Dataset`` of the same rows, if ``scikit-surprise`` is installed (``pip install
  -e .[bench]``); the fit is timed, building the dataset is not.

Fairness of the torch contenders: on this 2-core machine shared with other work, torch's
OpenMP pool oversubscribes (two spinning threads on a core that another process also wants)
and a step can run ten or more times slower than with one thread: that is how SparseAdam once
measured 8,900 samples/s here. So each torch contender is timed with every thread count from 1
to the number of cores, the counts taking turns every few seconds (so they see the same load),
and credited with the fastest; all rates are printed. (Our kernel picks its thread count itself,
as it does in the app.)

Each contender trains for about ``--seconds`` after a warm-up (which compiles or loads numba's
kernel); rates are samples per second over the batches done, and ratios are to ours at batch
1024. Last, one full epoch of :func:`recsys_core.training.train_model` at batch 64 (the
notebook's recipe, validation included) shows what a user waits per epoch. The load average
is printed at the start and the end: figures taken under load are not comparable.

Usage::

    .venv/bin/python benchmarks/train_speed.py                 # 20 s per contender
    .venv/bin/python benchmarks/train_speed.py --seconds 5 --dim 64 --skip naive surprise
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recsys_core.config import TrainConfig  # noqa: E402
from recsys_core.data import TrainingData  # noqa: E402
from recsys_core.model import NCF  # noqa: E402
from recsys_core.training import NumbaStepper, TorchStepper, train_model  # noqa: E402

ROWS, USERS, ITEMS, DIM = 1_149_545, 90_050, 48_769, 200
#: Star shares after the notebook's oversampling (1★ ×2.5, 2★ ×3, 3★ ×2 of 5.8/4.7/8.5/21.2/59.8 %).
STAR_SHARES = np.array([0.145, 0.141, 0.170, 0.212, 0.598])
#: Length of one timed segment of a torch contender; thread counts take turns segment by segment.
SEGMENT_SECONDS = 2.0


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


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


# -- ours -------------------------------------------------------------------------------------


def _time_stepper(stepper, users, items, targets, batch: int, seconds: float) -> float:
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


def time_ours(users, items, targets, shape, batch: int, seconds: float) -> tuple[float, str]:
    stepper = NumbaStepper(NCF(*shape, seed=0), batch, 1e-3)
    rate = _time_stepper(stepper, users, items, targets, batch, seconds)
    chooser = stepper._threads
    measured = ", ".join(
        f"{n} thread{'s' * (n > 1)} {r * batch:,.0f}/s" for n, r in sorted(chooser.rates.items())
    )
    return rate, f"kernel chose {chooser.best()} thread(s); measured {measured}"


def time_torch_stepper(users, items, targets, shape, batch: int, seconds: float) -> tuple[float, str]:
    stepper = TorchStepper(NCF(*shape, seed=0), batch, 1e-3)
    return _with_best_threads(lambda s: _time_stepper(stepper, users, items, targets, batch, s), seconds)


# -- torch contenders -------------------------------------------------------------------------


def _with_best_threads(segment: Callable[[float], float], seconds: float) -> tuple[float, str]:
    """Time ``segment(s) -> samples/s`` with each torch thread count from 1 to the cores for
    ``seconds`` in all, the counts taking turns every :data:`SEGMENT_SECONDS` so that they see the
    same load from other processes; returns the fastest count's rate and a note of all."""
    previous = torch.get_num_threads()
    counts = range(1, (os.cpu_count() or 1) + 1)
    rounds = max(1, round(seconds / SEGMENT_SECONDS))
    rates: dict[int, list[float]] = {n: [] for n in counts}
    try:
        for _ in range(rounds):
            for threads in counts:
                torch.set_num_threads(threads)
                rates[threads].append(segment(seconds / rounds))
    finally:
        torch.set_num_threads(previous)
    means = {n: float(np.mean(r)) for n, r in rates.items()}
    best = max(means, key=means.__getitem__)
    tried = ", ".join(f"{n} thread{'s' * (n > 1)} {r:,.0f}/s" for n, r in means.items())
    return means[best], f"best of torch thread counts, {seconds:g} s each in turns: {tried}"


def time_sparse_adam(users, items, targets, shape, batch: int, seconds: float) -> tuple[float, str]:
    n_users, n_items, dim = shape
    torch.manual_seed(0)
    # Row = (embedding, bias): one sparse gradient and one SparseAdam update per side and step.
    user_table = nn.Embedding(n_users, dim + 1, sparse=True)
    item_table = nn.Embedding(n_items, dim + 1, sparse=True)
    optimiser = torch.optim.SparseAdam([user_table.weight, item_table.weight], lr=1e-3)
    order = torch.as_tensor(np.random.default_rng(1).permutation(len(users)))
    u_all, i_all, t_all = (torch.as_tensor(a)[order] for a in (users, items, targets))
    position = [0]

    def step() -> None:
        lo = position[0]
        position[0] = (lo + batch) % (len(users) - batch)
        p = user_table(u_all[lo : lo + batch])
        q = item_table(i_all[lo : lo + batch])
        logits = (p[:, :dim] * q[:, :dim]).sum(1) + p[:, dim] + q[:, dim]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, t_all[lo : lo + batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    return _with_best_threads(lambda s: _steps(step, batch, s), seconds)


def _steps(step: Callable[[], None], batch: int, seconds: float) -> float:
    step()  # warm-up
    batches, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        batches += 1
    return batches * batch / (time.perf_counter() - start)


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


def time_naive(users, items, targets, shape, batch: int, seconds: float) -> tuple[float, str]:
    model = NCF(*shape, seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(
        _PerSample(users, items, targets), batch_size=batch, shuffle=True,
        generator=torch.Generator().manual_seed(1),
    )  # fmt: skip
    batches = iter(loader)

    def step() -> None:
        nonlocal batches
        try:
            u, i, t = next(batches)
        except StopIteration:
            batches = iter(loader)
            u, i, t = next(batches)
        loss = nn.functional.binary_cross_entropy_with_logits(model(u, i), t)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    return _with_best_threads(lambda s: _steps(step, batch, s), seconds)


# -- Surprise ---------------------------------------------------------------------------------


def time_surprise(users, items, targets, shape, batch: int, seconds: float) -> tuple[float, str] | None:
    """One epoch of Surprise's SVD with ``shape``'s factors on the same rows (stars 1..5)."""
    try:
        import pandas as pd
        from surprise import SVD, Dataset, Reader
    except ImportError:
        return None
    frame = pd.DataFrame({"user": users, "item": items, "rating": targets * 4.0 + 1.0})
    started = time.perf_counter()
    trainset = Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()
    built = time.perf_counter() - started
    algo = SVD(n_factors=shape[2], n_epochs=1, random_state=0)
    started = time.perf_counter()
    algo.fit(trainset)
    fit = time.perf_counter() - started
    return len(users) / fit, f"fit of one epoch {fit:.1f} s (building the Dataset, not timed: {built:.1f} s)"


# -- the user's view --------------------------------------------------------------------------


def time_train_model(users, items, targets, shape, batch: int) -> None:
    """One full epoch of :func:`train_model` (shuffle, kernel, validation on one pair per user)."""
    n_users, n_items, dim = shape
    rng = np.random.default_rng(2)
    val_users = np.arange(n_users)
    val_items = rng.integers(0, n_items, n_users)
    val_ratings = rng.integers(1, 6, n_users).astype(np.float64)
    data = TrainingData(users, items, targets, val_users, val_items, val_ratings, 1.0, 5.0)
    config = TrainConfig(embedding_dim=dim, batch_size=batch, epochs=1, multipliers={}, device="cpu")
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


CONTENDERS = [
    ("ours64", "ours (numba), batch 64", time_ours, 64),
    ("ours1024", "ours (numba), batch 1024", time_ours, 1024),
    ("torchstep", "ours as torch ops (CUDA path), batch 1024", time_torch_stepper, 1024),
    ("sparse", "torch sparse + SparseAdam, batch 1024", time_sparse_adam, 1024),
    ("naive", "DataLoader + dense Adam, batch 1024", time_naive, 1024),
    ("surprise", "Surprise SVD (factors = dim), 1 epoch", time_surprise, 1),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds per contender")
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--dim", type=int, default=DIM)
    parser.add_argument("--skip", nargs="*", default=[], choices=[c[0] for c in CONTENDERS] + ["epoch"])
    args = parser.parse_args(argv)
    shape = (args.users, args.items, args.dim)

    users, items, targets = synthetic(args.rows, args.users, args.items)
    per_batch = np.bincount(items[:1024], minlength=args.items)
    print(
        f"{args.rows:,} rows, {args.users:,} users, {args.items:,} products, embedding {args.dim}; "
        f"torch {torch.__version__}, {os.cpu_count()} cores; top product in {per_batch.max()} of the "
        f"first 1024 rows; {args.seconds:g} s per contender; {load()}"
    )
    rates: dict[str, float] = {}
    for key, label, timer, batch in CONTENDERS:
        if key in args.skip:
            continue
        result = timer(users, items, targets, shape, batch, args.seconds)
        if result is None:
            print(f"  {label:44s} skipped: scikit-surprise is not installed (pip install -e .[bench])")
            continue
        rates[key], note = result
        print(f"  {label:44s} {rates[key]:>12,.0f} samples/s   ({note})", flush=True)
    if "epoch" not in args.skip:
        time_train_model(users, items, targets, shape, 64)
    labels = {key: label for key, label, _, _ in CONTENDERS}
    for ref in ("ours1024", "ours64"):
        if ref in rates:
            print(f"ratios ({labels[ref]} / contender):")
            for key, label, _, _ in CONTENDERS:
                if key in rates and key != ref:
                    print(f"  {label:44s} {rates[ref] / rates[key]:>8.1f}x")
    print(f"done; {load()}")


if __name__ == "__main__":
    main()
