"""Seeded draws over users: the one sample of test users and the one bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_core.metrics import _resample as resample
from recsys_core.metrics import bootstrap_weights, sample_distinct, topk_metrics


def test_sample_is_distinct_sorted_seeded_and_whole_when_small() -> None:
    codes = np.array([9, 3, 3, 7, 1, 9, 4, 0, 12, 5])  # 8 distinct codes, with repeats
    assert sample_distinct(codes, None, 0).tolist() == [0, 1, 3, 4, 5, 7, 9, 12]
    assert sample_distinct(codes, 8, 0).tolist() == [0, 1, 3, 4, 5, 7, 9, 12]
    sample = sample_distinct(codes, 3, seed=5)
    assert len(sample) == 3 and set(sample) <= set(codes) and (np.diff(sample) > 0).all()
    assert np.array_equal(sample, sample_distinct(codes[::-1], 3, seed=5))  # order of rows: no matter
    seeds = {tuple(sample_distinct(codes, 3, seed=s)) for s in range(20)}
    assert len(seeds) > 1  # the seed chooses


def test_bootstrap_weights_resample_n_units_per_row_and_are_seeded() -> None:
    weights = np.concatenate(list(bootstrap_weights(7, 1000, seed=3)))
    assert weights.shape == (1000, 7)
    assert (weights.sum(axis=1) == 7).all()
    assert np.array_equal(weights, np.concatenate(list(bootstrap_weights(7, 1000, seed=3))))
    assert not np.array_equal(weights, np.concatenate(list(bootstrap_weights(7, 1000, seed=4))))


def test_bootstrap_draws_do_not_depend_on_the_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = np.concatenate(list(bootstrap_weights(7, 50, seed=1)))
    monkeypatch.setattr(resample, "BOOT_CHUNK_CELLS", 7 * 3)  # 3 replicates a chunk
    chunks = list(bootstrap_weights(7, 50, seed=1))
    assert len(chunks) == 17
    assert np.array_equal(np.concatenate(chunks), whole)


def test_coverage_standard_error_is_the_spread_over_the_bootstrap_resamples() -> None:
    lists = np.array([[0, 1], [2, -1], [3, 4], [0, 5], [6, 7], [1, -1]])
    n_items = 10
    relevant = sp.csr_matrix(np.eye(6, n_items, dtype=bool))

    def top(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return lists[rows], np.zeros(lists[rows].shape)

    result = topk_metrics(top, np.arange(6), relevant, n_items, 2)
    assert result["coverage"] == pytest.approx(8 / 10)
    by_hand = []
    for weights in np.concatenate(list(bootstrap_weights(6, 50, seed=0))):
        drawn = np.repeat(lists, weights.astype(int), axis=0)
        by_hand.append(len(np.unique(drawn[drawn >= 0])) / n_items)
    assert result["coverage_se"] == pytest.approx(np.std(by_hand, ddof=1))
    assert result["coverage_se"] > 0
