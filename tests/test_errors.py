"""The one count check: every "how many" argument refuses the same things with the same words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from model_runs import model_run

from recsys_core.baselines import EASE, MostPopular, top_k_scored
from recsys_core.config import TrainConfig
from recsys_core.errors import RecsysError, check_count, plain
from recsys_core.metrics import beyond_accuracy, ranking_metrics
from recsys_core.model import NCF, Blend
from recsys_core.runs import Run
from recsys_core.topn import popular_items, recommend, recommend_visitors, similar_items

REFUSED = [0, -2, 1.5, 2.0, True, False, "3", None, np.float64(3.0)]


@pytest.mark.parametrize("bad", REFUSED)
def test_refuses_what_is_not_a_whole_number_of_at_least_one(bad: object) -> None:
    with pytest.raises(RecsysError, match=r"^n must be a whole number of at least 1, not "):
        check_count(bad, "n")


@pytest.mark.parametrize("good", [1, 7, np.int64(3), np.int32(12), np.uint8(2)])
def test_accepts_python_and_numpy_integers_as_int(good: object) -> None:
    value = check_count(good, "n")
    assert value == int(good) and type(value) is int


@pytest.fixture(scope="module")
def tiny_run() -> Run:
    torch.manual_seed(0)
    model = NCF(3, 4, embedding_dim=2, seed=0)
    return model_run(model, ["a", "b", "c"], ["p", "q", "r", "s"], np.array([0, 1, 2]), np.array([0, 1, 2]))


def test_every_caller_refuses_with_the_one_message(tiny_run: Run) -> None:
    seen = sp.csr_matrix((3, 4), dtype=bool)
    calls = {
        "recommend": lambda bad: recommend(tiny_run, "a", n=bad),
        "popular": lambda bad: popular_items(tiny_run, bad),
        "similar": lambda bad: similar_items(tiny_run, "p", bad),
        "visitors": lambda bad: recommend_visitors(tiny_run, _visitor(), bad),
        "ranking": lambda bad: ranking_metrics(tiny_run.model, [0], [3], seen, k=bad),
        "baseline": lambda bad: top_k_scored(MostPopular().fit(seen.astype(np.float32)), [0], seen, bad),
        "beyond": lambda bad: beyond_accuracy(np.zeros((1, 2), dtype=int), np.ones(4), None, bad),
    }
    for name, call in calls.items():
        for bad in (0, 1.5, True, "3", 10**9):
            with pytest.raises(RecsysError, match=r"must be a whole number from 1 to [\d,]+, not ") as caught:
                call(bad)
            shown = f"{bad:,}" if type(bad) is int else repr(bad)
            assert f"not {shown}." in str(caught.value), name


@pytest.mark.parametrize("bad", [101, 10**30, np.int64(2**40)])
def test_an_upper_bound_is_said_in_the_message(bad: object) -> None:
    with pytest.raises(RecsysError, match=r"^n must be a whole number from 1 to 100, not [\d,]+\.$"):
        check_count(bad, "n", most=100)


def test_least_zero_accepts_zero_and_numpy_values_show_as_plain_numbers() -> None:
    assert check_count(0, "n_boot", least=0, most=10) == 0
    with pytest.raises(RecsysError, match=r"from 0 to 10, not -1\.$"):
        check_count(np.int64(-1), "n_boot", least=0, most=10)


def _visitor() -> pd.DataFrame:
    return pd.DataFrame({"user": ["v"], "item": ["p"], "rating": [5.0]})


@pytest.mark.parametrize(
    ("value", "shown"),
    [(np.float64(6.0), "6"), (np.float32(4.5), "4.5"), (np.int64(3), "3"), (np.float64("inf"), "inf"),
     (6.0, "6"), (-1, "-1"), (1e300, "1e+300"), (True, "True"), ("abc", "'abc'"), (None, "None")],
)  # fmt: skip
def test_plain_shows_numbers_as_people_write_them(value: object, shown: str) -> None:
    assert plain(value) == shown


def test_messages_show_numpy_numbers_plainly(tiny_run: Run) -> None:
    """Issue 23, item 13: "(first: np.float64(6.0) for product …)" became "(first: 6 for …)"."""
    frame = pd.DataFrame({"user": ["v", "v"], "item": ["p", "q"], "rating": np.array([4.0, 6.0])})
    with pytest.raises(RecsysError, match=r"\(first: 6 for product 'q'\)"):
        recommend_visitors(tiny_run, frame)
    frame["rating"] = ["4", "lots"]
    with pytest.raises(RecsysError, match=r"\(first: 'lots' for product 'q'\)"):
        recommend_visitors(tiny_run, frame)
    problems = [
        lambda: Blend(sp.csr_matrix((4, 4), dtype=np.float32), np.float32(-2.0)),
        lambda: TrainConfig(learning_rate=np.float64("nan")),
        lambda: TrainConfig(epochs=np.float64(2.5)),
        lambda: EASE(l2=np.float64(0.0)),
    ]
    for problem in problems:
        with pytest.raises(RecsysError) as caught:
            problem()
        assert "np." not in str(caught.value) and "float" not in str(caught.value).split("not ")[-1]
