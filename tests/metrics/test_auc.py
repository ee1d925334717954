"""The numpy ROC AUC is scikit-learn's, ties included."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from recsys_core.errors import RecsysError
from recsys_core.metrics import roc_auc


@pytest.mark.parametrize("levels", [None, 5, 2])
def test_equals_sklearn_with_and_without_ties(levels) -> None:
    rng = np.random.default_rng(levels or 0)
    actual = rng.random(2_000) < 0.3
    scores = rng.normal(size=2_000) + actual
    if levels:
        scores = np.round(scores * levels / 4)  # many equal scores
    assert roc_auc(actual, scores) == pytest.approx(roc_auc_score(actual, scores), abs=1e-12)


def test_small_cases_and_one_class() -> None:
    assert roc_auc([0, 1], [0.1, 0.9]) == 1.0
    assert roc_auc([1, 0], [0.1, 0.9]) == 0.0
    assert roc_auc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert math.isnan(roc_auc([1, 1], [0.1, 0.2]))
    with pytest.raises(RecsysError):
        roc_auc([1, 0], [0.1])
