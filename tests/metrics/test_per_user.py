"""The one per-user ranking kernel: hit, NDCG, precision and recall of top-k lists by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_core.errors import RecsysError
from recsys_core.metrics import (
    CLASS_HIT_METRICS,
    PER_USER_METRICS,
    per_user_class_hits,
    per_user_ranking,
    per_user_topk_metrics,
)

# 3 users x 5 items; user 1's list is padded with -1 (fewer candidates than k).
ITEMS = np.array([[3, 1, 2], [0, -1, -1], [4, 2, 1]])
RELEVANT = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 1, 1, 0, 0]], dtype=bool))


def test_hits_ndcg_precision_recall_by_hand() -> None:
    values = per_user_ranking(ITEMS, RELEVANT, 3)
    assert tuple(values) == PER_USER_METRICS
    second = 1.0 / math.log2(3)  # the discount of rank 2
    ideal2 = 1.0 + second  # two relevant items at the top
    np.testing.assert_array_equal(values["hit_rate_at_k"], [1.0, 0.0, 1.0])
    np.testing.assert_allclose(values["ndcg_at_k"], [second, 0.0, (second + 0.5) / ideal2])
    np.testing.assert_allclose(values["precision_at_k"], [1 / 3, 0.0, 2 / 3])
    np.testing.assert_allclose(values["recall_at_k"], [1.0, 0.0, 1.0])
    assert all(v.dtype == np.float64 for v in values.values())


def test_padding_never_hits_and_k_beyond_the_catalogue_is_capped() -> None:
    # -1 must not match item 4 of the row before (a key of row * n_items - 1) nor anything else.
    items = np.array([[-1, -1], [4, -1]])
    relevant = sp.csr_matrix(np.array([[0, 0, 0, 0, 1], [0, 0, 0, 0, 1]], dtype=bool))
    values = per_user_ranking(items, relevant, 2)
    np.testing.assert_array_equal(values["hit_rate_at_k"], [0.0, 1.0])
    np.testing.assert_array_equal(values["ndcg_at_k"], [0.0, 1.0])
    # k = 10 over 5 items: the ideal DCG is of min(relevant, 5) items; precision divides by k.
    wide = per_user_ranking(np.array([[1, 0, 2, 3, 4]]), sp.csr_matrix(np.ones((1, 5), dtype=bool)), 10)
    assert wide["ndcg_at_k"][0] == pytest.approx(1.0) and wide["precision_at_k"][0] == pytest.approx(0.5)


def test_refuses_users_without_relevant_items_and_mismatched_rows() -> None:
    with pytest.raises(RecsysError, match="at least one relevant"):
        per_user_ranking(ITEMS, sp.csr_matrix((3, 5), dtype=bool), 3)
    with pytest.raises(RecsysError, match="for 2 users but relevant items for 3"):
        per_user_ranking(ITEMS[:2], RELEVANT, 3)


def test_the_chunked_evaluation_path_gives_the_same_values() -> None:
    def top(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return ITEMS[rows], np.zeros(ITEMS[rows].shape)

    per_user, lists = per_user_topk_metrics(top, np.arange(3), RELEVANT, 5, 3, chunk_size=2)
    assert np.array_equal(lists, ITEMS)
    whole = per_user_ranking(ITEMS, RELEVANT, 3)
    for key in PER_USER_METRICS:
        np.testing.assert_array_equal(per_user[key], whole[key])


def test_class_hits_split_by_liked_and_disliked_held_out_products() -> None:
    # User 0 liked item 1 (found); user 1 disliked item 3 (missed); user 2 liked 1 (found) and
    # disliked 2 (found).
    liked = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 1, 0, 0, 0]], dtype=bool))
    hits = per_user_class_hits(ITEMS, RELEVANT, liked, 3)
    assert tuple(hits) == CLASS_HIT_METRICS
    np.testing.assert_array_equal(hits["hit_rate_liked_at_k"], [1.0, np.nan, 1.0])
    np.testing.assert_array_equal(hits["hit_rate_disliked_at_k"], [np.nan, 0.0, 1.0])
    # Only the first k entries count: at k = 1 user 2's list holds item 4 alone.
    assert np.isnan(per_user_class_hits(ITEMS, RELEVANT, liked, 1)["hit_rate_disliked_at_k"][0])
    assert per_user_class_hits(ITEMS, RELEVANT, liked, 1)["hit_rate_liked_at_k"][2] == 0.0
    with pytest.raises(RecsysError, match="liked products cover"):
        per_user_class_hits(ITEMS, RELEVANT, liked[:2], 3)
