"""ROC AUC of binary labels, in numpy: the rating metrics' AUC without importing scikit-learn.

``sklearn.metrics`` costs about 0.7 s of every process that trains or evaluates (it imports
``scipy.stats`` and more), for one function. :func:`roc_auc` is the same quantity: the chance that
a random positive scores above a random negative, ties counting half (the area under the ROC
curve with its trapezoids).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from recsys_core.errors import RecsysError


def roc_auc(actual: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve of ``scores`` for the boolean labels ``actual``.

    Parameters
    ----------
    actual
        Which pairs are positive (booleans, or 0/1).
    scores
        Any real scores, higher meaning "more likely positive".

    Returns
    -------
    float
        ``sklearn.metrics.roc_auc_score(actual, scores)`` up to the last bits; NaN when one class
        is missing.

    Raises
    ------
    RecsysError
        When the two arrays differ in length.
    """
    positive = np.asarray(actual, dtype=bool).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(positive) != len(scores):
        raise RecsysError(f"Got {len(positive)} labels but {len(scores)} scores; they must pair up.")
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="stable")
    ordered, is_pos = scores[order], positive[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    # Counts per group of equal scores, in integers: twice the numerator is exact.
    pos = np.add.reduceat(is_pos.astype(np.int64), starts)
    neg = np.add.reduceat((~is_pos).astype(np.int64), starts)
    below = np.cumsum(neg) - neg
    twice = int((pos * (2 * below + neg)).sum())
    return twice / (2 * n_pos * n_neg)
