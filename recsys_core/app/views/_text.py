"""Small formatting helpers shared by the app's sentences and tables."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from recsys_core.charts import stars


def percent(share: float | None, digits: int = 0) -> str:
    """``0.8612 -> "86 %"`` (the space is the house style of the app's sentences).

    Undefined shares (``None``, NaN) read ``"n/a"``.
    """
    if share is None or not np.isfinite(share):
        return "n/a"
    return f"{100 * share:.{digits}f} %"


def multipliers_text(multipliers: Mapping[float, float]) -> str:
    """``{1: 2.5, 2: 3} -> "1★ ×2.5, 2★ ×3"``; factors of 1 are left out."""
    parts = [f"{stars(r)} ×{f:g}" for r, f in sorted(multipliers.items()) if float(f) != 1.0]
    return ", ".join(parts) if parts else "none (every class untouched)"
