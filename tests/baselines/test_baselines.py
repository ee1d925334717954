"""Classical baselines against brute-force or closed-form references on tiny matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_core.baselines import (
    EASE,
    IALS,
    ItemKNN,
    MostPopular,
    Scorer,
    binary_interactions,
    ease_grid,
    ease_memory_bytes,
    item_similarity,
    top_k_scored,
    tune,
)
from recsys_core.errors import RecsysError

# 6 users x 5 items, ratings 1-5 (any rating is an interaction).
RATINGS = np.array(
    [
        [5, 0, 3, 0, 1],
        [4, 2, 0, 0, 0],
        [0, 5, 4, 0, 0],
        [1, 0, 0, 5, 4],
        [0, 0, 2, 4, 0],
        [3, 1, 0, 0, 5],
    ],
    dtype=np.float64,
)
TRAIN = sp.csr_matrix(RATINGS)
X = (RATINGS > 0).astype(np.float64)


def test_binary_interactions_turns_every_rating_into_one() -> None:
    matrix = binary_interactions(sp.csr_matrix(np.array([[0.0, 1.0, 5.0], [2.0, 0.0, 0.0]])))
    assert matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix.toarray(), [[0, 1, 1], [1, 0, 0]])


@pytest.mark.parametrize("scorer", [MostPopular(), ItemKNN(2), EASE(1.0), IALS(4, iterations=2)])
def test_every_baseline_is_a_scorer_and_refuses_to_score_unfitted(scorer: Scorer) -> None:
    assert isinstance(scorer, Scorer)
    with pytest.raises(RecsysError, match="not been fitted"):
        scorer.score(np.array([0]))


def test_most_popular_counts_and_tie_free_order() -> None:
    model = MostPopular().fit(TRAIN)
    np.testing.assert_array_equal(model.counts_, X.sum(axis=0))  # [4, 3, 3, 2, 3]
    scores = model.score(np.array([0, 5]))
    assert scores.dtype == np.float32 and scores.shape == (2, 5)
    # Most popular first; ties (items 1, 2, 4 with 3 each) go to the lower code.
    assert list(np.argsort(-scores[0], kind="stable")) == [0, 1, 2, 4, 3]
    items, _ = top_k_scored(model, np.array([1]), TRAIN, 2)
    assert items.tolist() == [[2, 4]]  # user 1 has items 0 and 1


def brute_force_cosine(x: np.ndarray, neighbours: int, shrink: float) -> np.ndarray:
    n_items = x.shape[1]
    sim = np.zeros((n_items, n_items))
    for i in range(n_items):
        for j in range(n_items):
            if i != j:
                both = float((x[:, i] * x[:, j]).sum())
                sim[i, j] = both / (math.sqrt(x[:, i].sum() * x[:, j].sum()) + shrink)
    for j in range(n_items):  # keep the top neighbours of each column, ties to the lower row
        order = sorted(range(n_items), key=lambda i, col=sim[:, j]: (-col[i], i))
        drop = [i for i in order[neighbours:]]
        sim[drop, j] = 0.0
    return sim


@pytest.mark.parametrize(("neighbours", "shrink"), [(2, 0.0), (1, 0.0), (3, 1.5), (10, 0.0)])
def test_item_knn_matches_brute_force_cosine(neighbours: int, shrink: float) -> None:
    model = ItemKNN(neighbours, shrink=shrink).fit(TRAIN)
    expected = brute_force_cosine(X, neighbours, shrink)
    np.testing.assert_allclose(model.similarity_.toarray(), expected, rtol=1e-6, atol=1e-7)
    users = np.arange(6)
    np.testing.assert_allclose(model.score(users), X @ expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("partition_cells", [1 << 22, 40, 1])
def test_item_similarity_in_column_blocks_equals_one_block(
    monkeypatch: pytest.MonkeyPatch, partition_cells: int
) -> None:
    """Per-column pruning on a larger random matrix (binary: many equal similarities), computed
    in many small column blocks, its long columns partitioned in blocks of any size."""
    rng = np.random.default_rng(5)
    x = (rng.random((40, 30)) < 0.3).astype(np.float64)
    expected = brute_force_cosine(x, 4, 2.0)
    monkeypatch.setattr("recsys_core.baselines._itemknn.SIMILARITY_BLOCK_WORK", 50)
    monkeypatch.setattr("recsys_core.baselines._itemknn._PARTITION_CELLS", partition_cells)
    similarity = item_similarity(sp.csr_matrix(x), 4, 2.0)
    assert similarity.dtype == np.float32 and similarity.shape == (30, 30)
    assert (np.diff(similarity.tocsc().indptr) <= 4).all()
    np.testing.assert_allclose(similarity.toarray(), expected, rtol=1e-6, atol=1e-7)


def ease_reference(x: np.ndarray, l2: float) -> np.ndarray:
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p @ np.diag(1.0 / np.diag(p))
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize("solver", ["items", "users", "auto"])
@pytest.mark.parametrize("l2", [0.5, 10.0])
def test_ease_matches_the_closed_form(solver: str, l2: float) -> None:
    b = ease_reference(X, l2)
    model = EASE(l2, solver=solver).fit(TRAIN)
    scores = model.score(np.arange(6))
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, X @ b, rtol=1e-4, atol=1e-5)
    if solver == "items":
        np.testing.assert_allclose(model.weights_, b, rtol=1e-5, atol=1e-6)


def test_ease_user_side_on_a_wide_matrix_equals_item_side() -> None:
    wide = sp.random(4, 9, density=0.5, random_state=3, format="csr")  # fewer users than items
    x = binary_interactions(wide).toarray().astype(np.float64)
    auto = EASE(2.0).fit(wide)
    assert auto.weights_ is None  # auto took the 4 x 4 user side
    np.testing.assert_allclose(auto.score(np.arange(4)), x @ ease_reference(x, 2.0), rtol=1e-4, atol=1e-5)


def test_ease_memory_and_refusal() -> None:
    assert ease_memory_bytes(1000) == 12_000_000
    assert ease_memory_bytes(1000, n_users=10) == 8 * 100 + 12 * 10 * 1000
    with pytest.raises(RecsysError, match=r"5 items would take 0\.0 GiB.*budget"):
        EASE(1.0, max_bytes=100).fit(TRAIN)
    big = sp.csr_matrix((100_000, 50_000), dtype=np.float32)
    with pytest.raises(RecsysError, match=r"50,000 items would take 27\.9 GiB"):
        EASE(1.0).fit(big)
    with pytest.raises(RecsysError, match="positive l2"):
        EASE(0.0)


def block_matrix() -> sp.csr_matrix:
    """Users 0-9 use items 0-4 (all but one each), users 10-19 items 5-9: two communities."""
    x = np.zeros((20, 10))
    x[:10, :5] = 1
    x[10:, 5:] = 1
    for u in range(20):
        x[u, (u % 5) + (0 if u < 10 else 5)] = 0  # each user misses one item of their block
    return sp.csr_matrix(x)


def test_ials_scores_its_block_above_the_other_and_is_reproducible() -> None:
    train = block_matrix()
    model = IALS(factors=2, regularization=0.1, alpha=10.0, iterations=10, seed=7).fit(train)
    scores = model.score(np.arange(20))
    assert scores.dtype == np.float32 and scores.shape == (20, 10)
    own = np.zeros((20, 10), dtype=bool)
    own[:10, :5] = own[10:, 5:] = True
    for u in range(20):  # every item of the user's block, seen or missed, beats the other block
        assert scores[u, own[u]].min() > scores[u, ~own[u]].max()
    again = IALS(factors=2, regularization=0.1, alpha=10.0, iterations=10, seed=7, threads=2).fit(train)
    np.testing.assert_array_equal(again.score(np.arange(20)), scores)
    other = IALS(factors=2, regularization=0.1, alpha=10.0, iterations=10, seed=8).fit(train)
    assert not np.array_equal(other.score(np.arange(20)), scores)


class FixedScores:
    """A scorer with given scores, to test masking and padding."""

    name = "fixed"

    def __init__(self, scores: np.ndarray) -> None:
        self.params: dict[str, float] = {}
        self.scores = np.asarray(scores, dtype=np.float32)

    def fit(self, train: sp.csr_matrix) -> FixedScores:
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.scores[users].copy()


def test_top_k_masks_seen_items_and_pads() -> None:
    scorer = FixedScores([[0.1, 0.9, 0.5, 0.5, 0.3], [1.0, 2.0, 3.0, 4.0, 5.0], [5, 4, 3, 2, 1]])
    excluded = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=bool))
    items, scores = top_k_scored(scorer, np.array([0, 1, 2]), excluded, 3)
    assert items.dtype == np.int64 and scores.dtype == np.float32
    # User 0: item 1 masked; items 2 and 3 tie at 0.5 -> the lower code first.
    assert items.tolist() == [[2, 3, 4], [4, -1, -1], [-1, -1, -1]]
    np.testing.assert_array_equal(scores[1], [5.0, -np.inf, -np.inf])
    assert np.isneginf(scores[2]).all()
    # k beyond the catalogue: one column per item; chunking does not change anything.
    items_all, _ = top_k_scored(scorer, np.array([0, 1, 2]), excluded, 50, chunk_size=1)
    assert items_all.shape == (3, 5)
    assert items_all[0].tolist() == [2, 3, 4, 0, -1]
    with pytest.raises(RecsysError, match="k"):
        top_k_scored(scorer, np.array([0]), excluded, 0)


def test_top_k_of_a_real_baseline_equals_a_full_sort() -> None:
    model = EASE(1.0).fit(TRAIN)
    users = np.arange(6)
    items, scores = top_k_scored(model, users, TRAIN, 3, chunk_size=2)
    full = model.score(users)
    full[X > 0] = -np.inf
    for u in users:
        candidates = [j for j in np.argsort(-full[u], kind="stable") if np.isfinite(full[u, j])][:3]
        assert items[u][: len(candidates)].tolist() == candidates
        np.testing.assert_allclose(scores[u][: len(candidates)], full[u, candidates])


def test_tune_keeps_the_best_grid_point() -> None:
    grid = [{"neighbours": n} for n in (1, 2, 3, 4)]
    best, params, table = tune(
        lambda p: ItemKNN(**p).fit(TRAIN), grid, lambda s: -abs(s.params["neighbours"] - 3)
    )
    assert params == {"neighbours": 3} and best.params["neighbours"] == 3
    assert [row["objective"] for row in table] == [-2, -1, 0, -1]
    assert all(row["fit_seconds"] >= 0 for row in table)
    # A tie keeps the earlier point; NaN counts as the worst.
    values = iter([math.nan, 0.5, 0.5])
    _, params, _ = tune(
        lambda p: MostPopular().fit(TRAIN), [{"a": 1}, {"a": 2}, {"a": 3}], lambda s: next(values)
    )
    assert params == {"a": 2}
    with pytest.raises(RecsysError, match="empty"):
        tune(lambda p: MostPopular(), [], lambda s: 0.0)


def test_ease_grid_scales_with_the_item_counts() -> None:
    grid = ease_grid(TRAIN)  # mean count 15 / 5 = 3
    assert [point["l2"] for point in grid][:2] == [pytest.approx(3.0 * f) for f in (0.3, 1.0)]
