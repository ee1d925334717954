"""What every chart shares: the colours and the rating labels on their axes."""

from __future__ import annotations

#: "before"/training/baselines in grey-blue, "after"/validation/this model in blue; the rest for
#: a third and fourth series, and red for "surely worse".
BLUE, GREY, ORANGE, GREEN, RED = "#2563eb", "#94a3b8", "#f59e0b", "#16a34a", "#dc2626"


def stars(rating: float) -> str:
    """``4.0 -> "4★"``, ``3.5 -> "3.5★"``: a rating class as the charts and sentences name it."""
    return f"{float(rating):g}★"
