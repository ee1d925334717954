"""Small formatting helpers shared by the app's sentences and tables."""

from __future__ import annotations

import numpy as np

from recsys_core.config import multipliers_text, stars

__all__ = ["multipliers_text", "percent", "stars"]


#: Most decimals :func:`percent` adds so that a share never reads as 0 % or 100 % when it is not.
MAX_PERCENT_DIGITS = 4


def percent(share: float | None, digits: int = 0) -> str:
    """``0.8612 -> "86 %"`` (the space is the house style of the app's sentences).

    A share strictly between 0 and 1 never reads as "0 %" or "100 %": it gets more decimals
    (``0.99997 -> "99.997 %"``, ``0.0004 -> "0.04 %"``), up to :data:`MAX_PERCENT_DIGITS`, and past
    them reads ``"under 0.0001 %"`` / ``"over 99.9999 %"``. Undefined shares (``None``, NaN) read
    ``"n/a"``.
    """
    if share is None or not np.isfinite(share):
        return "n/a"
    value = 100 * float(share)
    inside = 0 < value < 100
    for places in range(digits, max(digits, MAX_PERCENT_DIGITS) + 1):
        text = f"{value:.{places}f}"
        if not inside or float(text) not in (0.0, 100.0):
            return f"{text} %"
    edge = 10.0**-MAX_PERCENT_DIGITS
    return (
        f"under {edge:.{MAX_PERCENT_DIGITS}f} %"
        if value < 50
        else f"over {100 - edge:.{MAX_PERCENT_DIGITS}f} %"
    )
