"""Runs for the tests that save, load, forge and recommend from run folders: :func:`make_run`
builds a small evaluated run; :func:`resign`, :func:`npy_bytes` and :func:`replace_member` edit a
saved folder and keep its checksums valid, as a forger would."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recsys_core.config import TrainConfig
from recsys_core.data import IdMap, item_popularity
from recsys_core.metrics import evaluate_run
from recsys_core.model import NCF
from recsys_core.runs import Run, RunSummary, file_sha256


@dataclass
class FakeEpochReport:
    """Stands in for training.EpochReport: any dataclass history entry is stored as a dict."""

    epoch: int
    train_loss: float
    val_loss: float
    val_auc: float


def make_run(*, n_users: int = 30, n_items: int = 25, products: bool = True, seed: int = 0) -> Run:
    rng = np.random.default_rng(seed)
    users = [f"U{i:03d}" for i in range(n_users)]
    items = [f"B{i:04d}" for i in range(n_items)]
    id_map = IdMap(users=pd.Index(users, dtype="str"), items=pd.Index(items, dtype="str"))
    # each user rated 3..8 distinct items (train+validation); one other item is held out as test
    seen_u, seen_i, test_u, test_i = [], [], [], []
    for u in range(n_users):
        picked = rng.choice(n_items, rng.integers(4, 9), replace=False)
        seen_u += [u] * (len(picked) - 1)
        seen_i += picked[:-1].tolist()
        test_u.append(u)
        test_i.append(int(picked[-1]))
    seen_u, seen_i = np.array(seen_u), np.array(seen_i)
    run = Run(
        name="test run",
        created_at="2024-05-01T12:00:00+00:00",
        config=TrainConfig.preset("fast", embedding_dim=6, epochs=2),
        id_map=id_map,
        model=NCF(n_users, n_items, embedding_dim=6, seed=seed),
        history=[FakeEpochReport(1, 0.6, 0.55, float("nan")), FakeEpochReport(2, 0.5, 0.52, 0.71)],
        class_counts_before={1.0: 10, 2.0: 8, 3.0: 20, 4.0: 40, 5.0: 90},
        class_counts_after={1.0: 25, 2.0: 24, 3.0: 40, 4.0: 40, 5.0: 90},
        metrics={},
        summary=RunSummary(method="leave-last-out", train=len(seen_u), test=n_users, best_epoch=2),
        seen_users=seen_u,
        seen_items=seen_i,
        test_users=np.array(test_u),
        test_items=np.array(test_i),
        test_ratings=rng.integers(1, 6, n_users).astype(float),
        popularity=item_popularity(seen_i, n_items),
        rating_min=1.0,
        rating_max=5.0,
        products=(
            pd.DataFrame(
                {
                    "item": items,
                    "name": [f"Product {i}" for i in range(n_items)],
                    "category": ["Cameras" if i % 2 else "Headphones" for i in range(n_items)],
                }
            )
            if products
            else None
        ),
        duration_seconds=12.5,
        message="stopped early after epoch 2",
    )
    run.metrics = evaluate_run(run, k=5)
    return run


def resign(folder: Path) -> None:
    """Make the manifest agree with every file again (sizes and sha256)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        manifest["files"][name] = {
            "sha256": file_sha256(folder / name),
            "bytes": (folder / name).stat().st_size,
        }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def npy_bytes(descr: str, shape: tuple[int, ...], data: bytes) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def replace_member(path: Path, member: str, payload: bytes, compress: bool = False) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = payload
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
