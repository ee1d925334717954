"""Metrics on small hand-worked cases, checked against values computed by hand or by brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recsys_core.data import item_popularity
from recsys_core.errors import RecsysError
from recsys_core.metrics import classification_metrics, ranking_metrics, threshold_curve
from recsys_core.model import NCF
from recsys_core.topn import build_seen_matrix, popularity_order


def fixed_ranking_model(n_users: int, item_logits: list[float]) -> NCF:
    """An NCF whose logits are the same item biases for every user: a known global ranking."""
    model = NCF(n_users, len(item_logits), embedding_dim=1, seed=0)
    with torch.no_grad():
        model.user_embedding.weight.zero_()
        model.user_bias.weight.zero_()
        model.item_bias.weight[:, 0] = torch.tensor(item_logits)
    return model


# -- classification ---------------------------------------------------------------------------


def test_classification_metrics_hand_worked_case() -> None:
    ratings = [5, 4, 3, 1, 5, 2]
    scores = [0.9, 0.5, 0.7, 0.1, 0.8, 0.65]
    m = classification_metrics(ratings, scores, threshold=0.625, positive_rating=4)
    # positives: #0, #1, #4; predicted positive: #0, #2, #4, #5
    assert m["confusion"] == {"tp": 2, "fp": 2, "fn": 1, "tn": 1}
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(4 / 7)
    # positive scores 0.9, 0.5, 0.8 beat negatives 0.7, 0.1, 0.65 in 3 + 1 + 3 of 9 pairs
    assert m["roc_auc"] == pytest.approx(7 / 9)
    assert m["trivial_precision"] == pytest.approx(0.5)
    assert m["positive_share"] == pytest.approx(0.5)
    assert m["n"] == 6
    assert m["threshold"] == 0.625


def test_score_exactly_at_threshold_and_rating_at_positive_count_as_positive() -> None:
    m = classification_metrics([4.0, 3.0], [0.625, 0.2], threshold=0.625, positive_rating=4)
    assert m["confusion"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 1}


def test_undefined_metrics_are_zero_or_none_never_nan() -> None:
    # one class only and nothing predicted positive: AUC has no value; precision/F1 follow
    # scikit-learn's zero_division=0
    m = classification_metrics([5, 4, 5], [0.1, 0.2, 0.3], threshold=0.625, positive_rating=4)
    assert m["roc_auc"] is None
    assert m["precision"] == 0.0
    assert m["f1"] == 0.0
    assert m["recall"] == 0.0
    assert m["confusion"] == {"tp": 0, "fp": 0, "fn": 3, "tn": 0}
    assert m["trivial_precision"] == 1.0
    # no positives at all: recall has no denominator either
    m = classification_metrics([1, 2], [0.9, 0.1], threshold=0.625, positive_rating=4)
    assert (m["precision"], m["recall"], m["f1"], m["roc_auc"]) == (0.0, 0.0, 0.0, None)


def test_classification_rejects_bad_input() -> None:
    with pytest.raises(RecsysError, match="pair up"):
        classification_metrics([1, 2], [0.5], threshold=0.5, positive_rating=4)
    with pytest.raises(RecsysError, match="empty"):
        classification_metrics([], [], threshold=0.5, positive_rating=4)
    with pytest.raises(RecsysError, match="position 1"):
        classification_metrics([1, 2], [0.5, float("nan")], threshold=0.5, positive_rating=4)


def test_threshold_curve_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    ratings = rng.integers(1, 6, 500).astype(float)
    scores = np.round(rng.random(500), 2)  # rounding creates ties at grid thresholds
    curve = threshold_curve(ratings, scores, positive_rating=4, n_points=21)
    assert list(curve.columns) == ["threshold", "precision", "recall"]
    assert len(curve) == 21
    positive = ratings >= 4
    for row in curve.itertuples():
        predicted = scores >= row.threshold
        tp = np.sum(predicted & positive)
        if predicted.any():
            assert row.precision == pytest.approx(tp / predicted.sum())
        else:
            assert math.isnan(row.precision)
        assert row.recall == pytest.approx(tp / positive.sum())
    assert curve["recall"].iloc[0] == 1.0
    assert curve["precision"].iloc[0] == pytest.approx(positive.mean())


# -- helpers ----------------------------------------------------------------------------------


def test_build_seen_matrix_collapses_duplicates() -> None:
    seen = build_seen_matrix([0, 0, 2, 0], [1, 1, 3, 0], 3, 4)
    assert seen.shape == (3, 4)
    assert seen.dtype == bool
    assert seen.nnz == 3
    assert seen[0].indices.tolist() == [0, 1]
    assert seen[1].nnz == 0
    with pytest.raises(RecsysError, match="outside"):
        build_seen_matrix([0, -1], [0, 0], 3, 4)


def test_item_popularity_and_order() -> None:
    counts = item_popularity([2, 2, 0, 2, 0, 3], 5)
    assert counts.tolist() == [2, 0, 3, 1, 0]
    # ties (items 1 and 4, both 0) go to the lower code
    assert popularity_order(counts).tolist() == [2, 0, 3, 1, 4]


# -- ranking ----------------------------------------------------------------------------------


def test_ranking_metrics_hand_worked_case() -> None:
    # global ranking: item 0 > 1 > 2 > 3 > 4
    model = fixed_ranking_model(3, [5.0, 4.0, 3.0, 2.0, 1.0])
    seen = build_seen_matrix([0, 1], [0, 1], 3, 5)
    test_users = [0, 1, 2, 2]
    test_items = [2, 4, 0, 3]
    result = ranking_metrics(model, test_users, test_items, seen, k=3, popularity=np.array([1, 10, 10, 0, 3]))
    assert result["k"] == 3
    m = result["model"]
    # user 0: candidates 1,2,3,4 -> top 3 = 1,2,3, test item 2 at rank 2
    # user 1: candidates 0,2,3,4 -> top 3 = 0,2,3, test item 4 missed
    # user 2: top 3 = 0,1,2; of test items {0, 3} only 0, at rank 1
    assert m["hit_rate_at_k"] == pytest.approx(2 / 3)
    assert m["precision_at_k"] == pytest.approx((1 / 3 + 0 + 1 / 3) / 3)
    assert m["recall_at_k"] == pytest.approx((1 + 0 + 1 / 2) / 3)
    ndcg_user2 = 1 / (1 + 1 / math.log2(3))
    assert m["ndcg_at_k"] == pytest.approx((1 / math.log2(3) + 0 + ndcg_user2) / 3)
    assert m["coverage"] == pytest.approx(4 / 5)  # items 0,1,2,3 appear somewhere

    p = result["popularity"]
    # popularity order 1, 2 (tie, lower code first), 4, 0, 3
    # user 0 (seen 0): 1,2,4 -> hit at rank 2; user 1 (seen 1): 2,4,0 -> hit at rank 2;
    # user 2: 1,2,4 -> miss
    assert p["hit_rate_at_k"] == pytest.approx(2 / 3)
    assert p["ndcg_at_k"] == pytest.approx(2 / math.log2(3) / 3)
    assert p["recall_at_k"] == pytest.approx(2 / 3)
    assert p["coverage"] == pytest.approx(4 / 5)  # items 0,1,2,4


def test_ranking_metrics_split_hits_by_liked_and_disliked_held_out_products() -> None:
    # The hand-worked case above: user 0 finds item 2 (liked), user 1 misses item 4 (disliked),
    # user 2 finds item 0 (disliked) and misses item 3 (liked).
    model = fixed_ranking_model(3, [5.0, 4.0, 3.0, 2.0, 1.0])
    seen = build_seen_matrix([0, 1], [0, 1], 3, 5)
    liked = [True, False, False, True]
    m = ranking_metrics(model, [0, 1, 2, 2], [2, 4, 0, 3], seen, k=3, liked=liked)["model"]
    assert m["hit_rate_liked_at_k"] == pytest.approx(1 / 2)  # users 0 and 2: one finds theirs
    assert m["hit_rate_liked_at_k_users"] == 2
    assert m["hit_rate_disliked_at_k"] == pytest.approx(1 / 2)  # users 1 and 2
    assert m["hit_rate_liked_at_k_se"] == pytest.approx(0.5)  # std 0.707 over sqrt(2)
    plain = ranking_metrics(model, [0, 1, 2, 2], [2, 4, 0, 3], seen, k=3)["model"]
    assert "hit_rate_liked_at_k" not in plain
    nobody = ranking_metrics(model, [0], [2], seen, k=3, liked=[True])["model"]
    assert nobody["hit_rate_disliked_at_k"] is None and nobody["hit_rate_disliked_at_k_users"] == 0
    with pytest.raises(RecsysError, match="'liked' marks"):
        ranking_metrics(model, [0, 1], [2, 4], seen, k=3, liked=[True])


def test_single_best_item_gives_ndcg_one_over_log2_3_when_second() -> None:
    model = fixed_ranking_model(1, [3.0, 2.0, 1.0])
    seen = build_seen_matrix([], [], 1, 3)
    m = ranking_metrics(model, [0], [1], seen, k=2)["model"]
    assert m["ndcg_at_k"] == pytest.approx(1 / math.log2(3))
    assert m["hit_rate_at_k"] == 1.0
    assert m["precision_at_k"] == pytest.approx(0.5)


def test_seen_items_are_never_recommended_even_when_k_exceeds_candidates() -> None:
    # the model loves items 0..3, but the user has rated them: only item 4 is left
    model = fixed_ranking_model(1, [9.0, 8.0, 7.0, 6.0, -5.0])
    seen = build_seen_matrix([0, 0, 0, 0], [0, 1, 2, 3], 1, 5)
    result = ranking_metrics(model, [0], [4], seen, k=10, popularity=np.array([9, 9, 9, 9, 0]))
    for who in ("model", "popularity"):
        m = result[who]
        assert m["hit_rate_at_k"] == 1.0
        assert m["ndcg_at_k"] == pytest.approx(1.0)
        assert m["precision_at_k"] == pytest.approx(1 / 10)
        assert m["coverage"] == pytest.approx(1 / 5)  # seen items (the -inf tail) are not counted


def brute_force_ranking(logits: np.ndarray, users, items, seen, k: int) -> dict[str, float]:
    """Per-user loop with numpy argsort over a full score matrix: an independent implementation."""
    relevant: dict[int, set[int]] = {}
    for u, i in zip(users, items, strict=True):
        relevant.setdefault(int(u), set()).add(int(i))
    totals = {"precision_at_k": 0.0, "recall_at_k": 0.0, "ndcg_at_k": 0.0, "hit_rate_at_k": 0.0}
    shown: set[int] = set()
    for u, rel in relevant.items():
        excluded = set(seen[u].indices.tolist())
        ranked = [int(i) for i in np.argsort(-logits[u], kind="stable") if int(i) not in excluded][:k]
        shown.update(ranked)
        gains = [1.0 if i in rel else 0.0 for i in ranked]
        dcg = sum(g / math.log2(r + 2) for r, g in enumerate(gains))
        idcg = sum(1 / math.log2(r + 2) for r in range(min(len(rel), k)))
        totals["precision_at_k"] += sum(gains) / k
        totals["recall_at_k"] += sum(gains) / len(rel)
        totals["ndcg_at_k"] += dcg / idcg
        totals["hit_rate_at_k"] += float(sum(gains) > 0)
    result = {key: value / len(relevant) for key, value in totals.items()}
    result["coverage"] = len(shown) / logits.shape[1]
    return result


def test_ranking_metrics_match_brute_force_and_do_not_depend_on_chunking() -> None:
    rng = np.random.default_rng(7)
    n_users, n_items = 60, 40
    model = NCF(n_users, n_items, embedding_dim=8, seed=1)
    seen_users = rng.integers(0, n_users, 600)
    seen_items = rng.integers(0, n_items, 600)
    seen = build_seen_matrix(seen_users, seen_items, n_users, n_items)
    # up to three test items per user, never among the user's seen items
    test_users, test_items = [], []
    for u in rng.choice(n_users, 45, replace=False):
        free = np.setdiff1d(np.arange(n_items), seen[u].indices)
        for i in rng.choice(free, rng.integers(1, 4), replace=False):
            test_users.append(int(u))
            test_items.append(int(i))
    popularity = rng.integers(0, 6, n_items)  # many ties: broken towards the lower item code
    with torch.no_grad():
        logits = model.score_all_items(torch.arange(n_users)).numpy()
    by_popularity = sorted(range(n_items), key=lambda i: (-popularity[i], i))
    popular_logits = np.tile(-np.argsort(by_popularity).astype(float), (n_users, 1))
    expected = {
        "model": brute_force_ranking(logits, test_users, test_items, seen, k=5),
        "popularity": brute_force_ranking(popular_logits, test_users, test_items, seen, k=5),
    }
    for chunk in (1, 7, 1024):
        got = ranking_metrics(
            model, test_users, test_items, seen, k=5, popularity=popularity, chunk_size=chunk
        )
        for who in ("model", "popularity"):
            for key, value in expected[who].items():
                assert got[who][key] == pytest.approx(value), (chunk, who, key)


def test_ranking_metrics_reject_mismatched_inputs() -> None:
    model = NCF(3, 4, embedding_dim=2, seed=0)
    with pytest.raises(RecsysError, match="same run"):
        ranking_metrics(model, [0], [0], build_seen_matrix([], [], 3, 5))
    seen = build_seen_matrix([], [], 3, 4)
    with pytest.raises(RecsysError, match="from 1 to"):
        ranking_metrics(model, [0], [0], seen, k=0)
    with pytest.raises(RecsysError, match="one count per item"):
        ranking_metrics(model, [0], [0], seen, popularity=np.ones(3))
    with pytest.raises(RecsysError, match="empty"):
        ranking_metrics(model, [], [], seen)


def test_ranking_metrics_on_a_user_sample_equal_the_metrics_of_those_users() -> None:
    rng = np.random.default_rng(11)
    n_users, n_items = 80, 30
    model = NCF(n_users, n_items, embedding_dim=4, seed=2)
    seen = build_seen_matrix(rng.integers(0, n_users, 300), rng.integers(0, n_items, 300), n_users, n_items)
    test_users = np.arange(n_users)
    test_items = np.array([np.setdiff1d(np.arange(n_items), seen[u].indices)[0] for u in test_users])
    sampled = ranking_metrics(model, test_users, test_items, seen, k=5, max_users=25, seed=3)
    assert sampled["users"] == 25 and sampled["test_users"] == n_users
    chosen = np.sort(np.random.default_rng(3).choice(test_users, size=25, replace=False))
    direct = ranking_metrics(model, chosen, test_items[chosen], seen, k=5)
    assert sampled["model"] == pytest.approx(direct["model"])
    everyone = ranking_metrics(model, test_users, test_items, seen, k=5, max_users=n_users)
    assert everyone["model"] == pytest.approx(
        ranking_metrics(model, test_users, test_items, seen, k=5)["model"]
    )


def test_blocks_ranked_on_several_threads_give_the_same_figures(monkeypatch) -> None:
    from recsys_core.metrics import _evaluation

    rng = np.random.default_rng(3)
    n_users, n_items = 200, 50
    model = NCF(n_users, n_items, embedding_dim=8, seed=2)
    seen = build_seen_matrix(rng.integers(0, n_users, 1500), rng.integers(0, n_items, 1500), n_users, n_items)
    users, items = rng.integers(0, n_users, 300), rng.integers(0, n_items, 300)
    popularity = rng.integers(0, 9, n_items)
    figures = {}
    for threads in (1, 4):
        monkeypatch.setattr(_evaluation, "ranking_threads", lambda device, n=threads: n)
        got = ranking_metrics(model, users, items, seen, k=5, popularity=popularity, chunk_size=16)
        figures[threads] = got
    assert figures[1] == figures[4]  # every figure, to the bit: the same blocks, in their own rows
