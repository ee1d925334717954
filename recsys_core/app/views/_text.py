"""Small formatting helpers shared by the app's sentences and tables."""

from __future__ import annotations

import numpy as np

from recsys_core.config import multipliers_text, stars

__all__ = ["multipliers_text", "percent", "stars"]


def percent(share: float | None, digits: int = 0) -> str:
    """``0.8612 -> "86 %"`` (the space is the house style of the app's sentences).

    Undefined shares (``None``, NaN) read ``"n/a"``.
    """
    if share is None or not np.isfinite(share):
        return "n/a"
    return f"{100 * share:.{digits}f} %"
