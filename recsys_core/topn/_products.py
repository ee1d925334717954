"""Products as people read them: the one join of a run's product names and categories onto a table
of item codes, the ``rank, item, score`` table every top-N list is shown as, and the ``match`` that
separates a list whose scores all round to 1.

Imports neither torch nor the model, so the app's views may use it before a run is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from recsys_core.runs import Run


def with_products(run: Run, table: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """``table`` (one row per item code in ``codes``) with the run's product columns added.

    The columns are :meth:`~recsys_core.runs.Run.product_columns` (``name``, ``category``; empty
    strings for products missing from the product table); a run without a product table adds
    none. ``table`` is changed in place and returned.
    """
    for name, values in (run.product_columns() or {}).items():
        table[name] = values[codes]
    return table


def item_table(run: Run, codes: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """``rank`` (1 = best), ``item`` (the id as written) and ``score`` of item ``codes`` given best
    first, plus the product columns (:func:`with_products`)."""
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(codes) + 1, dtype=np.int64),
            "item": np.asarray(run.id_map.items[codes], dtype=object),
            "score": scores.astype(np.float64),
        }
    )
    return with_products(run, table, codes)


def relative_match(logits: np.ndarray) -> np.ndarray:
    """Each product's chance relative to the best one's: ``exp(z_i - max z)`` for ranking logits.

    ``score`` (the sigmoid of the logit) saturates at 1.000 for every suggestion of a ``softmax``
    run, whose logits run far above 0; this ratio does not. For a ``softmax`` run it is exactly
    how much less likely the model finds it that the customer picks this product next than the
    top suggestion (a ratio of its softmax probabilities); for the other objectives, the ratio of
    the odds ``σ(z) / (1 - σ(z))``. 1 for the best product, in ``(0, 1]``; NaN stays NaN. A 2-D
    array is one list per row (each relative to its own best).
    """
    z = np.asarray(logits, dtype=np.float64)
    finite = np.isfinite(z)
    if z.size == 0:
        return np.full(z.shape, np.nan)
    best = np.where(finite, z, -np.inf).max(axis=-1, keepdims=True)
    return np.where(finite, np.exp(np.where(finite, z, best) - best), np.nan)
