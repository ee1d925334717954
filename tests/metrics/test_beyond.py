"""Beyond-accuracy measures against values computed by hand on a tiny case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys_core.errors import RecsysError
from recsys_core.metrics import (
    beyond_accuracy,
    coverage_at_k,
    diversity_at_k,
    head_items,
    head_share_at_k,
    novelty_at_k,
    popularity_profile,
)

# Two users' top-3 lists over 4 products; user 0 has only two candidates (-1 pads).
TOP = np.array([[0, 1, -1], [1, 2, 3]])
# 8 training ratings: shares 1/2, 1/4, 1/8, 1/8.
POPULARITY = np.array([4, 2, 1, 1])
CATEGORIES = np.array(["audio", "audio", "camera", ""], dtype=object)


def test_coverage() -> None:
    assert coverage_at_k(TOP, 4, k=3) == 1.0
    assert coverage_at_k(TOP, 4, k=1) == 0.5  # products 0 and 1
    assert coverage_at_k(TOP, 8, k=3) == 0.5


def test_novelty_is_the_mean_surprisal_of_what_is_shown() -> None:
    # shown: 0, 1, 1, 2, 3 -> -log2 shares 1, 2, 2, 3, 3
    assert novelty_at_k(TOP, POPULARITY, k=3) == pytest.approx(11 / 5)
    assert novelty_at_k(TOP, POPULARITY, k=1) == pytest.approx((1 + 2) / 2)
    assert novelty_at_k(np.full((2, 3), -1), POPULARITY) is None
    # A product with no rating counts as rated once: finite.
    assert math.isfinite(novelty_at_k(np.array([[1]]), np.array([3, 0])))


def test_head_share() -> None:
    # head = ceil(10 % of 4) = 1 product, the most rated (0); shown 5 times, once from the head
    assert head_items(POPULARITY).tolist() == [True, False, False, False]
    assert head_share_at_k(TOP, POPULARITY, k=3) == pytest.approx(1 / 5)
    # ties go to the lower code: 10 equal products -> product 0 is the head
    assert np.flatnonzero(head_items(np.ones(10))).tolist() == [0]
    assert np.flatnonzero(head_items(np.arange(20))).tolist() == [18, 19]


def test_diversity() -> None:
    # user 0: audio, audio -> 1/2; user 1: audio, camera, unknown -> 3/3
    assert diversity_at_k(TOP, CATEGORIES, k=3) == pytest.approx(0.75)
    assert diversity_at_k(TOP, CATEGORIES, k=1) == pytest.approx(1.0)
    assert diversity_at_k(TOP, None) is None
    assert diversity_at_k(TOP, np.array(["", "", "", ""], dtype=object)) is None
    # a user with an empty list is left out
    padded = np.array([[-1, -1, -1], [1, 2, 3]])
    assert diversity_at_k(padded, CATEGORIES, k=3) == pytest.approx(1.0)


def test_beyond_accuracy_bundles_the_four() -> None:
    result = beyond_accuracy(TOP, POPULARITY, CATEGORIES, k=3)
    assert result == pytest.approx(
        {"coverage_at_k": 1.0, "novelty_at_k": 2.2, "head_share_at_k": 0.2, "diversity_at_k": 0.75}
    )
    assert beyond_accuracy(TOP, POPULARITY, k=3)["diversity_at_k"] is None


def test_popularity_profile() -> None:
    frame = popularity_profile(TOP, POPULARITY, k=3, n_buckets=2)
    assert frame["rank_from"].tolist() == [1, 3]
    assert frame["rank_to"].tolist() == [2, 4]
    assert frame["ratings_share"].tolist() == pytest.approx([0.75, 0.25])
    # shown 0, 1, 1 in the top bucket, 2, 3 in the other
    assert frame["recommendation_share"].tolist() == pytest.approx([0.6, 0.4])


def test_bad_input_is_refused() -> None:
    with pytest.raises(RecsysError):
        coverage_at_k(np.array([0, 1]), 4)
    with pytest.raises(RecsysError):
        novelty_at_k(TOP, np.array([-1, 2, 1, 1]))
