"""Grid search of a baseline's few hyper-parameters on the validation pairs."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recsys_core.baselines._scorer import Scorer, binary_interactions
from recsys_core.errors import RecsysError

Params = dict[str, float]

#: Neighbours kept per item.
ITEM_KNN_GRID: list[Params] = [{"neighbours": n} for n in (20, 50, 100, 200)]
#: iALS: factors x regularization x alpha (15 iterations each). Kept to 6 points: on the dense
#: Amazon sample the regularization hardly matters (0.01 to 1) while alpha does at 128 factors.
IALS_GRID: list[Params] = [
    {"factors": f, "regularization": 0.1, "alpha": a} for f in (32, 64, 128) for a in (1.0, 10.0)
]
#: EASE's l2 as multiples of the mean interactions per item (see :func:`ease_grid`).
EASE_L2_FACTORS = (0.3, 1.0, 3.0, 10.0, 30.0)


def ease_grid(train: sp.csr_matrix) -> list[Params]:
    """EASE ``l2`` on a log grid scaled with the data.

    ``l2`` competes with the diagonal of ``XᵀX``, the item counts, so the grid is
    :data:`EASE_L2_FACTORS` times the mean count of the items that have any.
    """
    counts = np.diff(binary_interactions(train).tocsc().indptr)
    scale = float(counts[counts > 0].mean()) if (counts > 0).any() else 1.0
    return [{"l2": round(scale * factor, 3)} for factor in EASE_L2_FACTORS]


def tune(
    make: Callable[[Params], Scorer],
    grid: list[Params],
    objective: Callable[[Scorer], float],
) -> tuple[Scorer, Params, list[dict[str, float]]]:
    """Fit one scorer per grid point and keep the one with the highest objective.

    Parameters
    ----------
    make
        ``params -> fitted scorer``, e.g. ``lambda p: EASE(**p).fit(train)``.
    grid
        Parameter dicts, tried in order; a tie keeps the earlier one.
    objective
        Higher is better, e.g. validation NDCG@10. A NaN counts as the worst.

    Returns
    -------
    scorer, params, table
        The best scorer (fitted), its parameters and one row per grid point:
        its parameters plus ``objective`` and ``fit_seconds`` (the time of ``make``).
    """
    if not grid:
        raise RecsysError("The tuning grid is empty; give at least one parameter set.")
    best: tuple[float, Scorer, Params] | None = None
    table: list[dict[str, float]] = []
    for params in grid:
        start = time.perf_counter()
        scorer = make(dict(params))
        seconds = time.perf_counter() - start
        value = float(objective(scorer))
        table.append({**params, "objective": value, "fit_seconds": seconds})
        rank = -math.inf if math.isnan(value) else value
        if best is None or rank > best[0]:
            best = (rank, scorer, dict(params))
        del scorer  # only the best is kept: EASE weights can be large
    assert best is not None
    return best[1], best[2], table
