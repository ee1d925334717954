"""The class mix of the training split before and after oversampling, in one sentence
(the frame of its chart is :func:`recsys_core.charts.class_mix`)."""

from __future__ import annotations

from collections.abc import Mapping

from recsys_core.app.views._text import percent
from recsys_core.charts import stars


def balance_sentence(before: Mapping[float, int], after: Mapping[float, int]) -> str:
    """One line saying how much the training split grows and what happens to the top class."""
    total_before = sum(int(c) for c in before.values())
    total_after = sum(int(c) for c in after.values())
    if total_before == 0:
        return "The training split is empty."
    if total_after == total_before:
        return (
            f"The training split has {total_before:,} ratings and is used as it is (every multiplier is 1)."
        )
    top = max(before, key=lambda r: int(before[r]))
    share_before = int(before[top]) / total_before
    share_after = int(after.get(top, 0)) / total_after
    return (
        f"Training grows from {total_before:,} to {total_after:,} ratings "
        f"(+{total_after - total_before:,} copies of existing ratings). "
        f"The most common class, {stars(top)}, drops from {percent(share_before)} to "
        f"{percent(share_after)} of what the model sees."
    )
