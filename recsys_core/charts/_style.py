"""What every chart shares: the colours, and the rating labels on their axes (``stars``, as the
config writes a rating class)."""

from __future__ import annotations

from recsys_core.config import stars

__all__ = ["BLUE", "GREEN", "GREY", "ORANGE", "RED", "stars"]

#: "before"/training/baselines in grey-blue, "after"/validation/this model in blue; the rest for
#: a third and fourth series, and red for "surely worse".
BLUE, GREY, ORANGE, GREEN, RED = "#2563eb", "#94a3b8", "#f59e0b", "#16a34a", "#dc2626"
