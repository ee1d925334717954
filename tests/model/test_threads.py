"""torch pinned to one thread only inside the block that asks for it, and where the library asks."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from recsys_core.metrics import ranking_metrics
from recsys_core.model import NCF, one_torch_thread


def test_one_thread_inside_restored_after_also_when_nested_or_raising() -> None:
    before = torch.get_num_threads()
    with one_torch_thread("cpu"):
        assert torch.get_num_threads() == 1
        with one_torch_thread("cpu"):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), one_torch_thread("cpu"):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_concurrent_blocks_restore_once_the_last_leaves() -> None:
    before = torch.get_num_threads()
    inside, release = threading.Event(), threading.Event()

    def job() -> None:
        with one_torch_thread("cpu"):
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=job)
    worker.start()
    inside.wait(10)
    with one_torch_thread("cpu"):
        pass
    release.set()
    worker.join(10)
    assert torch.get_num_threads() == before


def test_the_test_metrics_rank_on_one_thread() -> None:
    """Ranking blocks is many small operations: two threads waited on each other for half the
    time of the test metrics on a busy machine (the module's docstring)."""
    seen_threads: list[int] = []

    class Recording(NCF):
        def score_all_items(self, users, out=None):
            seen_threads.append(torch.get_num_threads())
            return super().score_all_items(users, out)

    rng = np.random.default_rng(1)
    users, items = rng.integers(0, 50, 600), rng.integers(0, 40, 600)
    seen = sp.csr_matrix((np.ones(len(users), bool), (users, items)), shape=(50, 40))
    before = torch.get_num_threads()
    ranking_metrics(Recording(50, 40, 4), users[:20], items[:20], seen, k=5)
    assert seen_threads and set(seen_threads) == {1}
    assert torch.get_num_threads() == before
